// Pick kit: the open kits this phone pulled (offline too). Open one: its lines with what remains to pick (less
// this phone's picks not synced yet) and where the phone holds each part (available stock, the most first).
// Then one scan per pick: a unit is picked whole; a lot or untracked stock gives what its line still needs, at
// most what is there — from where it is, into the kit's tote. The server decides (a unit in another kit is
// held for a supervisor).

import { h, toast, label } from '../ui.js';
import { openKits, rowsWhere } from '../store.js';
import { itemArgs, pick } from './pick.js';
import { cmp, positive } from '../logic/qty.js';
import { t } from '../i18n.js';

const available = (row) => row.status === 'available' && positive(row.quantity);

/** Where the phone holds a part: its available rows, the most first. */
async function whereIs(part, tote) {
  const rows = (await rowsWhere('part', part)).filter((r) => available(r) && r.location !== tote);
  return rows.sort((a, b) => cmp(b.quantity, a.quantity) || String(a.location).localeCompare(String(b.location))).slice(0, 3);
}

export function mount(root, ctx, query) {
  const list = h('div.results');
  const number = query.kit ?? null;
  root.append(h('section.flow', h('h2', number ? t('pickkit.kit', { kit: number }) : t('pickkit.title')), list));
  let kit = null;

  async function show() {
    const kits = await openKits();
    if (!number) {
      ctx.prompt(t('pickkit.prompt_kit'));
      list.replaceChildren(kits.length ? h('ul.rows', kits.map((k) => h('li', { dataset: { kit: k.kit } },
        h('a', { href: `#/pickkit?kit=${encodeURIComponent(k.kit)}` }, h('b', k.kit), ' ',
          h('span', t('pickkit.kit_line', { location: k.location, run: k.run ?? '—', left: k.lines.filter((l) => positive(l.remaining)).length }))))))
        : h('p.empty', t('pickkit.none')));
      return;
    }
    kit = kits.find((k) => k.kit === number) ?? null;
    if (!kit) { list.replaceChildren(h('p.empty', t('pickkit.not_here', { kit: number }))); return; }
    ctx.prompt(t('pickkit.prompt_scan'));
    const lines = [];
    for (const line of kit.lines) {
      const rows = positive(line.remaining) ? await whereIs(line.part, kit.tote) : [];
      lines.push(h('li', { dataset: { part: line.part, remaining: String(line.remaining) } },
        h('b', line.part), ' ', h('span', t('pickkit.line', { remaining: line.remaining, quantity: line.quantity, unit: line.unit ?? '' })),
        rows.length ? h('div.hint', t('pickkit.where', { places: rows.map((r) => `${r.location} (${label(r)}: ${r.quantity})`).join(', ') })) : null));
    }
    list.replaceChildren(h('p.hint', t('pickkit.tote', { tote: kit.tote })), h('ul.rows', lines));
  }

  async function onScan(scan) {
    if (!kit) return toast(t('pickkit.prompt_kit'), 'warn');
    const picked = await pick(scan, root);
    if (!picked) return;
    if (picked.kind === 'location') return toast(t('pickkit.scan_items'), 'warn');
    const { row } = picked;
    const line = kit.lines.find((l) => l.part === row.part);
    if (!line) return toast(t('pickkit.not_on_kit', { part: row.part, kit: kit.kit }), 'error');
    if (!positive(line.remaining)) return toast(t('pickkit.line_done', { part: row.part }), 'warn');
    if (row.location === kit.tote) return toast(t('pickkit.in_kit_already', { item: label(row) }), 'warn');
    const quantity = row.serial ? 1 : cmp(row.quantity, line.remaining) < 0 ? row.quantity : line.remaining;
    const what = row.serial ? row.serial : `${quantity} × ${label(row)}`;
    await ctx.act([{ type: 'kit', args: { kit: kit.kit, ...itemArgs(row), from_location: row.location, quantity }, tote: kit.tote,
      summary: t('pickkit.summary', { what, kit: kit.kit }) }], t('pickkit.queued', { what, kit: kit.kit }));
    await show();
  }

  show();
  return { onScan, onStatus: show }; // a pull brings the server's lines
}
