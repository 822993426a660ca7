import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWedge } from '../logic/wedge.js';
import { createDeduper } from '../logic/dedupe.js';
import { clean, labelFields, parseGs1, parseIso15434, receivePrefill } from '../logic/codes.js';

const type = (wedge, text, start, gap) => {
  let t = start; let out = null;
  for (const ch of [...text, 'Enter']) { out = wedge.feed(ch, t); t += gap; }
  return out;
};

test('a fast burst ending in Enter is a scan; slow typing is not', () => {
  const wedge = createWedge();
  assert.equal(type(wedge, 'SN-0042', 1000, 8), 'SN-0042');
  assert.equal(type(wedge, 'SN-0042', 5000, 250), null);
  assert.equal(type(wedge, 'AB', 9000, 5), null); // too short
  assert.equal(wedge.feed('Shift', 9500), null);
});

test('a burst begins with the first key after a pause', () => {
  const wedge = createWedge();
  assert.ok(wedge.begins(0));
  wedge.feed('1', 0);
  assert.ok(!wedge.begins(5));
  wedge.feed('2', 5);
  assert.ok(wedge.begins(500));
});

test('a scanner\'s burst survives one hiccup; a person typing at 100 ms a key does not make one', () => {
  const wedge = createWedge();
  let t = 0;
  for (const ch of 'B:STORES/SHELF-1') { wedge.feed(ch, t); t += ch === '/' ? 150 : 5; }
  assert.equal(wedge.feed('Enter', t), 'B:STORES/SHELF-1');
  assert.equal(type(wedge, 'SN-0042', 10_000, 100), null);
  wedge.feed('2', 20_000);
  wedge.feed('5', 20_120); // a quantity typed by hand just before the trigger
  assert.ok(wedge.begins(20_200));
  assert.equal(type(wedge, 'B:LINE-1', 20_200, 5), 'B:LINE-1');
});

test('a pause in the middle starts a new burst', () => {
  const wedge = createWedge();
  wedge.feed('x', 0);
  wedge.feed('y', 5);
  assert.equal(type(wedge, 'LOC-1', 2000, 5), 'LOC-1');
});

test('the same code is reported once per window', () => {
  const d = createDeduper(2000);
  assert.ok(d.accept('A', 0));
  assert.ok(!d.accept('A', 500));
  assert.ok(!d.accept('A', 2400)); // still in view: every sighting extends the window
  assert.ok(d.accept('B', 2500));
  assert.ok(d.accept('A', 5000));
});

test('GS1 element strings give GTIN, lot, serial and count', () => {
  assert.deepEqual(parseGs1('0109501101020917172512311012AB\x1d2199887'),
    { gtin: '09501101020917', expiry: '251231', lot: '12AB', serial: '99887' });
  assert.deepEqual(parseGs1('(01)09501101020917(10)LOT-7(30)25'), { gtin: '09501101020917', lot: 'LOT-7', quantity: 25 });
  assert.equal(parseGs1('SN-0042'), null);
  assert.equal(clean(']C1SN-1 '), 'SN-1');
});

test('ISO 15434 labels give part, serial, lot and quantity', () => {
  const text = '[)>\x1e06\x1dPPN-100\x1dSSN-77\x1d1TLOT-9\x1dQ12\x1e\x04';
  assert.deepEqual(parseIso15434(text), { part: 'PN-100', serial: 'SN-77', lot: 'LOT-9', quantity: 12 });
  assert.deepEqual(receivePrefill(labelFields(text)), { part: 'PN-100', serial: 'SN-77', lot: 'LOT-9', quantity: 12 });
  assert.equal(labelFields('CAGE-B/SHELF-3'), null);
});

test('label quantities are exact decimals, GS1 measures in kg, m and l with their decimals', () => {
  const iso = '[)>\x1e06\x1dPCABLE-3G\x1d1TLOT-5\x1dQ2.5\x1e\x04';
  assert.deepEqual(receivePrefill(labelFields(iso)), { part: 'CABLE-3G', lot: 'LOT-5', quantity: '2.5' });
  assert.equal(parseIso15434('[)>\x1e06\x1dPP1\x1dQ0.1\x1e\x04').quantity, '0.1'); // never 0.1000000000000000055
  assert.deepEqual(parseGs1('(01)09501101020917(3103)000750(10)PASTE-1'),
    { gtin: '09501101020917', quantity: '0.75', unit: 'kg', lot: 'PASTE-1' });
  assert.deepEqual(parseGs1('0109501101020917311200025010L-1'),
    { gtin: '09501101020917', quantity: '2.5', unit: 'm', lot: 'L-1' });
  assert.deepEqual(parseGs1('(01)09501101020917(3150)000012').quantity, 12);
  assert.equal(parseIso15434('[)>\x1e06\x1dPP1\x1dQtwelve\x1e\x04').quantity, undefined);
  assert.deepEqual(receivePrefill({ part: 'P1', quantity: 'twelve' }), { part: 'P1' });
  assert.deepEqual(receivePrefill({ part: 'P1', quantity: '0' }), { part: 'P1' });
});

import { lotLabel, parseOwn } from '../logic/codes.js';

test('our own labels name a unit, a lot, a part or a location', () => {
  assert.deepEqual(parseOwn('U:SN-24-00017'), { kind: 'unit', serial: 'SN-24-00017' });
  assert.deepEqual(parseOwn('L:RES%2F10K/LOT-1'), { kind: 'lot', part: 'RES/10K', lot: 'LOT-1' });
  assert.deepEqual(parseOwn('B:PLANT-1/STORES'), { kind: 'location', code: 'PLANT-1/STORES' });
  assert.deepEqual(parseOwn('P:PN%20100'), { kind: 'part', part: 'PN 100' });
  assert.equal(parseOwn('SN-1'), null);
  assert.equal(parseOwn('L:nolot'), null);
  assert.deepEqual(parseOwn(lotLabel('RES/10K', 'LOT 1/A')), { kind: 'lot', part: 'RES/10K', lot: 'LOT 1/A' });
});

import { labelDate } from '../logic/codes.js';

test('a GS1 expiry date (AI 17) fills the receipt\'s expiry', () => {
  const today = new Date(Date.UTC(2026, 11, 3));
  assert.equal(labelDate('271231', today), '2027-12-31');
  assert.equal(labelDate('270200', today), '2027-02-28'); // day 00: the month's last day
  assert.equal(labelDate('990101', today), '1999-01-01'); // more than 50 years ahead: the century before
  assert.equal(labelDate('2027-03-31', today), '2027-03-31');
  assert.equal(labelDate('271301', today), null);
  assert.equal(labelDate('270231', today), null);
  const fields = labelFields('(01)09506000134352(17)271231(10)LOT-9');
  assert.equal(fields.expiry, '271231');
  assert.equal(receivePrefill(fields).expiry, '2027-12-31');
  assert.equal(receivePrefill({ lot: 'L' }).expiry, undefined);
});
