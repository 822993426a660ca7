// Cycle counting on the phone, as pure functions: which locations a count covers, its sheet from the
// phone's copy of the server's rows, who counted what (the latest line wins), progress, and the `count`
// op's args. No I/O. The server decides; this is what the phone shows while offline.

/** @typedef {{id:string, name:string, kind:'location'|'part', status:string, blind:boolean,
 *   closes_locations:boolean, location:string|null, part:string|null}} Count */
/** @typedef {{key:string, location:string, part:string, tracking:string, lot:string|null,
 *   serial:string|null, expected:number}} SheetLine */
/** @typedef {{counted:number, actor:string, pending:boolean, order:number}} Counted */

/** The codes a location count covers: the location and everything below it (by parent codes). */
import { t } from '../i18n.js';
import { add, cmp, micro, neg, norm, positive } from './qty.js';

export function subtree(locations, root) {
  const children = new Map();
  for (const loc of locations) {
    if (!children.has(loc.parent)) children.set(loc.parent, []);
    children.get(loc.parent).push(loc.code);
  }
  const codes = new Set();
  const stack = [root];
  while (stack.length) {
    const code = stack.pop();
    if (code == null || codes.has(code)) continue;
    codes.add(code);
    stack.push(...(children.get(code) ?? []));
  }
  return codes;
}

/** Does the count take a line at this location (and of this part)? */
export function inScope(count, codes, location, part = null) {
  if (count.kind === 'part') return part == null || part === count.part;
  return codes.has(location);
}

/** One line per unit; one per part and lot (or part) and location — as the server's sheet and `count` op. */
export function lineKey({ location, part, lot = null, serial = null }) {
  return `${location}|${part}|${serial ? '' : lot ?? ''}|${serial ?? ''}`;
}

/** The sheet from server rows (the phone's copy as last pulled): what should be there, not installed,
 *  not scrapped, something in it; isolated stock is there too. Sorted like the server's. */
export function sheetOf(count, rows, codes) {
  const lines = new Map();
  for (const row of rows) {
    if (!row || row.installed_in || row.scrapped || !positive(row.quantity)) continue;
    if (count.kind === 'part' ? row.part !== count.part : !codes.has(row.location)) continue;
    const key = lineKey(row);
    const line = lines.get(key) ?? { key, location: row.location, part: row.part, tracking: row.tracking,
      lot: row.serial ? null : row.lot ?? null, serial: row.serial ?? null, expected: 0 };
    line.expected = add(line.expected, row.quantity);
    lines.set(key, line);
  }
  const text = (v) => v ?? '';
  return [...lines.values()].sort((a, b) => a.location.localeCompare(b.location) || a.part.localeCompare(b.part)
    || text(a.lot).localeCompare(text(b.lot)) || text(a.serial).localeCompare(text(b.serial)));
}

/** This phone's own work not answered yet, per line: how much its unanswered ops add (+) to or take (−)
 *  from what the server expects there ({server, view} rows; the view is the server's row + those ops). */
export function ownWork(count, records, codes) {
  const work = new Map();
  const tally = (row, sign) => {
    if (!row || row.installed_in || row.scrapped || !positive(row.quantity)) return;
    if (count.kind === 'part' ? row.part !== count.part : !codes.has(row.location)) return;
    const key = lineKey(row);
    work.set(key, add(work.get(key) ?? 0, sign < 0 ? neg(row.quantity) : row.quantity));
  };
  for (const { server, view } of records) {
    tally(server, -1);
    tally(view, 1);
  }
  for (const [key, n] of work) if (cmp(n, 0) === 0) work.delete(key);
  return work;
}

/** What each line's count is now: the latest server line (by version), then this phone's own count ops
 *  not yet back from the server (newest seq last) on top — they are later than anything it pulled. */
export function countedOf(countId, serverLines, ownOps) {
  /** @type {Map<string, Counted>} */
  const counted = new Map();
  const sorted = serverLines.filter((l) => l.count_id === countId).sort((a, b) => (a.version ?? 0) - (b.version ?? 0));
  for (const line of sorted) {
    counted.set(lineKey(line), { counted: line.counted_quantity, actor: line.actor, pending: false, order: line.version ?? 0 });
  }
  const mine = ownOps.filter((op) => op.type === 'count' && op.args?.count_id === countId).sort((a, b) => a.seq - b.seq);
  for (const op of mine) {
    counted.set(lineKey(op.args), { counted: op.args.counted_quantity, actor: op.actor, pending: true, order: Infinity });
  }
  return counted;
}

/** Lines counted of the lines expected, and the finds (counted, not on the sheet). */
export function progress(sheet, counted) {
  const expected = new Set(sheet.map((l) => l.key));
  let done = 0;
  for (const key of counted.keys()) if (expected.has(key)) done += 1;
  return { expected: expected.size, counted: done, found: counted.size - done };
}

/** A line's state on the phone: not counted, present/missing (serials), or the quantity counted. */
export function lineState(line, counted) {
  const c = counted.get(line.key);
  if (!c) return { done: false, text: 'not counted' };
  if (line.serial) return { done: true, text: c.counted ? 'present' : 'missing', pending: c.pending };
  return { done: true, text: `counted ${c.counted}`, pending: c.pending };
}

/** The `count` op's args for a line counted `quantity` (a serial: 1 present, 0 missing). */
export function countArgs(count, line, quantity) {
  if (micro(quantity) === null || cmp(quantity, 0) < 0) throw new Error(`bad counted quantity ${quantity}`);
  quantity = norm(quantity);
  if (line.serial && (quantity !== 0 && quantity !== 1)) throw new Error('a serial is counted 1 (present) or 0 (missing)');
  const args = { part: line.part, tracking: line.tracking, location: line.location, counted_quantity: quantity, count_id: count.id };
  if (line.serial) args.serial = line.serial;
  else if (line.lot) args.lot = line.lot;
  return args;
}

/** What a count op counted, in words: {what, location, result}. */
export function countParts(args) {
  const what = args.serial ?? (args.lot ? t('row.part_lot', { part: args.part, lot: args.lot }) : args.part);
  const result = args.serial ? t(args.counted_quantity ? 'count.present' : 'count.missing') : String(args.counted_quantity);
  return { what, location: args.location, result };
}

/** The outbox summary of a count op. */
export function countSummary(args) {
  return t('count.summary', countParts(args));
}

/** Serial lines at a location still not counted: what "mark the rest missing" counts 0. */
export function uncountedSerials(sheet, counted, location) {
  return sheet.filter((l) => l.location === location && l.serial && !counted.has(l.key));
}
