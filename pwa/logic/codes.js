// Reading what a printed label carries, offline: GS1 element strings (GTIN, lot, serial, count) and
// ISO/IEC 15434 data-identifier labels (part, serial, lot, quantity). Pure. The server's
// GET /api/scan is richer; this is what works without a signal.

import { micro, norm } from './qty.js';

const GS = '\x1d';
const RS = '\x1e';
const FIXED = { '00': 18, '01': 14, '02': 14, '11': 6, '12': 6, '13': 6, '15': 6, '16': 6, '17': 6, '20': 2 };
const VARIABLE = { '10': 'lot', '21': 'serial', '30': 'quantity', '37': 'quantity', '240': 'part', '241': 'customer_part', '400': 'po', '90': 'internal' };
const NAMES = { '01': 'gtin', '02': 'gtin', '17': 'expiry', '11': 'produced', '00': 'sscc' };
// GS1 measures (AI 31nn…36nn: the last digit is the number of decimals): the ones a stockroom counts in
const MEASURES = { '310': 'kg', '311': 'm', '315': 'l' };

/** A label's quantity as an exact quantity (a number when whole, else a decimal string), or undefined. */
const quantityOf = (text) => (micro(text) === null ? undefined : norm(text));

/** A GS1 measure's 6 digits with `places` decimals ("002500", 3 → "2.5"). */
const measureOf = (digits, places) => quantityOf(`${digits.slice(0, 6 - places)}.${digits.slice(6 - places)}`);

/** Remove an AIM symbology identifier (`]C1`, `]d2`, `]Q3` …) and surrounding white space. */
export function clean(text) {
  let t = String(text).trim();
  if (/^\][A-Za-z][0-9A-Za-z]/.test(t)) t = t.slice(3);
  return t;
}

function parseParenthesised(t) {
  const fields = {};
  for (const m of t.matchAll(/\((\d{2,4})\)([^(]*)/g)) addAi(fields, m[1], m[2]);
  return fields;
}

function addAi(fields, ai, value) {
  const unit = MEASURES[ai.slice(0, 3)];
  if (unit && ai.length === 4 && /^\d{6}$/.test(value)) {
    fields.quantity = measureOf(value, Number(ai[3]));
    fields.unit = unit;
    return;
  }
  const name = NAMES[ai] ?? VARIABLE[ai] ?? (/^3[1-6]/.test(ai) ? null : `ai_${ai}`);
  if (!name) return;
  fields[name] = name === 'quantity' ? quantityOf(value) : value;
}

/** GS1 element string → fields, or null when the text is not one. */
export function parseGs1(text) {
  const t = clean(text);
  if (t.startsWith('(')) {
    const f = parseParenthesised(t);
    return Object.keys(f).length ? f : null;
  }
  if (!/^(00|01|02)\d/.test(t) && !t.includes(GS)) return null;
  const fields = {};
  let i = 0;
  while (i < t.length) {
    if (t[i] === GS) { i++; continue; }
    const ai4 = t.slice(i, i + 4);
    const ai3 = t.slice(i, i + 3);
    const ai2 = t.slice(i, i + 2);
    let ai; let len = null;
    if (/^3[1-6]\d\d$/.test(ai4)) { ai = ai4; len = 6; } else if (VARIABLE[ai3]) ai = ai3;
    else if (FIXED[ai2]) { ai = ai2; len = FIXED[ai2]; } else if (VARIABLE[ai2]) ai = ai2;
    else return Object.keys(fields).length ? fields : null;
    i += ai.length;
    let value;
    if (len) { value = t.slice(i, i + len); i += len; } else {
      const end = t.indexOf(GS, i);
      value = end < 0 ? t.slice(i) : t.slice(i, end);
      i = end < 0 ? t.length : end + 1;
    }
    if (len && value.length !== len) return null;
    addAi(fields, ai, value);
  }
  return Object.keys(fields).length ? fields : null;
}

// K: the purchase order's number, 4K / 14K: its line (ANSI MH10.8.2)
const DI = [['1P', 'supplier_part'], ['1T', 'lot'], ['14K', 'po_line'], ['4K', 'po_line'], ['P', 'part'], ['S', 'serial'],
  ['Q', 'quantity'], ['K', 'po'], ['T', 'lot']];

/** ISO/IEC 15434 format 06 ("[)>␞06␝P…␝S…␞␄") → fields, or null. */
export function parseIso15434(text) {
  const t = clean(text);
  if (!t.startsWith('[)>')) return null;
  const body = t.slice(3).replace(RS, '').replace(/\x04$/, '');
  if (!body.startsWith('06')) return null;
  const fields = {};
  for (const part of body.slice(2).split(new RegExp(`[${GS}${RS}]`))) {
    const di = DI.find(([prefix]) => part.startsWith(prefix));
    if (!di || part.length <= di[0].length) continue;
    const value = part.slice(di[0].length);
    fields[di[1]] = di[1] === 'quantity' ? quantityOf(value) : value;
  }
  return Object.keys(fields).length ? fields : null;
}

/** Supplier-label fields from a scanned text, or null when it is a plain code. */
export function labelFields(text) {
  return parseIso15434(text) ?? parseGs1(text);
}

/** A GS1 date (AI 17, `YYMMDD`; day 00: the month's last day; the century that puts it within 49 years back
 *  and 50 ahead of `today`, GS1 General Specifications 7.12) or an ISO date → `YYYY-MM-DD`, else null. */
export function labelDate(value, today = new Date()) {
  const text = String(value ?? '');
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return text;
  const m = /^(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) return null;
  const [yy, mm, dd] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mm < 1 || mm > 12) return null;
  const now = today.getUTCFullYear();
  let year = Math.floor(now / 100) * 100 + yy;
  if (year - now > 50) year -= 100; else if (now - year > 49) year += 100;
  const last = new Date(Date.UTC(year, mm, 0)).getUTCDate();
  if (dd > last) return null;
  return `${year}-${String(mm).padStart(2, '0')}-${String(dd || last).padStart(2, '0')}`;
}

