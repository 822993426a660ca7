import { test } from 'node:test';
import assert from 'node:assert/strict';
import { genealogy } from '../logic/trace.js';

test("a unit's genealogy lists what it is made of depth first, then what it went into and the runs", () => {
  const node = (serial, components = []) => ({ part: 'P', serial, lot: null, quantity: 1, location: 'A', components });
  const report = {
    subject: { serial: 'ASM-1' },
    down: [node('SUB-1', [node('C-1'), node('C-2', [node('D-1')])]), node('SUB-2')],
    up: [{ part: 'TOP', serial: 'TOP-1', location: 'LINE' }],
    runs: [{ run: 'RUN-1', state: 'completed', kind: 'produced', part: 'ASM', serial: 'ASM-1', quantity: 1 }],
    ops: [],
  };
  const { down, up, runs } = genealogy(report);
  assert.deepEqual(down.map((n) => [n.serial, n.depth]), [['SUB-1', 0], ['C-1', 1], ['C-2', 1], ['D-1', 2], ['SUB-2', 0]]);
  assert.deepEqual(up.map((n) => n.serial), ['TOP-1']);
  assert.deepEqual(runs.map((r) => r.run), ['RUN-1']);
});

test('a report with nothing above or below lists nothing', () => {
  assert.deepEqual(genealogy({ subject: {}, down: [], up: [], runs: [], ops: [] }), { down: [], up: [], runs: [] });
});
