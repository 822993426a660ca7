// The outbox's rules, as pure functions: seq assignment, batching, what a push answer does to each
// queued op, and what to do when a push stops. outbox.js applies them inside IndexedDB transactions.

export const PROTOCOL = 1;
export const BATCH = 100;

/** Effect markers (`live`) of an op's deltas on the local view:
 *  PENDING — not yet answered, its deltas are part of the view;
 *  AWAITING_PULL — applied by the server, its deltas stay until the next pull brings the server's rows;
 *  NONE — not part of the view (final, or not applied). */
export const LIVE = { NONE: 0, PENDING: 1, AWAITING_PULL: 2 };

/** Number a list of new ops from `nextSeq`: 1, 2, 3 … per device, no gaps, never reused. */
export function assignSeqs(ops, nextSeq) {
  if (!Number.isInteger(nextSeq) || nextSeq < 1) throw new Error(`bad next seq ${nextSeq}`);
  return { ops: ops.map((op, i) => ({ ...op, seq: nextSeq + i })), nextSeq: nextSeq + ops.length };
}

/** The wire form of a queued record. */
export function wireOp(record) {
  const { op_id, seq, type, client_time, actor, depends_on, args } = record.op;
  const op = { op_id, seq, type, client_time, actor, args };
  if (depends_on && depends_on.length) op.depends_on = depends_on;
  return op;
}

/** Seconds since the oldest op still waiting in the queue was made (`created`, ms; null: none waits), as
 *  pushes and pulls report it (`oldest_unsynced_age`) for the server's monitoring. */
export function unsyncedAge(created, now = Date.now()) {
  return created == null ? 0 : Math.max(0, Math.round((now - created) / 1000));
}

/** The next batch to push: pending records, strictly in seq order, contiguous from the lowest. */
export function nextBatch(pending, max = BATCH) {
  const sorted = [...pending].sort((a, b) => a.seq - b.seq);
  const batch = [];
  for (const record of sorted) {
    if (batch.length >= max) break;
    if (batch.length && record.seq !== batch[batch.length - 1].seq + 1) break;
    batch.push(record);
  }
  return batch;
}

/** What one push result makes of the queued record. Returns the fields to merge into it. A record is
 *  `pending` until the server answers; `applied` and `rejected` are final, `held` can still change (a
 *  supervisor approves or rejects it). */
export function outcomeOf(result, now = Date.now()) {
  const status = result.status === 'duplicate' ? (result.original_status || 'applied') : result.status;
  if (!['applied', 'rejected', 'held'].includes(status)) throw new Error(`unknown op status ${result.status}`);
  return {
    state: status,
    live: status === 'applied' ? LIVE.AWAITING_PULL : LIVE.NONE,
    done: now,
    outcome: {
      status, reason: result.reason ?? null, message: result.message ?? null,
      conflict_id: result.conflict_id ?? null, result: result.result ?? null, field: result.field ?? null, details: result.details ?? null,
    },
  };
}

/** A later word on a held or rejected op (pull `op_results`): a supervisor's approval or rejection. */
export function resolutionOf(record, opResult, now = Date.now()) {
  if (record.state === 'applied' && opResult.status !== 'applied') return null; // final: never un-apply
  const before = record.outcome || {};
  const changed = opResult.status !== record.state || (opResult.resolved_by && opResult.resolved_by !== before.resolved_by);
  if (!changed) return null;
  return {
    state: opResult.status,
    live: LIVE.NONE,
    done: now,
    outcome: {
      ...before, status: opResult.status,
      reason: opResult.reason ?? (opResult.status === 'applied' ? null : before.reason),
      message: opResult.message ?? before.message ?? null,
      conflict_id: opResult.conflict_id ?? before.conflict_id ?? null,
      result: opResult.result ?? before.result ?? null,
      resolved_by: opResult.resolved_by ?? null, note: opResult.note ?? null,
      applied_as: opResult.applied_as ?? null, was: before.resolved_by ? before.was : record.state,
    },
  };
}

/** What to do when a push answer says `stopped`.
 *  seq_gap: the server expects `expected_seq`; ops from there are re-sent if this phone still has them
 *  (e.g. the server was restored from a backup), otherwise pushing cannot go on without losing order.
 *  retry_later: a transient server problem; ops before the stop were answered. */
export function onStopped(stopped, keptSeqs) {
  if (!stopped) return { action: 'continue' };
  if (stopped.reason === 'retry_later') return { action: 'retry' };
  if (stopped.reason === 'seq_gap') {
    const expected = stopped.expected_seq;
    if (keptSeqs.includes(expected)) return { action: 'resend', from: expected };
    return { action: 'gap', expected };
  }
  return { action: 'retry' };
}

/** Ops this op must wait for: the newest still-unanswered op on each row it touches. */
export function dependenciesOf(keys, pendingByKey, ownId) {
  const ids = new Set();
  for (const key of keys) {
    const last = pendingByKey.get(key);
    if (last && last !== ownId) ids.add(last);
  }
  return [...ids];
}

/** Delay before the next automatic attempt after `failures` failed ones: 2 s doubling to 5 min. */
export function backoff(failures) {
  return Math.min(300_000, 2000 * 2 ** Math.max(0, failures - 1));
}
