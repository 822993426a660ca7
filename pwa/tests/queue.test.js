import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignSeqs, backoff, dependenciesOf, LIVE, nextBatch, onStopped, outcomeOf, resolutionOf, unsyncedAge, wireOp } from '../logic/queue.js';

test('seqs are 1, 2, 3 … with no gaps, continuing from the stored next seq', () => {
  const first = assignSeqs([{ type: 'a' }, { type: 'b' }], 1);
  assert.deepEqual(first.ops.map((o) => o.seq), [1, 2]);
  const second = assignSeqs([{ type: 'c' }], first.nextSeq);
  assert.deepEqual(second.ops.map((o) => o.seq), [3]);
  assert.equal(second.nextSeq, 4);
  assert.throws(() => assignSeqs([], 0));
});

test('batches go in seq order, contiguous, at most the batch size', () => {
  const records = [5, 3, 4, 1, 2, 9].map((seq) => ({ seq }));
  assert.deepEqual(nextBatch(records, 3).map((r) => r.seq), [1, 2, 3]);
  assert.deepEqual(nextBatch(records, 10).map((r) => r.seq), [1, 2, 3, 4, 5]);
  assert.deepEqual(nextBatch([], 10), []);
});

test('the wire op carries the protocol fields only', () => {
  const record = { seq: 7, state: 'pending', op: { op_id: 'x', seq: 7, type: 'move', client_time: 't', actor: 'olga', depends_on: [], args: { a: 1 } } };
  assert.deepEqual(wireOp(record), { op_id: 'x', seq: 7, type: 'move', client_time: 't', actor: 'olga', args: { a: 1 } });
  record.op.depends_on = ['y'];
  assert.deepEqual(wireOp(record).depends_on, ['y']);
});

test('push results become final states; a replay takes its original outcome', () => {
  assert.equal(outcomeOf({ status: 'applied' }).state, 'applied');
  assert.equal(outcomeOf({ status: 'applied' }).live, LIVE.AWAITING_PULL);
  const rejected = outcomeOf({ status: 'rejected', reason: 'duplicate_serial', message: 'm', conflict_id: 'c' });
  assert.deepEqual([rejected.state, rejected.live, rejected.outcome.reason, rejected.outcome.conflict_id], ['rejected', LIVE.NONE, 'duplicate_serial', 'c']);
  assert.equal(outcomeOf({ status: 'held', reason: 'location_locked' }).live, LIVE.NONE);
  assert.equal(outcomeOf({ status: 'duplicate', original_status: 'rejected', reason: 'invalid' }).state, 'rejected');
  assert.throws(() => outcomeOf({ status: 'weird' }));
});

test('a supervisor resolution updates a held op; applied ops are never un-applied', () => {
  const held = { state: 'held', outcome: { status: 'held', reason: 'location_locked' } };
  const approved = resolutionOf(held, { status: 'applied', resolved_by: 'sam' });
  assert.deepEqual([approved.state, approved.outcome.resolved_by, approved.outcome.was], ['applied', 'sam', 'held']);
  const rejected = resolutionOf(held, { status: 'rejected', resolved_by: 'sam', note: 'wrong shelf' });
  assert.equal(rejected.outcome.note, 'wrong shelf');
  assert.equal(resolutionOf({ state: 'applied', outcome: {} }, { status: 'rejected' }), null);
  assert.equal(resolutionOf(held, { status: 'held' }), null);
});

test('a stopped push: retry later, resend from the expected seq, or report a gap', () => {
  assert.deepEqual(onStopped(null, []), { action: 'continue' });
  assert.deepEqual(onStopped({ reason: 'retry_later' }, []), { action: 'retry' });
  assert.deepEqual(onStopped({ reason: 'seq_gap', expected_seq: 3 }, [3, 4, 5]), { action: 'resend', from: 3 });
  assert.deepEqual(onStopped({ reason: 'seq_gap', expected_seq: 2 }, [3, 4]), { action: 'gap', expected: 2 });
});

test('an op depends on the newest unanswered op of each row it touches', () => {
  const pending = new Map([['S|SN-1', 'recv'], ['U|P||A|', 'm1']]);
  assert.deepEqual(dependenciesOf(['S|SN-1'], pending, 'me'), ['recv']);
  assert.deepEqual(dependenciesOf(['S|SN-2'], pending, 'me'), []);
  assert.deepEqual(dependenciesOf(['U|P||A|', 'S|SN-1'], pending, 'me').sort(), ['m1', 'recv']);
});

test('backoff doubles up to five minutes', () => {
  assert.equal(backoff(1), 2000);
  assert.equal(backoff(3), 8000);
  assert.equal(backoff(50), 300000);
});

test('the oldest unsynced op\'s age is whole seconds since it was made, 0 when nothing waits', () => {
  assert.equal(unsyncedAge(null, 1_000_000), 0);
  assert.equal(unsyncedAge(1_000_000 - 754_400, 1_000_000), 754);
  assert.equal(unsyncedAge(1_000_500, 1_000_000), 0); // made "later" by a clock set back: never negative
});
