// The outbox: every action is queued here in the same IndexedDB transaction as its optimistic effect
// on the local copy, numbered 1, 2, 3 … per device, and kept until the server's answer is final.
// No DOM, no fetch.

import { write, read } from './db.js';
import { assignSeqs, dependenciesOf, LIVE, nextBatch, outcomeOf, resolutionOf } from './logic/queue.js';
import { applyDelta, dependencyKeys, keysOf, planOp } from './logic/rows.js';
import { recompute } from './store.js';

const STORES = ['meta', 'outbox', 'rows'];
const pendingRange = () => IDBKeyRange.bound(['pending', 0], ['pending', Infinity]);

/** A UUIDv7 string (time-ordered, as the protocol recommends). */
export function uuidv7(now = Date.now()) {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let t = now;
  for (let i = 5; i >= 0; i--) { bytes[i] = t % 256; t = Math.floor(t / 256); }
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Queue ops ({type, args, summary}) made by `actor`, applying their effects, all in one transaction. */
export function enqueue(drafts, actor) {
  return write(STORES, async (t) => {
    const next = (await t.get('meta', 'next_seq')) ?? 1;
    const now = Date.now();
    const { ops, nextSeq } = assignSeqs(drafts.map((d) => ({ ...d, op_id: uuidv7(now) })), next);
    const records = [];
    for (const op of ops) {
      const deltas = planOp(op);
      const keys = keysOf(deltas);
      const depKeys = dependencyKeys(op, deltas);
      const rows = new Map();
      for (const key of new Set([...keys, ...depKeys])) rows.set(key, (await t.get('rows', key)) ?? { key, id: null, server: null, view: null });
      // The newest op on each row it builds on, if still unanswered, is one this op depends on.
      const pendingByKey = new Map();
      for (const key of depKeys) {
        const last = rows.get(key).last_op && await t.oneByIndex('outbox', 'op_id', rows.get(key).last_op);
        if (last && last.live === LIVE.PENDING) pendingByKey.set(key, last.op_id);
      }
      const record = {
        seq: op.seq, op_id: op.op_id, state: 'pending', live: LIVE.PENDING, keys, pending_keys: keys, deltas, created: now,
        summary: op.summary ?? op.type,
        op: { op_id: op.op_id, seq: op.seq, type: op.type, client_time: new Date(now).toISOString(), actor,
          depends_on: dependenciesOf(depKeys, pendingByKey, op.op_id), args: op.args },
      };
      await t.put('outbox', record);
      // Incremental: the new op has the highest seq, so its deltas go on top of the shown rows.
      for (const delta of deltas) {
        const row = rows.get(delta.key);
        row.view = applyDelta(row.view, delta);
        row.last_op = op.op_id;
      }
      for (const key of keys) await t.put('rows', rows.get(key));
      records.push(record);
    }
    await t.put('meta', nextSeq, 'next_seq');
    return records;
  });
}

/** The next batch to push, in seq order. */
export function peek(max) {
  return read(['outbox'], async (t) => nextBatch(await t.byIndex('outbox', 'state_seq', pendingRange(), max), max));
}

/** {pending, oldest, held, newRejected, newHeld} for the status bar: held ops wait for a supervisor; the
 *  new ones are rejected and held ops the operator has not opened the sync screen on since. */
export function pendingStats() {
  return read(['outbox'], async (t) => {
    const pending = await t.countIndex('outbox', 'state_seq', pendingRange());
    const [first] = pending ? await t.byIndex('outbox', 'state_seq', pendingRange(), 1) : [];
    const held = await t.countIndex('outbox', 'state_seq', IDBKeyRange.bound(['held', 0], ['held', Infinity]));
    const newRejected = await t.countIndex('outbox', 'unseen', 'rejected');
    return { pending, oldest: first?.created ?? null, held, newRejected, newHeld: await t.countIndex('outbox', 'unseen', 'held') };
  });
}

/** A record's new state, flagged unseen when it is a problem (rejected or held) the operator must notice. */
const flagged = (record) => ({ ...record, unseen: ['rejected', 'held'].includes(record.state) ? record.state : undefined });

/** The operator opened the outcomes: no problem is new any more. */
export function markSeen() {
  return write(['outbox'], async (t) => {
    for (const record of await t.byIndex('outbox', 'unseen')) await t.put('outbox', { ...record, unseen: undefined });
  });
}

/** Record a push answer's results: final states, and the local view reverted where not applied. */
export function ack(results) {
  return write(STORES, async (t) => {
    const now = Date.now();
    for (const result of results) {
      const record = await t.oneByIndex('outbox', 'op_id', result.op_id);
      if (!record || record.state !== 'pending') continue;
      const next = flagged({ ...record, ...outcomeOf(result, now), pending_keys: [] });
      await t.put('outbox', next);
      if (next.live === LIVE.NONE) for (const key of record.keys) await recompute(t, key);
    }
  });
}

/** A pull's word on an op that was held or rejected (a supervisor decided). Runs in the pull's tx. */
export async function resolve(t, opResult) {
  const record = await t.oneByIndex('outbox', 'op_id', opResult.op_id);
  if (!record) return;
  const change = resolutionOf(record, opResult);
  if (change) await t.put('outbox', flagged({ ...record, ...change }));
}

/** After a complete pull: applied ops' effects are now in the server's rows; stop replaying them.
 *  In chunks of separate transactions, so that a backlog of thousands never blocks the page. */
export async function settle(pulledSince, chunk = 250) {
  const keys = new Set();
  for (;;) {
    const count = await write(['outbox'], async (t) => {
      const applied = (await t.byIndex('outbox', 'live', LIVE.AWAITING_PULL, chunk)).filter((r) => r.done <= pulledSince);
      for (const record of applied) {
        await t.put('outbox', { ...record, live: LIVE.NONE });
        record.keys.forEach((k) => keys.add(k));
      }
      return applied.length;
    });
    if (count < chunk) break;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const all = [...keys];
  for (let i = 0; i < all.length; i += chunk) {
    await write(STORES, async (t) => { for (const key of all.slice(i, i + chunk)) await recompute(t, key); });
  }
}

/** Put ops from `seq` on back in the queue (the server lost them: a seq_gap it can be given). */
export function requeueFrom(seq) {
  return write(['outbox'], async (t) => {
    const again = await t.all('outbox', IDBKeyRange.lowerBound(seq));
    for (const record of again) await t.put('outbox', { ...record, state: 'pending' });
    return again.length;
  });
}

export function keptSeqs(from, count = 1) {
  return read(['outbox'], async (t) => (await t.all('outbox', IDBKeyRange.lowerBound(from), count)).map((r) => r.seq));
}

/** This phone's count ops whose lines the phone's copy does not have yet: unanswered, or applied and
 *  waiting for the next pull (the views show them on top of the pulled lines). */
export function countOpsInFlight() {
  return read(['outbox'], async (t) => {
    const records = [...await t.byIndex('outbox', 'state_seq', pendingRange()), ...await t.byIndex('outbox', 'live', LIVE.AWAITING_PULL)];
    return records.filter((r) => r.op.type === 'count').map((r) => ({ seq: r.seq, type: r.op.type, actor: r.op.actor, args: r.op.args }));
  });
}

/** Recent ops, newest first, optionally problems only (rejected or held). */
export function recent(limit = 50, problemsOnly = false) {
  return read(['outbox'], (t) => t.cursor('outbox', null, null, {
    reverse: true, limit, filter: (r) => !problemsOnly || r.state === 'rejected' || r.state === 'held',
  }));
}

/** Forget final ops older than `days` (their history is on the server); never pending or held ones. */
export function prune(days = 7) {
  const before = Date.now() - days * 86_400_000;
  return write(['outbox'], async (t) => {
    const old = await t.cursor('outbox', null, null, { filter: (r) => (r.state === 'applied' || r.state === 'rejected') && r.live === LIVE.NONE && r.done < before });
    for (const record of old) await t.del('outbox', record.seq);
    return old.length;
  });
}
