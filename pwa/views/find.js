// Find: browse the phone's copy with no label in hand (offline too): parts by number prefix or words of
// the description, locations and units by code prefix; a tap opens what it is (views/item.js).

import { h } from '../ui.js';
import { find } from '../store.js';
import { t } from '../i18n.js';
const link = (code, text) => h('li', h('a', { href: `#/item?code=${encodeURIComponent(code)}` }, text));

export function mount(root, ctx, query) {
  ctx.prompt(t('find.prompt'));
  const box = h('input.find', { type: 'search', name: 'q', value: query.q ?? '', placeholder: t('find.hint'), 'aria-label': t('find.title'), autocomplete: 'off', spellcheck: false });
  const list = h('div.results');
  root.append(h('section.flow', h('h2', t('find.title')), box, list));
  let timer;
  let asked = 0;
  async function search() {
    const n = ++asked;
    const q = box.value;
    const found = await find(q);
    if (n !== asked) return; // a later keystroke's answer wins
    history.replaceState(null, '', q ? `#/find?q=${encodeURIComponent(q)}` : '#/find');
    const groups = [[t('find.parts'), found.parts.map((p) => link(`P:${p.part_number}`, `${p.part_number} — ${p.description ?? ''}`))],
      [t('find.locations'), found.locations.map((l) => link(`B:${l.code}`, l.name ? `${l.code} — ${l.name}` : l.code))],
      [t('find.units'), found.units.map((u) => link(`U:${u.serial}`, `${u.serial} (${u.part}) — ${u.installed_in ?? u.location}`))]].filter(([, items]) => items.length);
    list.replaceChildren(...(groups.length ? groups.map(([title, items]) => h('section', h('h3', title), h('ul.rows', items)))
      : q.trim() ? [h('p.empty', t('find.none'))] : []));
    list.dataset.query = q;
  }
  box.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 15); });
  if (box.value) search();
  return { unmount: () => { clearTimeout(timer); asked = NaN; } }; // an answer still on its way is dropped
}
