// Sync status: what waits, since when, the last sync, progress while a backlog goes out, and every
// op's outcome in plain words (problems first on request).

import { h, button } from '../ui.js';
import * as outbox from '../outbox.js';
import * as sync from '../sync.js';
import { outcomeText } from '../logic/reasons.js';
import { summary } from '../logic/syncstate.js';

const when = (t) => (t ? new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '');

export function mount(root, ctx) {
  let problemsOnly = false;
  const facts = h('dl.facts');
  const bar = h('progress', { max: 1, value: 0 });
  const barText = h('span.progress-text');
  const list = h('ul.outcomes');
  const filter = button('Problems only', () => { problemsOnly = !problemsOnly; filter.setAttribute('aria-pressed', String(problemsOnly)); refresh(); }, '.secondary');
  root.append(h('section.sync',
    h('h2', 'Sync'), facts, h('div.progress', bar, barText),
    h('div.buttons', button('Sync now', () => sync.flush(), '.primary'), filter),
    h('h3', 'Outcomes'), list,
    h('p.who', `Signed in as ${ctx.session.user?.username ?? '—'} · device ${ctx.session.deviceId?.slice(0, 8)}`),
    button('Sign out', () => ctx.signOut(), '.secondary')));

  let listTimer = null;
  function refresh() {
    const s = summary(sync.state);
    facts.dataset.phase = s.phase;
    facts.replaceChildren(...[['State', s.title], ['Waiting', s.pendingText], ['Oldest', s.oldest.replace('oldest ', '') || '—'], ['Last sync', s.last.replace('last sync ', '')]]
      .flatMap(([k, v]) => [h('dt', k), h('dd', { dataset: { fact: k.toLowerCase().replace(' ', '-') } }, v)]));
    bar.hidden = s.progress == null;
    bar.value = s.progress ?? 0;
    barText.textContent = s.progressText;
    clearTimeout(listTimer); // the list is read at most every half second while a backlog syncs
    listTimer = setTimeout(async () => {
      const records = await outbox.recent(100, problemsOnly);
      list.replaceChildren(...(records.length ? records.map((r) => h(`li.state-${r.state}`, { dataset: { opId: r.op_id } },
        h('b', r.summary), h('span.outcome', outcomeText(r)), h('small', `#${r.seq} · ${when(r.created)}${r.state === 'held' || r.state === 'rejected' ? (r.outcome?.message ? ` · ${r.outcome.message}` : '') : ''}`)))
        : [h('li.empty', problemsOnly ? 'No problems.' : 'Nothing yet.')]));
    }, s.phase === 'syncing' ? 500 : 0);
  }
  refresh();
  ctx.prompt('Scan anything');
  return { onStatus: refresh, unmount: () => clearTimeout(listTimer) };
}
