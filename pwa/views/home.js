// Home: the actions, big and in thumb reach, and what this phone did lately.

import { h } from '../ui.js';
import * as outbox from '../outbox.js';
import { outcomeText } from '../logic/reasons.js';
import { t } from '../i18n.js';

const ACTIONS = ['receive', 'receivepo', 'pickkit', 'issue', 'complete', 'move', 'install', 'uninstall', 'remove', 'scrap', 'isolate', 'problem', 'count', 'find']; // action.<route>

export function mount(root, ctx) {
  ctx.prompt(t('home.prompt'));
  const recent = h('ul.outcomes');
  root.append(
    h('nav.actions', ACTIONS.map((route) => h('a.action', { href: `#/${route}`, dataset: { action: route } }, t(`action.${route}`)))),
    h('h2', t('home.recent')), recent,
    h('a.link', { href: '#/sync' }, t('home.all_outcomes')),
  );
  const load = () => outbox.recent(6).then((records) => {
    recent.replaceChildren(...(records.length ? records.map((r) => h(`li.state-${r.state}`, h('b', r.summary), h('span', outcomeText(r))))
      : [h('li.empty', t('home.nothing_yet'))]));
  });
  load();
  return { onStatus: load }; // outcomes as sync learns them
}
