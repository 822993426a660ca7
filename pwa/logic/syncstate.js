// What the always-visible sync indicator says, from plain facts. Pure (the words: i18n.js's catalogue).

import { t } from '../i18n.js';

export function ageText(ms) {
  if (ms == null || !Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return t('age.s', { s });
  const m = Math.round(s / 60);
  if (m < 60) return t('age.min', { m });
  const h = Math.floor(m / 60);
  if (h < 48) return t('age.h_min', { h, m: m % 60 });
  return t('age.days', { d: Math.floor(h / 24) });
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


/** {phase, title, pending, oldest(Age), last, progress} for the status bar and the sync screen. */
export function summary(s, now = Date.now()) {
  const phase = phaseOf(s);
  const progress = s.running && s.total > 0 ? Math.min(1, s.done / s.total) : null;
  return {
    phase,
    title: t(`phase.${phase}`),
    pending: s.pending,
    pendingText: s.pending === 0 ? t('sync.nothing_waiting') : t('chip.waiting', { n: s.pending }),
    oldestAge: s.pending > 0 && s.oldest != null ? ageText(now - s.oldest) : '',
    oldest: s.pending > 0 && s.oldest != null ? t('sync.oldest', { age: ageText(now - s.oldest) }) : '',
    lastAge: s.lastSync != null ? ageText(now - s.lastSync) : '',
    last: s.lastSync != null ? t('sync.last', { age: ageText(now - s.lastSync) }) : t('sync.never'),
    progress,
    progressText: progress == null ? '' : t('sync.progress', { done: s.done, total: s.total }),
  };
}
