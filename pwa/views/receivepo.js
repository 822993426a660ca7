// Receive PO: the open lines of purchase orders this phone pulled (offline too), by PO, with what each
// expects — ordered, received, remaining (less this phone's receipts not synced yet). Filter by supplier,
// PO number or part; tap a line to receive against it (views/receive.js). A supplier label scanned here
// opens Receive with what it carries.

import { h } from '../ui.js';
import { openPoLines } from '../store.js';
import { labelFields, receivePrefill } from '../logic/codes.js';
import { t } from '../i18n.js';

/** Lines whose supplier, PO number or part starts a word with the filter (any case). */
export function matching(lines, filter) {
  const wanted = filter.trim().toLowerCase();
  if (!wanted) return lines;
  return lines.filter((l) => [l.supplier, l.po_line, l.part].some((text) => String(text ?? '').toLowerCase().split(/[\s/]+/).some((w) => w.startsWith(wanted))
    || String(text ?? '').toLowerCase().startsWith(wanted)));
}

export function mount(root, ctx, query) {
  ctx.prompt(t('receivepo.prompt'));
  const box = h('input.find', { type: 'search', name: 'po', value: query.q ?? '', placeholder: t('receivepo.filter'), 'aria-label': t('receivepo.filter'), autocomplete: 'off', spellcheck: false });
  const list = h('div.results');
  root.append(h('section.flow', h('h2', t('receivepo.title')), box, list));

  async function show() {
    const lines = matching(await openPoLines(), box.value);
    const byPo = new Map();
    for (const line of lines) {
      const number = line.po_line.slice(0, line.po_line.lastIndexOf('/'));
      if (!byPo.has(number)) byPo.set(number, { supplier: line.supplier, lines: [] });
      byPo.get(number).lines.push(line);
    }
    const item = (number, l) => h('li', { dataset: { poLine: l.po_line, remaining: String(l.remaining) } },
      h('a', { href: `#/receive?po_line=${encodeURIComponent(l.po_line)}` },
        h('b', `${l.po_line.slice(number.length + 1)} · ${l.part}`), ' ',
        h('span', t('receivepo.line', { ordered: l.ordered, received: l.received, remaining: l.remaining, unit: l.unit ?? '' }))));
    const section = ([number, po]) => h('section', { dataset: { po: number } },
      h('h3', `${number} — ${po.supplier}`), h('ul.rows', po.lines.map((l) => item(number, l))));
    list.replaceChildren(...(byPo.size ? [...byPo].map(section) : [h('p.empty', t('receivepo.none'))]));
  }
  box.addEventListener('input', show);
  show();

  function onScan(scan) {
    const fields = labelFields(scan.text);
    if (fields) return ctx.nav('receive', receivePrefill(fields));
    box.value = scan.text;
    return show();
  }
  return { onScan, onStatus: show }; // a pull brings the server's lines
}
