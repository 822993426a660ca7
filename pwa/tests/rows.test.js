import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDelta, expiresBefore, fefo, normalizeRow, planOp, rowKey, viewOf, keysOf } from '../logic/rows.js';

const op = (type, args, op_id = 'op-1') => ({ op_id, type, args });

test('row keys follow the server natural keys', () => {
  assert.equal(rowKey({ serial: 'SN-1', part: 'P', location: 'A' }), 'S|SN-1');
  assert.equal(rowKey({ part: 'P', lot: 'L1', location: 'A' }), 'L|P|L1|A|');
  assert.equal(rowKey({ part: 'P', location: 'A', isolated: true }), 'U|P||A|i');
  assert.equal(rowKey({ part: 'P', location: 'A', installed_in: 'SN-9' }), 'U|P||@SN-9|');
});

test('normalizeRow accepts the inventory row the server sends', () => {
  const row = normalizeRow({ id: 'x', part: 'P', tracking: 'lot', lot: 'L', location: 'A', quantity: 5, status: 'available' });
  assert.equal(row.part, 'P');
  assert.equal(row.quantity, 5);
  assert.equal(normalizeRow({ part_number: 'Q', location_code: 'B', quantity: '2' }).location, 'B');
});

test('receive of a serial creates the unit; of a lot adds to the lot row', () => {
  const [d] = planOp(op('receive', { part: 'P', tracking: 'serial', serial: 'SN-1', location: 'DOCK', quantity: 1 }));
  const unit = applyDelta(null, d);
  assert.equal(d.key, 'S|SN-1');
  assert.deepEqual([unit.location, unit.quantity, unit.status, unit.pending], ['DOCK', 1, 'available', true]);

  const [l] = planOp(op('receive', { part: 'P', tracking: 'lot', lot: 'L1', location: 'DOCK', quantity: 7 }));
  const existing = { part: 'P', tracking: 'lot', lot: 'L1', location: 'DOCK', quantity: 3, status: 'available' };
  assert.equal(applyDelta(existing, l).quantity, 10);
});

test('generated serials and lots get a placeholder row per op', () => {
  const [d] = planOp(op('receive', { part: 'P', tracking: 'serial', location: 'A', quantity: 1 }, 'abc'));
  assert.equal(d.key, 'S|?abc');
  const [l] = planOp(op('receive', { part: 'P', tracking: 'lot', location: 'A', quantity: 2 }, 'abc'));
  assert.equal(l.key, 'L|P|?abc|A|');
});

test('partial move of untracked stock splits between two rows', () => {
  const deltas = planOp(op('move', { part: 'P', tracking: 'untracked', from_location: 'A', to_location: 'B', quantity: 4 }));
  assert.deepEqual(keysOf(deltas), ['U|P||A|', 'U|P||B|']);
  const from = applyDelta({ part: 'P', tracking: 'untracked', location: 'A', quantity: 10, status: 'available' }, deltas[0]);
  const to = applyDelta(null, deltas[1]);
  assert.equal(from.quantity, 6);
  assert.deepEqual([to.location, to.quantity, to.status], ['B', 4, 'available']);
});

test('moving everything leaves an empty, unavailable row', () => {
  const [from] = planOp(op('move', { part: 'P', tracking: 'lot', lot: 'L', from_location: 'A', to_location: 'B', quantity: 5 }));
  const row = applyDelta({ part: 'P', tracking: 'lot', lot: 'L', location: 'A', quantity: 5, status: 'available' }, from);
  assert.equal(row.quantity, 0);
  assert.equal(row.status, 'unavailable');
});

test('install, uninstall, scrap and isolate of a unit change its status', () => {
  const unit = { part: 'P', tracking: 'serial', serial: 'C-1', location: 'A', quantity: 1, status: 'available' };
  const installed = viewOf(unit, planOp(op('install', { parent_serial: 'SN-1', part: 'P', tracking: 'serial', serial: 'C-1', quantity: 1 })));
  assert.deepEqual([installed.status, installed.installed_in], ['installed', 'SN-1']);
  const back = viewOf(installed, planOp(op('uninstall', { parent_serial: 'SN-1', part: 'P', tracking: 'serial', serial: 'C-1', to_location: 'B', quantity: 1 })));
  assert.deepEqual([back.status, back.location, back.installed_in], ['available', 'B', null]);
  assert.equal(viewOf(unit, planOp(op('scrap', { part: 'P', tracking: 'serial', serial: 'C-1', location: 'A', quantity: 1, reason: 'x' }))).status, 'scrapped');
  assert.equal(viewOf(unit, planOp(op('isolate', { part: 'P', tracking: 'serial', serial: 'C-1', location: 'A', quantity: 1, reason: 'x' }))).status, 'unavailable');
});

