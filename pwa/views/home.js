// Home: the actions, big and in thumb reach, and what this phone did lately.

import { h } from '../ui.js';
import * as outbox from '../outbox.js';
import { outcomeText } from '../logic/reasons.js';

const ACTIONS = [
  ['receive', 'Receive'], ['move', 'Move'], ['install', 'Install'],
  ['uninstall', 'Uninstall'], ['scrap', 'Scrap'], ['isolate', 'Isolate'], ['count', 'Count'],
];

export function mount(root, ctx) {
  ctx.prompt('Scan anything to see what it is');
  const recent = h('ul.outcomes');
  root.append(
    h('nav.actions', ACTIONS.map(([route, name]) => h('a.action', { href: `#/${route}`, dataset: { action: route } }, name))),
    h('h2', 'Recent work'), recent,
    h('a.link', { href: '#/sync' }, 'All sync outcomes →'),
  );
  outbox.recent(6).then((records) => {
    recent.replaceChildren(...(records.length ? records.map((r) => h(`li.state-${r.state}`, h('b', r.summary), h('span', outcomeText(r))))
      : [h('li.empty', 'Nothing yet this shift.')]));
  });
}
