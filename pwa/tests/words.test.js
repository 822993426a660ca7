import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outcomeText, reasonText, REASONS, isProblem, whatHappened } from '../logic/reasons.js';
import { ageText, phaseOf, summary } from '../logic/syncstate.js';
import { readFileSync } from 'node:fs';
import { use } from '../i18n.js';

use(JSON.parse(readFileSync(new URL('../locales/en.json', import.meta.url), 'utf8'))); // the English words

// Every reason of the protocol table (sync-protocol.md §3.5, plus unknown_op_type and op_id_reused).
const PROTOCOL_REASONS = ['duplicate_serial', 'tracking_changed', 'tracking_mismatch', 'unknown_reference',
  'dependency_rejected', 'dependency_held', 'location_locked', 'insufficient_quantity', 'stale_location',
  'already_installed', 'invalid', 'unknown_op_type', 'op_id_reused'];

test('every protocol reason has plain words', () => {
  for (const reason of PROTOCOL_REASONS) {
    assert.ok(REASONS[reason], reason);
    assert.doesNotMatch(reasonText(reason), /_/, reason);
  }
});

test('outcome lines read as an operator would say them', () => {
  const rejected = { state: 'rejected', outcome: { reason: 'duplicate_serial', message: 'Serial SN-1 already exists' } };
  assert.equal(outcomeText(rejected), 'Rejected: Serial SN-1 already exists');
  assert.match(outcomeText({ state: 'rejected', outcome: { reason: 'duplicate_serial' } }), /^Rejected: duplicate serial/);
  assert.equal(outcomeText({ state: 'rejected', outcome: { reason: 'invalid', message: 'quantity must be > 0' } }), 'Rejected: invalid — quantity must be > 0');
  assert.match(outcomeText({ state: 'held', outcome: { reason: 'location_locked' } }), /^Held for a supervisor: location locked/);
  assert.equal(outcomeText({ state: 'applied', outcome: { resolved_by: 'sam' } }), 'Approved by sam — applied');
  assert.equal(outcomeText({ state: 'rejected', outcome: { resolved_by: 'sam', note: 'wrong bin' } }), 'Rejected by sam: wrong bin');
  assert.equal(outcomeText({ state: 'applied', outcome: {} }), 'Applied');
  assert.equal(outcomeText({ state: 'pending' }), 'Waiting to sync');
  assert.equal(reasonText('brand_new_reason'), 'brand new reason');
  assert.ok(isProblem(rejected));
});

test('ages read in seconds, minutes, hours, days', () => {
  assert.equal(ageText(5_000), '5 s');
  assert.equal(ageText(5 * 60_000), '5 min');
  assert.equal(ageText(125 * 60_000), '2 h 5 min');
  assert.equal(ageText(3 * 86_400_000), '3 days');
});

test('the sync phase shows what blocks sync first', () => {
  const base = { signedIn: true, online: true, pending: 0, lastSync: 1 };
  assert.equal(phaseOf({ ...base, signedIn: false }), 'signed_out');
  assert.equal(phaseOf({ ...base, authExpired: true, online: false }), 'auth_required');
  assert.equal(phaseOf({ ...base, online: false, pending: 3 }), 'offline');
  assert.equal(phaseOf({ ...base, running: true }), 'syncing');
  assert.equal(phaseOf({ ...base, pending: 2 }), 'waiting');
  assert.equal(phaseOf(base), 'synced');
  assert.equal(phaseOf({ ...base, lastSync: null }), 'syncing'); // just signed in: not synced until the first pull
  const s = summary({ ...base, pending: 3, oldest: 0, lastSync: 0, running: true, total: 4, done: 1 }, 120_000);
  assert.deepEqual([s.pendingText, s.oldest, s.last, s.progress, s.progressText], ['3 waiting', 'oldest 2 min', 'last sync 2 min ago', 0.25, '1 of 4 sent']);
});

test('a held or rejected op says what actually happened, and who did it', () => {
  const held = (reason, message, details) => ({ state: 'held', outcome: { reason, message, details } });
  assert.equal(outcomeText(held('insufficient_quantity', 'SN-2 is scrapped', { available: 0, last_action: 'Scrap', last_by: 'sam' })),
    'Held for a supervisor: SN-2 is scrapped (scrapped by sam)');
  assert.equal(outcomeText(held('stale_location', 'SN-1 is at B, not A', { actual_location: 'B', last_action: 'Move', last_by: 'bob' })),
    'Held for a supervisor: SN-1 is at B, not A (moved by bob)');
  assert.equal(whatHappened({ reason: 'already_installed', message: 'SN-3 is already installed in ASM-1', details: { last_action: 'Assemble', last_by: 'eve' } }),
    'SN-3 is already installed in ASM-1 (installed by eve)');
  assert.equal(whatHappened({ reason: 'insufficient_quantity', message: 'A holds 3 ea of P, the operation takes 5' }), 'A holds 3 ea of P, the operation takes 5');
  assert.equal(whatHappened({ reason: 'dependency_rejected', message: 'Operation 0192…, which this one depends on, was rejected' }), REASONS.dependency_rejected);
  assert.equal(whatHappened({ reason: 'insufficient_quantity' }), REASONS.insufficient_quantity);
});

test('the reasons of picks into kits have plain words', () => {
  for (const reason of ['already_kitted', 'kit_not_open', 'not_on_kit']) {
    assert.ok(REASONS[reason], reason);
    assert.doesNotMatch(reasonText(reason), /_/, reason);
  }
});
