import { test } from 'node:test';
import assert from 'node:assert/strict';
import { money } from '../logic/qty.js';

test('a price typed with a comma or a point becomes its exact wire form, 2 to 6 places', () => {
  assert.equal(money('12,5'), '12.50');
  assert.equal(money('126'), '126.00');
  assert.equal(money(' 2.054545 '), '2.054545');
  assert.equal(money('0.125'), '0.125');
  assert.equal(money('.5'), '0.50');
  assert.equal(money('3.'), '3.00');
  assert.equal(money('0'), '0.00');
  assert.equal(money('123456789012.99'), '123456789012.99'); // beyond a float's exact digits: still exact
});

test('no float on the way: 0.1 + 0.2 typed as 0.3 is 0.30, and 0.30000000000000004 is refused', () => {
  assert.equal(money('0.3'), '0.30');
  assert.equal(money(String(0.1 + 0.2)), null); // 17 places: finer than the server's 6
});

test('what is not a price is null: negative, signed, empty, words, finer than 6 places', () => {
  for (const text of ['-1', '+1', '', ' ', 'abc', '1.2.3', '1,2,3', '0.0000001', '1e3', null, undefined]) {
    assert.equal(money(text), null, String(text));
  }
});