test('installing part of a lot moves that quantity onto the parent', () => {
  const deltas = planOp(op('install', { parent_serial: 'SN-1', part: 'P', tracking: 'lot', lot: 'L', from_location: 'A', quantity: 2 }));
  assert.deepEqual(keysOf(deltas), ['L|P|L|A|', 'L|P|L|@SN-1|']);
  assert.equal(applyDelta(null, deltas[1]).status, 'installed');
});

test('viewOf replays deltas on the server row: the server row is the base', () => {
  const server = { part: 'P', tracking: 'untracked', location: 'A', quantity: 10, status: 'available' };
  const d = planOp(op('move', { part: 'P', tracking: 'untracked', from_location: 'A', to_location: 'B', quantity: 3 }));
  assert.equal(viewOf(server, [d[0], d[0]]).quantity, 4);
  assert.equal(viewOf(server, []).pending, false);
  assert.equal(viewOf(null, []), null);
});

import { dependencyKeys } from '../logic/rows.js';

test('an op depends on what it takes from and on its parent unit, never on stock it only adds to', () => {
  const receive = op('receive', { part: 'P', tracking: 'untracked', location: 'A', quantity: 5 });
  assert.deepEqual(dependencyKeys(receive, planOp(receive)), []);
  const move = op('move', { part: 'P', tracking: 'untracked', from_location: 'A', to_location: 'B', quantity: 1 });
  assert.deepEqual(dependencyKeys(move, planOp(move)), ['U|P||A|']);
  const install = op('install', { parent_serial: 'SN-1', part: 'M', tracking: 'serial', serial: 'M-1', quantity: 1 });
  assert.deepEqual(dependencyKeys(install, planOp(install)), ['S|M-1', 'S|SN-1']);
});

test('a pick into a kit moves stock into its tote, Kitted; a problem reported with isolate sets it aside', () => {
  const unit = planOp({ type: 'kit', tote: 'LINE-1/KIT-0001', args: { kit: 'KIT-0001', part: 'P', tracking: 'serial', serial: 'S1', from_location: 'A', quantity: 1 } });
  assert.deepEqual(unit, [{ key: 'S|S1', set: { location: 'LINE-1/KIT-0001', kitted: true } }]);
  const row = applyDelta({ part: 'P', tracking: 'serial', serial: 'S1', location: 'A', quantity: 1, status: 'available' }, unit[0]);
  assert.equal(row.status, 'kitted');
  const lot = planOp({ type: 'kit', tote: 'T', args: { kit: 'K', part: 'R', tracking: 'lot', lot: 'L1', from_location: 'A', quantity: '2.5' } });
  assert.deepEqual(lot.map((d) => [d.key, d.add]), [['L|R|L1|A|', '-2.5'], ['L|R|L1|T|', '2.5']]);
  assert.equal(applyDelta(null, lot[1]).status, 'kitted');
  assert.deepEqual(planOp({ type: 'kit', args: { part: 'P', tracking: 'serial', serial: 'S1' } }), []); // no tote known
  const bolts = { part: 'B', tracking: 'untracked', serial: null, lot: null, location: 'A', quantity: 40 };
  const aside = planOp({ type: 'open_issue', row: bolts, args: { title: 'bent', part: 'B', location: 'A', isolate: true } });
  assert.deepEqual(aside.map((d) => [d.key, d.add]), [['U|B||A|', -40], ['U|B||A|i', 40]]);
  assert.deepEqual(planOp({ type: 'open_issue', row: bolts, args: { title: 'bent', part: 'B', location: 'A' } }), []);
});

