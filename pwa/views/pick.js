// Turning a scan into what an action works on: stock (a unit, or a lot/untracked row at a place) or
// a location. Shared by move, install, uninstall, scrap and isolate.

import { lookup, lotOf } from '../store.js';
import { chooser, label, place, qty, toast } from '../ui.js';
import { t } from '../i18n.js';

const free = (row) => row.quantity > 0 && !row.installed_in && !row.scrapped && !row.isolated;

/** A lookup answer with a lot code several parts use (`lots`) asks which part, and answers for that
 *  part's lot (null when the operator cancels); any other answer is returned as it is. */
export async function onePart(found, container) {
  if (found.kind !== 'lots') return found;
  const part = await chooser(container, found.parts, (p) => `${p} — ${t('item.lot_n', { lot: found.lot })}`, t('pick.lot_which_part', { lot: found.lot }));
  return part ? lotOf(found, part) : null;
}

/** → {kind:'location', code, location} | {kind:'stock', row} | null (the operator was told why). */
export async function pick(scan, container, { allow = free } = {}) {
  const found = await onePart(await lookup(scan.text), container);
  if (!found) return null;
  if (found.kind === 'location') return { kind: 'location', code: found.location.code, location: found.location };
  if (found.kind === 'unit') {
    if (found.unit.scrapped) { toast(t('pick.scrapped', { serial: found.unit.serial }), 'error'); return null; }
    return { kind: 'stock', row: found.unit };
  }
  let rows = [];
  if (found.kind === 'part' || found.kind === 'lot') rows = found.rows;
  else if (found.kind === 'label' && found.fields.part) {
    rows = (await lookup(found.fields.part)).rows ?? [];
    if (found.fields.lot) rows = rows.filter((r) => r.lot === found.fields.lot);
  }
  if (found.kind === 'unknown' || (found.kind === 'label' && !rows.length && !found.fields.part)) {
    toast(t('pick.unknown', { code: scan.text }), 'error');
    return null;
  }
  rows = rows.filter(allow);
  if (!rows.length) { toast(t('pick.no_stock', { what: found.part?.part_number ?? scan.text }), 'error'); return null; }
  const row = rows.length === 1 ? rows[0] : await chooser(container, rows, (r) => `${label(r)} — ${place(r)} — ${qty(r)}`, t('pick.which_stock'));
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
