// One flusher: push the outbox in seq-ordered batches, then pull the server's changes, yielding to the
// page between batches so that a long backlog never freezes it. Triggered on start, when the phone
// comes online, when the app becomes visible, after every new action and by a timer.

import { post, ApiError } from './api.js';
import * as outbox from './outbox.js';
import { applyPullPage } from './store.js';
import { getMeta, setMeta } from './db.js';
import { BATCH, PROTOCOL, backoff, onStopped, unsyncedAge, wireOp } from './logic/queue.js';
import { summary } from './logic/syncstate.js';
import { t } from './i18n.js';

const PULL_LIMIT = 500;
const TIMER_MS = 30_000;
const yieldToPage = () => new Promise((resolve) => setTimeout(resolve, 0));

export const events = new EventTarget();

/** Everything the status bar and the sync screen show. */
export const state = {
  signedIn: false, authExpired: false, updateRequired: false, gap: null, online: navigator.onLine,
  running: false, error: '', pending: 0, oldest: null, lastSync: null, total: 0, done: 0, failures: 0, newRejected: 0, newHeld: 0,
};

let deviceId = null;
let flushing = null;
let again = false;
let retryTimer = null;

function changed() {
  events.dispatchEvent(new CustomEvent('change', { detail: summary(state) }));
}

let problems = null; // rejected and held ops not yet seen, as last counted
let buzzed = 0;

/** Count the queue and the problems not yet seen; the phone buzzes (once in 10 s) when there are new ones. */
export async function refreshStats() {
  Object.assign(state, await outbox.pendingStats());
  const now = state.newRejected + state.newHeld;
  if (problems != null && now > problems && Date.now() - buzzed > 10_000) {
    buzzed = Date.now();
    navigator.vibrate?.(400);
  }
  problems = now;
  changed();
}

/** Push every pending op, batch by batch. Returns false when pushing had to stop. */
async function pushAll() {
  performance.mark('gemba-sync:push');
  const { pending } = await outbox.pendingStats();
  state.total = pending;
  state.done = 0;
  for (;;) {
    const batch = await outbox.peek(BATCH);
    if (!batch.length) return true;
    const answer = await post('/api/sync/push', {
      protocol: PROTOCOL, device_id: deviceId, ops: batch.map(wireOp), oldest_unsynced_age: unsyncedAge(batch[0].created),
    }, { timeout: 60_000 });
    await outbox.ack(answer.results);
    state.done += answer.results.length;
    await refreshStats();
    const next = onStopped(answer.stopped, answer.stopped?.expected_seq ? await outbox.keptSeqs(answer.stopped.expected_seq) : []);
    if (next.action === 'retry') throw new ApiError(t('sync.retry_later'), { status: 503 });
    if (next.action === 'resend') await outbox.requeueFrom(next.from);
    if (next.action === 'gap') {
      state.gap = t('sync.gap', { n: next.expected });
      return false;
    }
    await yieldToPage();
  }
}

/** Pull every page of changes since the stored cursor, one transaction per page. */
async function pullAll() {
  performance.mark('gemba-sync:pull');
  const started = Date.now();
  let cursor = (await getMeta('cursor')) ?? null;
  let first = true;
  for (;;) {
    const page = await post('/api/sync/pull', {
      protocol: PROTOCOL, device_id: deviceId, cursor, limit: PULL_LIMIT, oldest_unsynced_age: unsyncedAge(state.oldest),
    }, { timeout: 60_000 });
    await applyPullPage(page, first, outbox.resolve);
    first = false;
    cursor = page.cursor;
    if (!page.has_more) break;
    await yieldToPage();
  }
  performance.mark('gemba-sync:settle');
  await outbox.settle(started);
  performance.mark('gemba-sync:done');
}

async function run() {
  if (!state.signedIn || state.authExpired || state.updateRequired || !navigator.onLine) return;
  state.running = true;
  state.error = '';
  changed();
  try {
    if (await pushAll()) await pullAll();
    state.lastSync = Date.now();
    state.failures = 0;
    await setMeta('last_sync', state.lastSync);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.auth || error.status === 403) state.authExpired = true;
    else if (error.protocol) {
      state.updateRequired = true;
      navigator.serviceWorker?.getRegistration().then((r) => r?.update());
    } else {
      state.failures += 1;
      state.error = error.message;
      clearTimeout(retryTimer);
      retryTimer = setTimeout(flush, backoff(state.failures));
    }
  } finally {
    state.running = false;
    state.total = 0;
    await refreshStats();
  }
}

/** Start a sync now, or once more after the one running (never two at a time). */
export function flush() {
  if (flushing) { again = true; return flushing; }
  flushing = (async () => {
    try {
      do { again = false; await run(); } while (again);
    } finally { flushing = null; }
  })();
  return flushing;
}

export function setSignedIn(signedIn, device) {
  state.signedIn = signedIn;
  state.authExpired = false;
  deviceId = device;
  changed();
}

export async function start(device) {
  deviceId = device;
  state.lastSync = (await getMeta('last_sync')) ?? null;
  const online = () => { state.online = navigator.onLine; changed(); if (state.online) flush(); };
  addEventListener('online', online);
  addEventListener('offline', online);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') flush(); });
  setInterval(() => { refreshStats(); flush(); }, TIMER_MS);
  await refreshStats();
  flush();
}
