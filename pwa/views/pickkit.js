// Pick kit: the open kits this phone pulled (offline too). A kit: its lines with what remains to pick (less this
// phone's picks not synced yet) and where the phone holds each part (available stock, FEFO: the first expiring
// first, then the oldest, as the server's kits suggest). One scan
// per pick: a unit whole; a lot or untracked stock what its line still needs, at most what is there — from where
// it is, into the kit's tote. The server decides (a unit in another kit is held for a supervisor).

import { h, toast, label } from '../ui.js';
import { openKits, rowsWhere } from '../store.js';
import { itemArgs, pick } from './pick.js';
import { cmp, positive } from '../logic/qty.js';
import { fefo } from '../logic/rows.js';
import { t } from '../i18n.js';

export function mount(root, ctx, query) {
  const list = h('div.results');
  const number = query.kit;
  root.append(h('section.flow', h('h2', number ?? t('pickkit.title')), list));
  let kit = null;

  async function show() {
    const kits = await openKits();
    kit = kits.find((k) => k.kit === number) ?? null;
    ctx.prompt(t(kit ? 'pickkit.prompt_scan' : 'pickkit.prompt_kit'));
    if (!number) {
      return list.replaceChildren(kits.length ? h('ul.rows', kits.map((k) => h('li', { dataset: { kit: k.kit } },
        h('a', { href: `#/pickkit?kit=${encodeURIComponent(k.kit)}` }, h('b', k.kit), ` ${k.location} ${k.run ?? ''}`))))
        : h('p.empty', t('pickkit.none')));
    }
    if (!kit) return list.replaceChildren(h('p.empty', t('pickkit.none')));
    const lines = [];
    for (const l of kit.lines) {
      const rows = positive(l.remaining) ? fefo(await rowsWhere('part', l.part)).slice(0, 3) : [];
      lines.push(h('li', { dataset: { part: l.part, remaining: String(l.remaining) } }, h('b', l.part), ' ',
        t('pickkit.line', { remaining: l.remaining, quantity: l.quantity }),
        rows.length ? h('div.hint', rows.map((r) => `${r.location}: ${r.quantity}`).join(', ')) : null));
    }
    list.replaceChildren(h('ul.rows', lines));
  }

  async function onScan(scan) {
    if (!kit) return toast(t('pickkit.prompt_kit'), 'warn');
    const picked = await pick(scan, root);
    if (!picked || picked.kind === 'location') return;
    const { row } = picked;
    const line = kit.lines.find((l) => l.part === row.part);
    if (!line || !positive(line.remaining) || row.location === kit.tote) return toast(t('pickkit.not_needed', { item: label(row) }), 'error');
    const quantity = row.serial ? 1 : cmp(row.quantity, line.remaining) < 0 ? row.quantity : line.remaining;
    const summary = t('pickkit.summary', { what: row.serial ?? `${quantity} × ${label(row)}`, kit: kit.kit });
    await ctx.act([{ type: 'kit', args: { kit: kit.kit, ...itemArgs(row), from_location: row.location, quantity }, tote: kit.tote, summary }], summary);
    await show();
  }

  show();
  return { onScan, onStatus: show }; // a pull brings the server's lines
}
