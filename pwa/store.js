// The local copy of the server's data (parts, locations, inventory rows), kept current by pulls and
// shown with this phone's unanswered ops applied on top. Reads for the views live here too.

import { read, write } from './db.js';
import { LIVE } from './logic/queue.js';
import { normalizeRow, rowKey, unitKey, viewOf } from './logic/rows.js';
import { labelFields, parseOwn } from './logic/codes.js';
import { wordsOf } from './logic/browse.js';
import { subtree } from './logic/count.js';
import { add, positive, sub } from './logic/qty.js';
import { withWords } from './db.js';

/** Recompute the shown row of `key`: the server's row + the deltas of this phone's unanswered ops. */
export async function recompute(t, key, row) {
  row ??= await t.get('rows', key);
  const ops = (await t.byIndex('outbox', 'pending_keys', key)).filter((r) => r.live === LIVE.PENDING).sort((a, b) => a.seq - b.seq);
  const deltas = ops.flatMap((r) => r.deltas.filter((d) => d.key === key));
  const view = viewOf(row?.server ?? null, deltas);
  if (!view && !row?.server) {
    if (row) await t.del('rows', key);
    return null;
  }
  const next = { key, id: row?.server?.id ?? null, server: row?.server ?? null, view, last_op: row?.last_op ?? null };
  await t.put('rows', next);
  return next;
}

const STORES = ['rows', 'parts', 'locations', 'counts', 'count_lines', 'po_lines', 'kit_lines', 'outbox', 'meta'];

async function putInventory(t, data) {
  const server = normalizeRow(data);
  const key = rowKey(server);
  const old = await t.oneByIndex('rows', 'id', server.id);
  if (old && old.key !== key) await recompute(t, old.key, { ...old, server: null });
  const row = (await t.get('rows', key)) ?? { key };
  await recompute(t, key, { ...row, server });
}

async function delInventory(t, id) {
  const old = await t.oneByIndex('rows', 'id', id);
  if (old) await recompute(t, old.key, { ...old, server: null });
}

/** Drop the copy (a pull said `reset`): keep only what this phone's own unanswered ops show. */
async function reset(t) {
  await t.clear('parts');
  await t.clear('locations');
  await t.clear('counts');
  await t.clear('count_lines');
  await t.clear('po_lines');
  await t.clear('kit_lines');
  const keys = (await t.all('rows')).map((r) => r.key);
  await t.clear('rows');
  for (const key of keys) await recompute(t, key, null);
}

/** An open count (`del` once closed: its lines go too), or a line counted in one, by anyone. */
async function putCounting(t, change) {
  const store = change.entity === 'count' ? 'counts' : 'count_lines';
  if (change.op !== 'del') return t.put(store, { ...change.data, id: change.id, version: change.version });
  await t.del(store, change.id);
  if (store === 'counts') for (const line of await t.byIndex('count_lines', 'count', change.id)) await t.del('count_lines', line.id);
}

/** Apply one pull page in one transaction; the cursor is stored with it. `onResult(record, result)`
 *  handles each op result (outbox.js knows how). */
export function applyPullPage(page, first, onResult) {
  return write(STORES, async (t) => {
    if (page.reset && first) await reset(t);
    for (const change of page.changes) {
      if (change.entity === 'inventory') {
        if (change.op === 'del') await delInventory(t, change.id);
        else await putInventory(t, { ...change.data, id: change.id });
      } else if (change.entity === 'count' || change.entity === 'count_line') {
        await putCounting(t, change);
      } else if (change.entity === 'po_line') {
        if (change.op === 'del') await t.del('po_lines', change.id);
        else await t.put('po_lines', { ...change.data, id: change.id });
      } else if (change.entity === 'kit_line') {
        if (change.op === 'del') await t.del('kit_lines', change.id);
        else await t.put('kit_lines', { ...change.data, id: change.id });
      } else if (change.entity === 'part' || change.entity === 'location') {
        const part = change.entity === 'part';
        const storeName = part ? 'parts' : 'locations';
        if (change.op === 'del') await t.del(storeName, change.id);
        else await t.put(storeName, part ? withWords({ ...change.data, id: change.id }) : { ...change.data, id: change.id });
      }
    }
    for (const result of page.op_results ?? []) await onResult(t, result);
    await t.put('meta', page.cursor, 'cursor');
    if (page.last_seq != null) await t.put('meta', page.last_seq, 'server_last_seq');
  });
}

// ---- reads for the views ---------------------------------------------------------------------
const live = (rows) => rows.map((r) => r.view).filter(Boolean);

export async function partByNumber(number) {
  return read(['parts'], (t) => t.oneByIndex('parts', 'number', number));
}

