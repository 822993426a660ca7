// Every outcome and reason of the sync protocol, in words an operator reads on the floor.

import { t } from '../i18n.js';

// the words: reason.<code>, outcome.<state>, done.<Action> in the catalogue (i18n.js)
const CODES = ['duplicate_serial', 'tracking_changed', 'tracking_mismatch', 'unknown_reference', 'dependency_rejected',
  'dependency_held', 'location_locked', 'insufficient_quantity', 'stale_location', 'already_installed', 'invalid',
  'unknown_op_type', 'op_id_reused', 'count_not_open', 'over_receipt', 'po_not_open', 'serial_not_on_line',
  'already_kitted', 'kit_not_open', 'not_on_kit', 'not_on_bom', 'run_not_open'];
/** {code: words} in the language loaded (read when used). */
export const REASONS = Object.defineProperties({}, Object.fromEntries(CODES.map((code) => [code,
  { get: () => t(`reason.${code}`), enumerable: true }])));

const STATUS = ['pending', 'applied', 'rejected', 'held']; // outcome.<state>

// The server's message says what happened in words (SN-1 is scrapped, A holds 3 ea of P …) for these;
// its `details` add who last did what to the unit (Action values of the movement log).
const SAID = new Set(['duplicate_serial', 'tracking_changed', 'tracking_mismatch', 'unknown_reference', 'location_locked',
  'insufficient_quantity', 'stale_location', 'already_installed', 'count_not_open']);
const DONE = new Set(['Move', 'Scrap', 'Assemble', 'Disassemble', 'Isolate', 'Release', 'Remove', 'Add', 'Adjust', 'Split', 'Merge']); // done.<Action>
const BY = (d) => (DONE.has(d?.last_action) && d.last_by ? ` (${t('outcome.by', { done: t(`done.${d.last_action}`), user: d.last_by })})` : '');

/** What actually happened, for a held or rejected op: "SN-1 is at B, not A (moved by sam)". */
export function whatHappened(o) {
  return SAID.has(o.reason) && o.message ? o.message + BY(o.details) : reasonText(o.reason, o.message);
}

/** Plain words for a reason code; unknown codes are shown as they are. */
export function reasonText(reason, message) {
  if (!reason) return message || '';
  const words = CODES.includes(reason) ? t(`reason.${reason}`) : reason.replaceAll('_', ' ');
  if (reason === 'invalid' && message) return t('reason.invalid_because', { message });
  return words;
}

/** One line for an op's outcome: "Rejected: duplicate serial — …", "Held for a supervisor: …",
 *  "Approved by sam — applied", "Rejected by sam: wrong part". */
export function outcomeText(record) {
  const state = record.state;
  const o = record.outcome || {};
  if (o.resolved_by) {
    const note = o.note ? `: ${o.note}` : '';
    if (state === 'applied') return t('outcome.approved_by', { user: o.resolved_by }) + note;
    if (state === 'rejected') return t('outcome.rejected_by', { user: o.resolved_by }) + note;
  }
  const head = STATUS.includes(state) ? t(`outcome.${state}`) : state;
  const label = head[0].toUpperCase() + head.slice(1);
  if (state === 'applied' && o.result?.warnings?.includes('above_max')) return `${label} — ${t('outcome.above_max')}`;
  if (state === 'pending' || (state === 'applied' && !o.reason)) return label;
  const why = whatHappened(o);
  return why ? `${label}: ${why}` : label;
}

/** Does this outcome need the operator's attention? */
export function isProblem(record) {
  return record.state === 'rejected' || record.state === 'held';
}
