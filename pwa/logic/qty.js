// Quantities on the phone: exact decimals, never float arithmetic. Pure: no I/O.
//
// A quantity is a number when whole (100) and a decimal string otherwise ("2.5"), as the server sends
// it. Arithmetic goes through integers of millionths (BigInt), the finest any unit counts (the server's
// server/rules/quantities.py PLACES), and comes back in that form; a string is read digit by digit.

export const PLACES = 6;
const SCALE = 10n ** BigInt(PLACES);
const DECIMAL = /^([+-]?)(\d*)(?:[.,](\d*))?$/;

/** A quantity (number or decimal string) in millionths, or null when it is not one (or finer than 6 places). */
export function micro(q) {
  if (typeof q === 'bigint') return q * SCALE;
  if (typeof q === 'number') {
    if (Number.isSafeInteger(q)) return BigInt(q) * SCALE;
    if (!Number.isFinite(q)) return null;
    q = String(q); // a JSON number's shortest text: its digits as written for up to 15 of them
    if (/e/i.test(q)) return null;
  }
  const m = DECIMAL.exec(String(q ?? '').trim());
  if (!m || (m[2] === '' && !m[3])) return null;
  const fraction = m[3] ?? '';
  if (fraction.length > PLACES) return null;
  const value = BigInt(m[2] || '0') * SCALE + BigInt((fraction + '000000').slice(0, PLACES));
  return m[1] === '-' ? -value : value;
}

/** Millionths back to a quantity: a number when whole, else the shortest decimal string. */
export function fromMicro(m) {
  if (m % SCALE === 0n) return Number(m / SCALE);
  const negative = m < 0n;
  const abs = negative ? -m : m;
  const fraction = String(abs % SCALE).padStart(PLACES, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${abs / SCALE}.${fraction}`;
}

/** The quantity in its one form (a number when whole, else a decimal string); 0 for nothing. */
export const norm = (q) => fromMicro(micro(q ?? 0) ?? 0n);
export const add = (a, b) => fromMicro((micro(a ?? 0) ?? 0n) + (micro(b ?? 0) ?? 0n));
export const sub = (a, b) => fromMicro((micro(a ?? 0) ?? 0n) - (micro(b ?? 0) ?? 0n));
export const neg = (a) => fromMicro(-(micro(a ?? 0) ?? 0n));
/** -1, 0 or 1 as a is less than, equal to or more than b. */
export function cmp(a, b) {
  const d = (micro(a ?? 0) ?? 0n) - (micro(b ?? 0) ?? 0n);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}
export const positive = (q) => cmp(q, 0) > 0;
/** n × q, n a whole number of packs or any quantity (exact; the product rounded to 6 places is refused). */
export function times(n, q) {
  const product = (micro(n) ?? 0n) * (micro(q) ?? 0n);
  return product % SCALE === 0n ? fromMicro(product / SCALE) : null;
}

/** The decimal places a part's quantities may have: its `places` from the server (serialized: 0). */
export const placesOf = (part) => (part?.tracking === 'serial' ? 0 : Number.isInteger(part?.places) ? part.places : 0);

/** A quantity typed by an operator ("2.5", "2,5"), checked: {value} in its one form, or {error, places}:
 *  'not_number', 'too_fine' (more places than `places`), 'too_small' (0 unless `zero` allows it, or negative). */
export function parse(text, places = 0, { zero = false } = {}) {
  const m = DECIMAL.exec(String(text ?? '').trim());
  if (!m || (m[2] === '' && !m[3]) || m[1] === '+') return { error: 'not_number', places };
  if ((m[3] ?? '').replace(/0+$/, '').length > places) return { error: 'too_fine', places };
  const value = micro(String(text).trim());
  if (value === null) return { error: 'too_fine', places };
  if (value < 0n || (!zero && value === 0n) || m[1] === '-') return { error: 'too_small', places };
  return { value: fromMicro(value) };
}

/** An amount of money typed ("12,5", "0.125"): its wire form, a decimal string of 2 to 6 places ("12.50"),
 *  or null when it is not one (negative, finer than 6 places, not a number). Exact: no float on the way. */
export function money(text) {
  const m = DECIMAL.exec(String(text ?? '').trim());
  const value = m && !m[1] ? micro(m[0]) : null;
  if (value == null) return null;
  const fraction = String(value % SCALE).padStart(PLACES, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${value / SCALE}.${fraction}`;
}

/** What to show: the quantity with its unit unless that is `ea` ("2.5 m", "12"). */
export const withUnit = (q, unit) => (unit && unit !== 'ea' ? `${norm(q)} ${unit}` : String(norm(q)));
