import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelFields, poLineOf, receivePrefill } from '../logic/codes.js';
import { matching } from '../views/receivepo.js';

const GS = '\x1d';
const RS = '\x1e';

test('an ISO 15434 label with a PO number (K) and line (4K) fills the PO line as the server names it', () => {
  const label = `[)>${RS}06${GS}PPUMP${GS}SP-7${GS}KPO-2026-0001${GS}4K002${RS}\x04`;
  assert.deepEqual(receivePrefill(labelFields(label)), { part: 'PUMP', serial: 'P-7', po_line: 'PO-2026-0001/2' });
  const other = `[)>${RS}06${GS}PBOLT${GS}Q40${GS}14K7${GS}KACME-9${RS}\x04`;
  assert.equal(receivePrefill(labelFields(other)).po_line, 'ACME-9/7');
});

test('a GS1 label\'s AI 400 carries the PO number and line in one', () => {
  assert.equal(receivePrefill(labelFields('(01)09506000134352(10)LOT-7(400)PO-2026-0001/2')).po_line, 'PO-2026-0001/2');
});

test('a PO number without a line is kept as it is (the phone finds the line by the part)', () => {
  assert.equal(poLineOf('PO-2026-0001', null), 'PO-2026-0001');
  assert.equal(poLineOf('PO-2026-0001/3', '9'), 'PO-2026-0001/3');
  assert.equal(poLineOf(null, 'PO-1/4'), 'PO-1/4');
  assert.equal(poLineOf(null, '4'), null);
  assert.equal(poLineOf('P0-1337', '011'), 'P0-1337/11'); // the server's reading: {po, po_line}
});

test('Receive PO filters the open lines by supplier, PO number or part', () => {
  const lines = [{ po_line: 'PO-2026-0001/1', supplier: 'Acme Pumps', part: 'PUMP' },
    { po_line: 'PO-2026-0002/1', supplier: 'Bolt Co', part: 'BOLT-M8' }];
  assert.deepEqual(matching(lines, 'pumps').map((l) => l.po_line), ['PO-2026-0001/1']);
  assert.deepEqual(matching(lines, 'PO-2026-0002').map((l) => l.po_line), ['PO-2026-0002/1']);
  assert.deepEqual(matching(lines, 'bolt').map((l) => l.po_line), ['PO-2026-0002/1']);
  assert.equal(matching(lines, ' ').length, 2);
});
