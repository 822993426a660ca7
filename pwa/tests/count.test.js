import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countArgs, countedOf, countSummary, inScope, lineKey, lineState, ownWork, progress, sheetOf, subtree, uncountedSerials } from '../logic/count.js';
import { readFileSync } from 'node:fs';
import { use } from '../i18n.js';

use(JSON.parse(readFileSync(new URL('../locales/en.json', import.meta.url), 'utf8'))); // the English words

const LOCATIONS = [
  { code: 'CAGE', parent: null }, { code: 'CAGE/S1', parent: 'CAGE' }, { code: 'CAGE/S1/B1', parent: 'CAGE/S1' },
  { code: 'CAGE/S2', parent: 'CAGE' }, { code: 'LINE', parent: null },
];
const CAGE = { id: 'c1', kind: 'location', location: 'CAGE', part: null, blind: true };
const row = (extra) => ({ tracking: 'untracked', lot: null, serial: null, installed_in: null, scrapped: false, quantity: 1, ...extra });

test('a location count covers the location and everything below it', () => {
  assert.deepEqual([...subtree(LOCATIONS, 'CAGE')].sort(), ['CAGE', 'CAGE/S1', 'CAGE/S1/B1', 'CAGE/S2']);
  assert.deepEqual([...subtree(LOCATIONS, 'CAGE/S1')].sort(), ['CAGE/S1', 'CAGE/S1/B1']);
  const codes = subtree(LOCATIONS, 'CAGE');
  assert.equal(inScope(CAGE, codes, 'CAGE/S1/B1'), true);
  assert.equal(inScope(CAGE, codes, 'LINE'), false);
  const seals = { id: 'c2', kind: 'part', part: 'SEAL' };
  assert.equal(inScope(seals, new Set(), 'LINE', 'SEAL'), true);
  assert.equal(inScope(seals, new Set(), 'LINE', 'SCREW'), false);
});

test('the sheet: one line per unit and per part + lot + place, without installed, scrapped or empty stock', () => {
  const rows = [
    row({ part: 'PUMP', tracking: 'serial', serial: 'P-1', location: 'CAGE/S1', lot: 'L-x' }),
    row({ part: 'PUMP', tracking: 'serial', serial: 'P-2', location: 'CAGE/S1', installed_in: 'ASM-1' }),
    row({ part: 'SEAL', tracking: 'lot', lot: 'L-1', location: 'CAGE/S1', quantity: 35 }),
    row({ part: 'SEAL', tracking: 'lot', lot: 'L-1', location: 'CAGE/S1', quantity: 3, isolated: true }),
    row({ part: 'SCREW', location: 'CAGE/S2', quantity: 0 }),
    row({ part: 'SCREW', location: 'CAGE/S2', quantity: 9, scrapped: true }),
    row({ part: 'SCREW', location: 'LINE', quantity: 100 }),
    null,
  ];
  const sheet = sheetOf(CAGE, rows, subtree(LOCATIONS, 'CAGE'));
  assert.deepEqual(sheet.map((l) => [l.location, l.part, l.lot, l.serial, l.expected]), [
    ['CAGE/S1', 'PUMP', null, 'P-1', 1],
    ['CAGE/S1', 'SEAL', 'L-1', null, 38],
  ]);
  assert.equal(sheet[0].key, lineKey({ location: 'CAGE/S1', part: 'PUMP', serial: 'P-1', lot: 'L-x' }));
  const part = sheetOf({ kind: 'part', part: 'SCREW' }, rows, new Set());
  assert.deepEqual(part.map((l) => [l.location, l.expected]), [['LINE', 100]]);
});

test('the latest line wins: server lines by version, then this phone’s own unanswered counts', () => {
  const server = [
    { count_id: 'c1', location: 'CAGE/S1', part: 'SEAL', lot: 'L-1', serial: null, counted_quantity: 37, actor: 'bob', version: 9 },
    { count_id: 'c1', location: 'CAGE/S1', part: 'SEAL', lot: 'L-1', serial: null, counted_quantity: 35, actor: 'olga', version: 4 },
    { count_id: 'c9', location: 'CAGE/S1', part: 'SEAL', lot: 'L-1', serial: null, counted_quantity: 1, actor: 'x', version: 99 },
  ];
  const key = lineKey({ location: 'CAGE/S1', part: 'SEAL', lot: 'L-1' });
  assert.deepEqual(countedOf('c1', server, []).get(key), { counted: 37, actor: 'bob', pending: false, order: 9 });
  const mine = [
    { seq: 12, type: 'count', actor: 'olga', args: { count_id: 'c1', location: 'CAGE/S1', part: 'SEAL', lot: 'L-1', counted_quantity: 38 } },
    { seq: 11, type: 'count', actor: 'olga', args: { count_id: 'c1', location: 'CAGE/S1', part: 'SEAL', lot: 'L-1', counted_quantity: 36 } },
    { seq: 13, type: 'move', actor: 'olga', args: {} },
  ];
  const counted = countedOf('c1', server, mine);
  assert.equal(counted.get(key).counted, 38);
  assert.equal(counted.get(key).pending, true);
  assert.equal(counted.size, 1);
});

