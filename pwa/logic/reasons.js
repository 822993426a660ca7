// Every outcome and reason of the sync protocol, in words an operator reads on the floor.

export const REASONS = {
  duplicate_serial: 'duplicate serial — that serial number is already in the inventory',
  tracking_changed: 'tracking changed — the part’s tracking type was changed while you were offline',
  tracking_mismatch: 'tracking mismatch — the serial, lot or quantity does not fit how this part is tracked',
  unknown_reference: 'unknown reference — the server does not know that part, location, serial, lot or parent unit',
  dependency_rejected: 'an earlier step it depends on was rejected',
  dependency_held: 'waiting — an earlier step it depends on is waiting for a supervisor',
  location_locked: 'location locked — the location is closed for a cycle count',
  insufficient_quantity: 'not enough stock — the server holds less there than this takes',
  stale_location: 'not where you said — the unit is somewhere else on the server',
  already_installed: 'already installed — that unit is already installed in an assembly',
  invalid: 'invalid',
  unknown_op_type: 'not understood — the server does not know this kind of operation (update the app)',
  op_id_reused: 'operation id reused — the server has a different operation under the same id',
  count_not_open: 'count closed — the count was closed (or not started) before this line reached the server',
};

const STATUS = {
  pending: 'waiting to sync',
  applied: 'applied',
  rejected: 'rejected',
  held: 'held for a supervisor',
};

/** Plain words for a reason code; unknown codes are shown as they are. */
export function reasonText(reason, message) {
  if (!reason) return message || '';
  const words = REASONS[reason] ?? reason.replaceAll('_', ' ');
  if (reason === 'invalid' && message) return `invalid — ${message}`;
  return words;
}

/** One line for an op's outcome: "Rejected: duplicate serial — …", "Held for a supervisor: …",
 *  "Approved by sam — applied", "Rejected by sam: wrong part". */
export function outcomeText(record) {
  const state = record.state;
  const o = record.outcome || {};
  if (o.resolved_by) {
    const note = o.note ? `: ${o.note}` : '';
    if (state === 'applied') return `Approved by ${o.resolved_by} — applied${note}`;
    if (state === 'rejected') return `Rejected by ${o.resolved_by}${note}`;
  }
  const head = STATUS[state] ?? state;
  const label = head[0].toUpperCase() + head.slice(1);
  if (state === 'pending' || (state === 'applied' && !o.reason)) return label;
  const why = reasonText(o.reason, o.message);
  return why ? `${label}: ${why}` : label;
}

/** Does this outcome need the operator's attention? */
export function isProblem(record) {
  return record.state === 'rejected' || record.state === 'held';
}
