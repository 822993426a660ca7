import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onHand, totals, wordsOf } from '../logic/browse.js';

test('a description is searched by its words', () => {
  const words = wordsOf('SCR-M3X8 Screw M3x8, DIN 912 (steel)');
  assert.deepEqual(words, ['scr-m3x8', 'screw', 'm3x8', 'din', '912', 'steel']);
  assert.deepEqual(wordsOf(null), []);
});

test('stock adds up per part and per location, on hand only', () => {
  const rows = [
    { part: 'B', location: 'S/1', quantity: 5 }, { part: 'A', location: 'S/1', quantity: 2 },
    { part: 'B', location: 'S/2', quantity: 7 }, { part: 'B', location: 'S/2', quantity: 1, installed_in: 'X' },
    { part: 'A', location: 'S/2', quantity: 1, scrapped: true }, { part: 'A', location: 'S/2', quantity: 0 },
  ];
  assert.deepEqual(totals(rows, (r) => r.part), [{ key: 'A', quantity: 2, rows: 1 }, { key: 'B', quantity: 12, rows: 2 }]);
  assert.deepEqual(totals(rows, (r) => r.location), [{ key: 'S/1', quantity: 7, rows: 2 }, { key: 'S/2', quantity: 7, rows: 1 }]);
  assert.ok(onHand(rows[0]) && !onHand(rows[3]) && !onHand(null));
});