export async function locationByCode(code) {
  return read(['locations'], (t) => t.oneByIndex('locations', 'code', code));
}

export async function unitBySerial(serial) {
  return read(['rows'], async (t) => (await t.get('rows', unitKey(serial)))?.view ?? null);
}

/** Stock rows with something in them, for a part, a lot or a location (not installed stock). */
export async function rowsWhere(index, value) {
  return read(['rows'], async (t) => live(await t.byIndex('rows', index, value)));
}

export async function installedIn(serial) {
  return rowsWhere('parent', serial);
}

export async function allParts() {
  return read(['parts'], (t) => t.all('parts'));
}

export async function allLocations() {
  return read(['locations'], (t) => t.all('locations'));
}

async function asUnit(code, serial) {
  const unit = await unitBySerial(serial);
  return unit && { kind: 'unit', code, unit, components: await installedIn(serial) };
}

async function asLocation(code, locationCode) {
  const location = await locationByCode(locationCode);
  return location && { kind: 'location', code, location, rows: (await rowsWhere('location', locationCode)).filter((r) => !r.installed_in) };
}

/** What is below a location (browsing): its direct sub-locations, and every row at it or below it. */
export function contents(locationCode) {
  return read(['locations', 'rows'], async (t) => {
    const locations = await t.all('locations');
    const rows = await Promise.all([...subtree(locations, locationCode)].map(async (c) => live(await t.byIndex('rows', 'location', c))));
    const children = locations.filter((l) => l.parent === locationCode).map((l) => ({ code: l.code, codes: subtree(locations, l.code) }));
    return { below: rows.flat(), children };
  });
}

/** Parts by number prefix or by words of the description, locations and units by code prefix. */
export function find(query, limit = 30) {
  const terms = wordsOf(query);
  const upper = query.trim().toUpperCase();
  const prefix = (p) => IDBKeyRange.bound(p, `${p}\uffff`);
  return read(['parts', 'locations', 'rows'], async (t) => {
    if (!terms.length) return { parts: [], locations: [], units: [] };
    const byNumber = await t.byIndex('parts', 'number', prefix(upper), limit);
    // the parts each term starts a word of (their keys only), in common, then the first `limit` of them
    const [first, ...rest] = await Promise.all(terms.map((term) => t.keys('parts', 'words', prefix(term), terms.length > 1 ? 20_000 : limit)));
    const common = rest.map((keys) => new Set(keys));
    const byWords = await Promise.all([...new Set(first)].filter((id) => common.every((keys) => keys.has(id))).slice(0, limit).map((id) => t.get('parts', id)));
    const ids = new Set();
    const parts = [...byNumber, ...byWords].filter((p) => !ids.has(p.id) && ids.add(p.id)).slice(0, limit);
    const units = live(await t.byIndex('rows', 'serial', prefix(upper), 10));
    return { parts, locations: await t.byIndex('locations', 'code', prefix(upper), 10), units };
  });
}

async function asPart(code, number) {
  const part = await partByNumber(number);
  return part && { kind: 'part', code, part, rows: (await rowsWhere('part', number)).filter((r) => !r.scrapped) };
}

/** A lot is a lot of one part: without the part, a lot code that two parts use is `lots` (which part?). */
async function asLot(code, lot, partNumber) {
  const rows = (await rowsWhere('lot', lot)).filter((r) => (!partNumber || r.part === partNumber) && !r.scrapped);
  const parts = [...new Set(rows.map((r) => r.part))].sort();
  if (parts.length > 1) return { kind: 'lots', code, lot, parts };
  return rows.length ? { kind: 'lot', code, lot, rows, part: await partByNumber(parts[0]) } : null;
}

/** The lot of one part, once the operator said which (after a `lots` answer). */
export async function lotOf(found, partNumber) {
  return (await asLot(found.code, found.lot, partNumber)) ?? { kind: 'unknown', code: found.code };
}

/** What a scanned code is, from the local copy only: our own labels (U:/L:/P:/B:), a serial, a
 *  location, a part number, a lot code (of one part; `lots` when several parts use it), or a supplier
 *  label with fields to receive. */
export async function lookup(code) {
  const own = parseOwn(code);
  if (own) {
    const found = own.kind === 'unit' ? await asUnit(code, own.serial)
      : own.kind === 'location' ? await asLocation(code, own.code)
        : own.kind === 'part' ? await asPart(code, own.part) : await asLot(code, own.lot, own.part);
    return found ?? { kind: 'unknown', code, own };
  }
  const plain = (await asUnit(code, code)) ?? (await asLocation(code, code)) ?? (await asPart(code, code)) ?? (await asLot(code, code));
  if (plain) return plain;
  const fields = labelFields(code);
  if (fields) {
    const unit = fields.serial ? await asUnit(code, fields.serial) : null;
    return unit ?? { kind: 'label', code, fields, part: fields.part ? await partByNumber(fields.part) : null };
  }
  return { kind: 'unknown', code };
}