/** Receive-form values from label fields (ours or the server's `fields`). */
export function receivePrefill(fields) {
  if (!fields) return {};
  const out = {};
  const part = fields.part ?? fields.part_number ?? fields.supplier_part ?? fields.gtin;
  if (part) out.part = String(part);
  if (fields.serial) out.serial = String(fields.serial);
  if (fields.lot) out.lot = String(fields.lot);
  const quantity = fields.quantity === undefined ? undefined : quantityOf(fields.quantity);
  if (quantity !== undefined && micro(quantity) > 0n) out.quantity = quantity;
  if (fields.supplier) out.supplier = String(fields.supplier);
  const expiry = fields.expiry ? labelDate(fields.expiry) : null; // GS1 AI 17: the lot's expiry
  if (expiry) out.expiry = expiry;
  const line = poLineOf(fields.po, fields.po_line);
  if (line) out.po_line = line;
  return out;
}

/** The name of a purchase order line, `NUMBER/LINE` (as the server names it), from what a label carries: a PO
 *  number and a line (ISO 15434 `K` + `4K`: "PO-2026-0001", "002"), or both in one (GS1 AI 400
 *  "PO-2026-0001/2"); a PO number alone is returned as it is (the phone finds the line by the part). */
export function poLineOf(po, line) {
  const number = po == null ? '' : String(po).trim();
  const which = line == null ? '' : String(line).trim();
  if (number && which && !number.includes('/')) return `${number}/${/^\d+$/.test(which) ? String(Number(which)) : which}`;
  if (number) return number;
  return which.includes('/') ? which : null;
}

/** Gemba's own labels (server/scan/codes.py): U:<serial>, L:<part>/<lot>, P:<part>, B:<location>,
 *  percent-encoded. → {kind, …} or null. */
export function parseOwn(text) {
  const m = /^([ULPB]):(.+)$/.exec(clean(text));
  if (!m) return null;
  const decode = (s) => {
    try { return decodeURIComponent(s); } catch { return null; }
  };
  if (m[1] === 'L') {
    const slash = m[2].indexOf('/');
    if (slash < 1) return null;
    const part = decode(m[2].slice(0, slash));
    const lot = decode(m[2].slice(slash + 1));
    return part && lot ? { kind: 'lot', part, lot } : null;
  }
  const value = decode(m[2]);
  if (!value) return null;
  return { U: { kind: 'unit', serial: value }, P: { kind: 'part', part: value }, B: { kind: 'location', code: value } }[m[1]];
}

/** Our own label of a part's lot (what `parseOwn` reads back as {kind: 'lot', part, lot}). */
export function lotLabel(part, lot) {
  return `L:${encodeURIComponent(part)}/${encodeURIComponent(lot)}`;
}
