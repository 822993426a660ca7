// The local copy's inventory rows, and the optimistic effect of each op on them. Pure: no I/O.
// Quantities are exact (logic/qty.js): a number when whole, a decimal string otherwise.
//
// A row is addressed by its natural key — what an offline phone can name — never by a server id:
//   S|serial                      a serialized unit (serials are unique)
//   L|part|lot|place|flags        a lot row;  U|part||place|flags  untracked stock
// where place is the location code, or @parent for stock installed in a unit, and flags are
// i (isolated) and x (scrapped). The server has one row per such key.

/** @typedef {{id?:string, part:string, tracking:string, serial?:string|null, lot?:string|null,
 *   location?:string|null, installed_in?:string|null, quantity:number|string, status?:string,
 *   isolated?:boolean, scrapped?:boolean, pending?:boolean}} Row */
/** @typedef {{key:string, set?:object, add?:number|string, base?:Row}} Delta */

import { add, cmp, neg, norm, positive } from './qty.js';

/** Normalise an inventory row as the server sends it (pull `data`) to the fields the app uses. */
export function normalizeRow(data) {
  const row = {
    id: data.id,
    part: data.part ?? data.part_number,
    tracking: data.tracking ?? (data.serial ? 'serial' : data.lot ? 'lot' : 'untracked'),
    serial: data.serial ?? null,
    lot: data.lot ?? null,
    location: data.location ?? data.location_code ?? null,
    installed_in: data.installed_in ?? data.parent_serial ?? null,
    quantity: norm(data.quantity ?? 0),
    status: data.status ?? 'available',
    isolated: Boolean(data.isolated),
    scrapped: Boolean(data.scrapped ?? data.status === 'scrapped'),
  };
  for (const extra of ['unit', 'supplier', 'isolation_reason', 'updated_at', 'version', 'expiry']) {
    if (data[extra] !== undefined) row[extra] = data[extra];
  }
  return row;
}

/** The rows to take first (FEFO, as the server's kits suggest): available stock with something in it, the first
 *  expiring first, those without an expiry after, then the oldest (ids are UUIDv7: they sort by creation). */
export function fefo(rows) {
  return rows.filter((r) => r.status === 'available' && positive(r.quantity))
    .sort((a, b) => expiryOf(a).localeCompare(expiryOf(b)) || String(a.id ?? '').localeCompare(String(b.id ?? '')));
}
const expiryOf = (row) => row.expiry ?? '9999-12-31'; // ISO dates compare as text; none: after every date

/** The first of `first` (FEFO order) when it is another lot that expires before `row`'s, else null. */
export function expiresBefore(first, row) {
  const [soonest] = first;
  return soonest?.expiry && soonest.lot !== row.lot && soonest.expiry < expiryOf(row) ? soonest : null;
}

export function unitKey(serial) { return `S|${serial}`; }

/** The key of a row (or of a place some stock would be in). */
export function rowKey(row) {
  if (row.serial) return unitKey(row.serial);
  const place = row.installed_in ? `@${row.installed_in}` : row.location;
  const flags = `${row.isolated ? 'i' : ''}${row.scrapped ? 'x' : ''}`;
  return `${row.lot ? 'L' : 'U'}|${row.part}|${row.lot ?? ''}|${place}|${flags}`;
}

/** Display status, following the domain's first-match rules for what a phone can know. */
export function deriveStatus(row, previous = row.status) {
  if (row.scrapped) return 'scrapped';
  if ((previous === 'removed' || row.status === 'removed') && !positive(row.quantity)) return 'removed'; // used: the remove op took it
  if (row.installed_in) return 'installed';
  if (row.wip) return 'wip';
  if (row.kitted) return 'kitted';
  if (row.isolated || !positive(row.quantity)) return 'unavailable';
  if (['wip', 'kitted', 'on_order'].includes(previous)) return previous;
  return 'available';
}

/** Apply one delta to a row (or to nothing, creating it from the delta's base). */
export function applyDelta(row, delta) {
  let next;
  if (row) next = { ...row };
  else if (delta.base) next = { ...delta.base, quantity: delta.set ? delta.base.quantity : 0 };
  else return row;
  if (delta.set) Object.assign(next, delta.set);
  if (delta.add && cmp(delta.add, 0) !== 0) next.quantity = add(next.quantity || 0, delta.add);
  next.status = deriveStatus(next, row?.status);
  next.pending = true;
  return next;
}

/** Fold deltas (already filtered to one key, in seq order) over the server's row. */
export function viewOf(serverRow, deltas) {
  let view = serverRow ? { ...serverRow, pending: false } : null;
  for (const delta of deltas) view = applyDelta(view, delta);
  return view;
}

function item(args) {
  return { part: args.part, tracking: args.tracking, serial: args.serial ?? null, lot: args.lot ?? null };
}

