// Browsing the phone's copy, as pure functions: the words parts are found by, and stock added up per
// part or per location. No I/O.

import { add, positive } from './qty.js';

/** The lower-case words of a text, once each ("Screw M3x8, DIN 912" → screw, m3x8, din, 912). */
export const wordsOf = (text) => [...new Set(String(text ?? '').toLowerCase().split(/[^\p{L}\p{N}.-]+/u).filter(Boolean))];

/** Stock on hand (not installed, not scrapped, something in it). */
export const onHand = (row) => row && !row.installed_in && !row.scrapped && positive(row.quantity);

/** [{key, quantity, rows}] added up by `keyOf(row)` over the rows on hand, sorted by key. */
export function totals(rows, keyOf) {
  const by = new Map();
  for (const row of rows) {
    if (!onHand(row)) continue;
    const key = keyOf(row);
    const t = by.get(key) ?? { key, quantity: 0, rows: 0 };
    t.quantity = add(t.quantity, row.quantity);
    t.rows += 1;
    by.set(key, t);
  }
  return [...by.values()].sort((a, b) => a.key.localeCompare(b.key));
}
