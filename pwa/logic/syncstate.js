// What the always-visible sync indicator says, from plain facts. Pure.

export function ageText(ms) {
  if (ms == null || !Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} days`;
}

/** The sync phase, in priority order: what stops sync first is what the operator must see. */
export function phaseOf(s) {
  if (!s.signedIn) return 'signed_out';
  if (s.authExpired) return 'auth_required';
  if (s.updateRequired) return 'update_required';
  if (s.gap) return 'gap';
  if (!s.online) return 'offline';
  if (s.running) return 'syncing';
  if (s.error) return 'error';
  if (s.pending > 0) return 'waiting';
  if (s.lastSync == null) return 'syncing'; // signed in, the first sync not done yet: nothing is here to work offline
  return 'synced';
}

const WORDS = {
  signed_out: 'Not signed in',
  auth_required: 'Sign in again to sync',
  update_required: 'App update needed to sync',
  gap: 'Sync stopped — ask a supervisor',
  offline: 'Offline — work is saved on this phone',
  syncing: 'Syncing…',
  error: 'Sync failed — will retry',
  waiting: 'Waiting to sync',
  synced: 'All synced',
};

/** {phase, title, pending, oldest, last, progress} for the status bar and the sync screen. */
export function summary(s, now = Date.now()) {
  const phase = phaseOf(s);
  const progress = s.running && s.total > 0 ? Math.min(1, s.done / s.total) : null;
  return {
    phase,
    title: WORDS[phase],
    pending: s.pending,
    pendingText: s.pending === 0 ? 'Nothing waiting' : `${s.pending} waiting`,
    oldest: s.pending > 0 && s.oldest != null ? `oldest ${ageText(now - s.oldest)}` : '',
    last: s.lastSync != null ? `last sync ${ageText(now - s.lastSync)} ago` : 'never synced',
    progress,
    progressText: progress == null ? '' : `${s.done} of ${s.total} sent`,
  };
}