test('progress counts the expected lines counted, and finds apart', () => {
  const sheet = [{ key: 'a' }, { key: 'b' }, { key: 'c' }];
  const counted = new Map([['a', {}], ['c', {}], ['z', {}]]);
  assert.deepEqual(progress(sheet, counted), { expected: 3, counted: 2, found: 1 });
  assert.deepEqual(progress([], new Map()), { expected: 0, counted: 0, found: 0 });
});

test('a serial is present or missing; lots and untracked stock take a quantity', () => {
  const unit = { key: 'u', location: 'CAGE/S1', part: 'PUMP', tracking: 'serial', serial: 'P-1', lot: null, expected: 1 };
  const lot = { key: 'l', location: 'CAGE/S1', part: 'SEAL', tracking: 'lot', serial: null, lot: 'L-1', expected: 40 };
  assert.deepEqual(countArgs(CAGE, unit, 0), { part: 'PUMP', tracking: 'serial', serial: 'P-1', location: 'CAGE/S1', counted_quantity: 0, count_id: 'c1' });
  assert.deepEqual(countArgs(CAGE, lot, 37), { part: 'SEAL', tracking: 'lot', lot: 'L-1', location: 'CAGE/S1', counted_quantity: 37, count_id: 'c1' });
  assert.throws(() => countArgs(CAGE, unit, 2));
  assert.throws(() => countArgs(CAGE, lot, -1));
  assert.throws(() => countArgs(CAGE, lot, 'many'));
  assert.equal(countArgs(CAGE, lot, '1.750').counted_quantity, '1.75'); // decimal quantities: exact, in their one form
  assert.equal(countSummary(countArgs(CAGE, unit, 0)), 'Count P-1 at CAGE/S1: missing');
  assert.equal(countSummary(countArgs(CAGE, lot, 37)), 'Count SEAL lot L-1 at CAGE/S1: 37');
  const counted = new Map([['u', { counted: 0, pending: true }]]);
  assert.deepEqual(lineState(unit, counted), { done: true, text: 'missing', pending: true });
  assert.deepEqual(lineState(lot, counted), { done: false, text: 'not counted' });
  assert.deepEqual(uncountedSerials([unit, lot, { ...unit, key: 'u2', serial: 'P-2' }], counted, 'CAGE/S1').map((l) => l.serial), ['P-2']);
});

test('the phone’s own unanswered work shows beside what the server expects, per line', () => {
  const codes = subtree(LOCATIONS, 'CAGE');
  const lotAt = (location, quantity) => row({ part: 'SEAL', tracking: 'lot', lot: 'L1', location, quantity });
  const records = [
    { server: lotAt('CAGE/S1', 2480), view: lotAt('CAGE/S1', 2440) }, // moved 40 out
    { server: null, view: lotAt('CAGE/S2', 40) }, // … to here: only the phone has it
    { server: row({ part: 'PUMP', tracking: 'serial', serial: 'P1', location: 'CAGE/S1' }), view: row({ part: 'PUMP', tracking: 'serial', serial: 'P1', location: 'LINE' }) },
    { server: lotAt('CAGE/S2', 5), view: lotAt('CAGE/S2', 5) }, // nothing of the phone's own
  ];
  const work = ownWork(CAGE, records, codes);
  assert.deepEqual(Object.fromEntries(work), { 'CAGE/S1|SEAL|L1|': -40, 'CAGE/S2|SEAL|L1|': 40, 'CAGE/S1|PUMP||P1': -1 });
  assert.deepEqual(Object.fromEntries(ownWork({ kind: 'part', part: 'PUMP' }, records, new Set())), { 'CAGE/S1|PUMP||P1': -1, 'LINE|PUMP||P1': 1 });
});
