// Sync status: what waits, since when, the last sync, progress while a backlog goes out, and every
// op's outcome in plain words (problems first on request).

import { h, button } from '../ui.js';
import * as outbox from '../outbox.js';
import * as sync from '../sync.js';
import { isProblem, outcomeText } from '../logic/reasons.js';
import { summary } from '../logic/syncstate.js';
import { t } from '../i18n.js';

/** The server's message too, for a held or rejected op whose outcome line does not say it already. */
const small = (r) => (isProblem(r) && r.outcome?.message && !outcomeText(r).includes(r.outcome.message) ? ` · ${r.outcome.message}` : '');
const when = (time) => (time ? new Date(time).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '');

export function mount(root, ctx) {
  let problemsOnly = false;
  const facts = h('dl.facts');
  const bar = h('progress', { max: 1, value: 0 });
  const barText = h('span.progress-text');
  const list = h('ul.outcomes');
  const filter = button(t('syncv.problems_only'), () => { problemsOnly = !problemsOnly; filter.setAttribute('aria-pressed', String(problemsOnly)); refresh(); }, '.secondary');
  root.append(h('section.sync',
    h('h2', t('syncv.title')), facts, h('div.progress', bar, barText),
    h('div.buttons', button(t('syncv.sync_now'), () => sync.flush(), '.primary'), filter),
    h('h3', t('syncv.outcomes')), list,
    h('p.who', t('syncv.who', { user: ctx.session.user?.username ?? '—', device: ctx.session.deviceId?.slice(0, 8) })),
    button(t('syncv.sign_out'), () => ctx.signOut(), '.secondary')));

  let listTimer = null;
  function refresh() {
    const s = summary(sync.state);
    if (sync.state.newRejected || sync.state.newHeld) outbox.markSeen().then(sync.refreshStats); // seen here: no longer new
    facts.dataset.phase = s.phase;
    const last = s.lastAge ? t('sync.ago', { age: s.lastAge }) : t('sync.never');
    facts.replaceChildren(...[['state', s.title], ['waiting', s.pendingText], ['oldest', s.oldestAge || '—'], ['last-sync', last]]
      .flatMap(([fact, v]) => [h('dt', t(`syncv.${fact}`)), h('dd', { dataset: { fact } }, v)]));
    bar.hidden = s.progress == null;
    bar.value = s.progress ?? 0;
    barText.textContent = s.progressText;
    clearTimeout(listTimer); // the list is read at most every half second while a backlog syncs
    listTimer = setTimeout(async () => {
      const records = await outbox.recent(100, problemsOnly);
      list.replaceChildren(...(records.length ? records.map((r) => h(`li.state-${r.state}`, { dataset: { opId: r.op_id } },
        h('b', r.summary), h('span.outcome', outcomeText(r)), h('small', `#${r.seq} · ${when(r.created)}${small(r)}`)))
        : [h('li.empty', t(problemsOnly ? 'syncv.no_problems' : 'syncv.nothing_yet'))]));
    }, s.phase === 'syncing' ? 500 : 0);
  }
  refresh();
  ctx.prompt(t('prompt.scan_anything'));
  return { onStatus: refresh, unmount: () => clearTimeout(listTimer) };
}