function placeKey(args, place, flags = {}) {
  return rowKey({ ...item(args), serial: null, location: place.location ?? null,
    installed_in: place.installed_in ?? null, ...flags });
}

/** Move `quantity` of a lot/untracked item from one place to another: two deltas. */
function shift(args, from, to, fromFlags = {}, toFlags = {}) {
  const q = norm(args.quantity);
  const fromKey = placeKey(args, from, fromFlags);
  const base = { ...item(args), serial: null, location: to.location ?? from.location ?? null,
    installed_in: to.installed_in ?? null, quantity: 0, isolated: false, scrapped: false, ...toFlags };
  return [
    { key: fromKey, add: neg(q) },
    { key: rowKey(base), add: q, base },
  ];
}

/** The optimistic effect of an op on the local copy, as deltas. `op.op_id` names rows it creates
 *  without a known serial or lot (the server generates those). */
export function planOp(op) {
  const a = op.args;
  const unit = a.tracking === 'serial';
  switch (op.type) {
    case 'receive': {
      const base = { ...item(a), location: a.location, installed_in: null, quantity: norm(op.units ?? a.quantity),
        isolated: false, scrapped: false, supplier: a.supplier ?? null };
      if (unit) {
        const serial = a.serial || null;
        return [{ key: serial ? unitKey(serial) : `S|?${op.op_id}`, set: { ...base, quantity: 1, serial }, base }];
      }
      if (a.tracking === 'lot' && !a.lot) {
        return [{ key: `L|${a.part}|?${op.op_id}|${a.location}|`, add: norm(op.units ?? a.quantity), base }];
      }
      return [{ key: rowKey(base), add: norm(op.units ?? a.quantity), base }];
    }
    case 'move':
      if (unit) return [{ key: unitKey(a.serial), set: { location: a.to_location } }];
      return shift(a, { location: a.from_location }, { location: a.to_location });
    case 'install':
      if (unit) return [{ key: unitKey(a.serial), set: { installed_in: a.parent_serial } }];
      return shift(a, { location: a.from_location }, { installed_in: a.parent_serial });
    case 'uninstall':
      if (unit) return [{ key: unitKey(a.serial), set: { installed_in: null, location: a.to_location } }];
      return shift(a, { installed_in: a.parent_serial }, { location: a.to_location });
    case 'scrap':
      if (unit) return [{ key: unitKey(a.serial), set: { scrapped: true } }];
      return shift(a, { location: a.location }, { location: a.location }, {}, { scrapped: true });
    case 'remove': // used: it leaves inventory (a unit stays, quantity 0, Removed)
      if (unit) return [{ key: unitKey(a.serial), set: { quantity: 0, status: 'removed' } }];
      return [{ key: placeKey(a, { location: a.location }), add: neg(norm(a.quantity)) }];
    case 'isolate':
      if (unit) return [{ key: unitKey(a.serial), set: { isolated: true, isolation_reason: a.reason } }];
      return shift(a, { location: a.location }, { location: a.location }, {}, { isolated: true });
    case 'kit': // into the kit's tote (`op.tote`, beside the args): Kitted
      if (!op.tote) return [];
      if (unit) return [{ key: unitKey(a.serial), set: { location: op.tote, kitted: true } }];
      return shift(a, { location: a.from_location }, { location: op.tote }, {}, { kitted: true });
    case 'issue': // into the run's WIP location (`op.wip`, beside the args): WIP
      if (!op.wip) return [];
      if (unit) return [{ key: unitKey(a.serial), set: { location: op.wip, wip: true, kitted: false } }];
      return shift(a, { location: a.from_location }, { location: op.wip }, {}, { wip: true });
    case 'open_issue': { // with `isolate`, what it names is set aside (`op.row`: the row the phone reported on)
      const row = op.row;
      if (!a.isolate || !row) return [];
      if (row.serial) return [{ key: unitKey(row.serial), set: { isolated: true, isolation_reason: a.title } }];
      const named = { ...item(row), quantity: row.quantity };
      return shift(named, { location: row.location }, { location: row.location }, {}, { isolated: true });
    }
    default:
      return [];
  }
}

/** Keys an op touches, for its outbox record (the history and dependency index). */
export function keysOf(deltas) {
  return [...new Set(deltas.map((d) => d.key))];
}

/** Rows whose earlier unanswered ops this op builds on: what it takes from (a unit it changes, stock
 *  it removes) and the parent unit it installs into or takes from. Adding stock builds on nothing. */
export function dependencyKeys(op, deltas) {
  const keys = deltas.filter((d) => d.set || cmp(d.add ?? 0, 0) < 0).map((d) => d.key);
  if (op.args?.parent_serial) keys.push(unitKey(op.args.parent_serial));
  return [...new Set(keys)];
}