test('an issue to a run moves stock into its WIP location, WIP (a kitted unit too)', () => {
  const unit = planOp({ type: 'issue', wip: 'LINE/RUN-1', args: { run: 'RUN-1', part: 'B', tracking: 'serial', serial: 'BD-1', from_location: 'LINE/KIT-0001', quantity: 1 } });
  assert.deepEqual(unit, [{ key: 'S|BD-1', set: { location: 'LINE/RUN-1', wip: true, kitted: false } }]);
  assert.equal(applyDelta({ part: 'B', serial: 'BD-1', location: 'LINE/KIT-0001', quantity: 1, kitted: true, status: 'kitted' }, unit[0]).status, 'wip');
  const lot = planOp({ type: 'issue', wip: 'LINE/RUN-1', args: { run: 'RUN-1', part: 'G', tracking: 'lot', lot: 'G-1', from_location: 'STORES', quantity: '0.25' } });
  assert.deepEqual(lot.map((d) => [d.key, d.add]), [['L|G|G-1|STORES|', '-0.25'], ['L|G|G-1|LINE/RUN-1|', '0.25']]);
  assert.equal(applyDelta(null, lot[1]).status, 'wip');
  assert.deepEqual(planOp({ type: 'issue', args: { run: 'R', part: 'B', tracking: 'serial', serial: 'BD-1' } }), []); // no WIP place known
});

test('use (remove): a unit becomes removed with nothing in it; a lot goes down where it was', () => {
  const unit = { part: 'P', tracking: 'serial', serial: 'C-1', location: 'A', quantity: 1, status: 'available' };
  const used = viewOf(unit, planOp(op('remove', { part: 'P', tracking: 'serial', serial: 'C-1', location: 'A', quantity: 1, reason: 'Repair' })));
  assert.deepEqual([used.status, used.quantity], ['removed', 0]);
  const [d] = planOp(op('remove', { part: 'P', tracking: 'lot', lot: 'L', location: 'A', quantity: '1.5', reason: 'Repair' }));
  const lot = applyDelta({ part: 'P', tracking: 'lot', lot: 'L', location: 'A', quantity: 4, status: 'available' }, d);
  assert.deepEqual([d.key, String(lot.quantity), lot.status], ['L|P|L|A|', '2.5', 'available']);
});

test('FEFO: the first expiring first, those without an expiry after, then the oldest; only available stock', () => {
  const row = (id, lot, expiry, extra = {}) => ({ id, part: 'P', lot, location: 'A', quantity: 5, status: 'available', expiry, ...extra });
  const rows = [
    row('0190-c', 'L-OLD-NONE', null), row('0190-a', 'L-NONE', null), row('0190-e', 'L-LATE', '2027-03-01'),
    row('0190-b', 'L-SOON', '2027-01-05'), row('0190-d', 'L-SOON-B', '2027-01-05'),
    row('0190-f', 'L-EMPTY', '2026-12-01', { quantity: 0 }), row('0190-g', 'L-HELD', '2026-12-02', { status: 'unavailable' }),
  ];
  assert.deepEqual(fefo(rows).map((r) => r.lot), ['L-SOON', 'L-SOON-B', 'L-LATE', 'L-NONE', 'L-OLD-NONE']);
  assert.deepEqual(normalizeRow({ id: 'x', part: 'P', lot: 'L', location: 'A', quantity: 1, expiry: '2027-01-05' }).expiry, '2027-01-05');
});

test('a lot scanned after another that expires first is named; the first one, the same lot or an earlier one is not', () => {
  const first = [{ lot: 'L-B', expiry: '2027-01-05', location: 'A' }, { lot: 'L-A', expiry: '2027-02-01', location: 'B' }];
  assert.equal(expiresBefore(first, { lot: 'L-A', expiry: '2027-02-01' }).lot, 'L-B');
  assert.equal(expiresBefore(first, { lot: 'L-X', expiry: null }).lot, 'L-B'); // no expiry: after every date
  assert.equal(expiresBefore(first, { lot: 'L-B', expiry: '2027-01-05' }), null);
  assert.equal(expiresBefore(first, { lot: 'L-C', expiry: '2027-01-05' }), null); // as soon: not before
  assert.equal(expiresBefore([{ lot: 'L-N', expiry: null }], { lot: 'L-M', expiry: null }), null);
  assert.equal(expiresBefore([], { lot: 'L-M', expiry: null }), null);
});
