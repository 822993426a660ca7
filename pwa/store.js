// The local copy of the server's data (parts, locations, inventory rows), kept current by pulls and
// shown with this phone's unanswered ops applied on top. Reads for the views live here too.

import { read, write } from './db.js';
import { LIVE } from './logic/queue.js';
import { normalizeRow, rowKey, unitKey, viewOf } from './logic/rows.js';
import { labelFields, parseOwn } from './logic/codes.js';

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

const STORES = ['rows', 'parts', 'locations', 'counts', 'count_lines', 'outbox', 'meta'];

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
      } else if (change.entity === 'part' || change.entity === 'location') {
        const storeName = change.entity === 'part' ? 'parts' : 'locations';
        if (change.op === 'del') await t.del(storeName, change.id);
        else await t.put(storeName, { ...change.data, id: change.id });
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

async function asPart(code, number) {
  const part = await partByNumber(number);
  return part && { kind: 'part', code, part, rows: (await rowsWhere('part', number)).filter((r) => !r.scrapped) };
}

async function asLot(code, lot, partNumber) {
  const rows = (await rowsWhere('lot', lot)).filter((r) => (!partNumber || r.part === partNumber) && !r.scrapped);
  return rows.length ? { kind: 'lot', code, lot, rows, part: await partByNumber(rows[0].part) } : null;
}

/** What a scanned code is, from the local copy only: our own labels (U:/L:/P:/B:), a serial, a
 *  location, a part number, a lot code, or a supplier label with fields to receive. */
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

/** The server's rows (as last pulled) at these locations, or of this part: what a count sheet lists. */
export async function serverRows({ codes = [], part = null }) {
  return read(['rows'], async (t) => {
    const found = part ? await t.byIndex('rows', 'part', part) : (await Promise.all([...codes].map((code) => t.byIndex('rows', 'server_location', code)))).flat();
    return found.map((r) => r.server).filter((row) => row && (!part || row.part === part));
  });
}

/** This phone's ops that touched a row, newest first (its recent history, also offline). */
export async function historyOf(key, limit = 10) {
  return read(['outbox'], (t) => t.cursor('outbox', 'keys', IDBKeyRange.only(key), { reverse: true, limit }));
}

export { rowKey, unitKey };
