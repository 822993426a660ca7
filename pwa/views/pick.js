// Turning a scan into what an action works on: stock (a unit, or a lot/untracked row at a place) or
// a location. Shared by move, install, uninstall, scrap and isolate.

import { lookup } from '../store.js';
import { chooser, label, place, qty, toast } from '../ui.js';

const free = (row) => row.quantity > 0 && !row.installed_in && !row.scrapped && !row.isolated;

/** → {kind:'location', code, location} | {kind:'stock', row} | null (the operator was told why). */
export async function pick(scan, container, { allow = free } = {}) {
  const found = await lookup(scan.text);
  if (found.kind === 'location') return { kind: 'location', code: found.location.code, location: found.location };
  if (found.kind === 'unit') {
    if (found.unit.scrapped) { toast(`${found.unit.serial} is scrapped`, 'error'); return null; }
    return { kind: 'stock', row: found.unit };
  }
  let rows = [];
  if (found.kind === 'part' || found.kind === 'lot') rows = found.rows;
  else if (found.kind === 'label' && found.fields.part) {
    rows = (await lookup(found.fields.part)).rows ?? [];
    if (found.fields.lot) rows = rows.filter((r) => r.lot === found.fields.lot);
  }
  if (found.kind === 'unknown' || (found.kind === 'label' && !rows.length && !found.fields.part)) {
    toast(`“${scan.text}” is not known on this phone`, 'error');
    return null;
  }
  rows = rows.filter(allow);
  if (!rows.length) { toast(`No stock of ${found.part?.part_number ?? scan.text} to use here`, 'error'); return null; }
  const row = rows.length === 1 ? rows[0] : await chooser(container, rows, (r) => `${label(r)} — ${place(r)} — ${qty(r)}`, 'Which stock?');
  return row ? { kind: 'stock', row } : null;
}

/** The op args that name a row: serial, or part + lot, or part. */
export function itemArgs(row) {
  const args = { part: row.part, tracking: row.tracking };
  if (row.serial) args.serial = row.serial;
  if (row.lot) args.lot = row.lot;
  return args;
}

export { free };