// ---- purchase order lines ----------------------------------------------------------------------
/** The open lines of purchase orders as this phone shows them: as last pulled, less what this phone's receipts
 *  against them that the server has not answered (or whose answer no pull has brought yet) took. */
export function openPoLines() {
  return read(['po_lines', 'outbox'], async (t) => {
    const mine = [...await t.byIndex('outbox', 'live', LIVE.PENDING), ...await t.byIndex('outbox', 'live', LIVE.AWAITING_PULL)]
      .filter((r) => r.op.type === 'receive' && r.op.args.po_line);
    return (await t.all('po_lines')).map((line) => receivedMeanwhile(line, mine))
      .sort((a, b) => a.po_line.localeCompare(b.po_line, undefined, { numeric: true }));
  });
}

function receivedMeanwhile(line, records) {
  const taken = records.filter((r) => r.op.args.po_line === line.po_line).reduce((sum, r) => add(sum, r.op.units ?? r.op.args.quantity), 0);
  if (!positive(taken)) return line;
  const serials = new Set(records.filter((r) => r.op.args.po_line === line.po_line).map((r) => r.op.args.serial));
  const remaining = sub(line.remaining, taken);
  return { ...line, received: add(line.received, taken), remaining: positive(remaining) ? remaining : 0,
    expected: (line.serials ?? []).filter((s) => !serials.has(s)) };
}

/** A line by its name, or the open line of a PO number for a part (a label that names no line). */
export async function poLineFor(name, partNumber = null) {
  const lines = await openPoLines();
  return lines.find((l) => l.po_line === name)
    ?? (name.includes('/') ? null : lines.find((l) => l.po_line.startsWith(`${name}/`) && (!partNumber || l.part === partNumber) && positive(l.remaining)))
    ?? null;
}

// ---- kits -------------------------------------------------------------------------------------
/** The open kits this phone pulled: [{kit, run, location, tote, lines}], each line's `picked` and `remaining`
 *  less what this phone's picks the server has not answered (or whose answer no pull has brought yet) took. */
export function openKits() {
  return read(['kit_lines', 'outbox'], async (t) => {
    const mine = [...await t.byIndex('outbox', 'live', LIVE.PENDING), ...await t.byIndex('outbox', 'live', LIVE.AWAITING_PULL)]
      .filter((r) => r.op.type === 'kit');
    const kits = new Map();
    for (const line of (await t.all('kit_lines')).sort((a, b) => a.line - b.line)) {
      if (!kits.has(line.kit)) kits.set(line.kit, { kit: line.kit, run: line.run, location: line.location, tote: line.tote, lines: [] });
      const taken = mine.filter((r) => r.op.args.kit === line.kit && r.op.args.part === line.part).reduce((sum, r) => add(sum, r.op.args.quantity), 0);
      const remaining = sub(line.remaining, taken);
      kits.get(line.kit).lines.push({ ...line, picked: add(line.picked, taken), remaining: positive(remaining) ? remaining : 0 });
    }
    return [...kits.values()].sort((a, b) => a.kit.localeCompare(b.kit, undefined, { numeric: true }));
  });
}

// ---- cycle counts ------------------------------------------------------------------------------
export async function openCounts() {
  return read(['counts'], (t) => t.all('counts'));
}

export async function countById(id) {
  return read(['counts'], (t) => t.get('counts', id));
}

export async function countLines(countId) {
  return read(['count_lines'], (t) => t.byIndex('count_lines', 'count', countId));
}

/** The rows at these locations, or of this part, on the server (as last pulled) or as this phone shows
 *  them: {server, view} each (the server's rows are what a count sheet lists; where the view differs is
 *  this phone's own work the server has not answered yet). */
export async function sheetRows({ codes = [], part = null }) {
  return read(['rows'], async (t) => {
    const found = part ? await t.byIndex('rows', 'part', part)
      : (await Promise.all([...codes].flatMap((code) => ['server_location', 'location'].map((index) => t.byIndex('rows', index, code))))).flat();
    return [...new Map(found.map((r) => [r.key, r])).values()];
  });
}

/** This phone's ops that touched a row, newest first (its recent history, also offline). */
export async function historyOf(key, limit = 10) {
  return read(['outbox'], (t) => t.cursor('outbox', 'keys', IDBKeyRange.only(key), { reverse: true, limit }));
}

export { rowKey, unitKey };
