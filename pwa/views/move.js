// Move: scan one or many items (units, or lots and untracked stock with a quantity — partial moves
// allowed), then the destination; one tap queues a move per item. A lot shows the part's lots to take first
// (FEFO, from this phone's copy) and a warning, not a refusal, when another one expires before it.

import { h, button, label, place, toast, enterMovesOn, readQuantity } from '../ui.js';
import { itemArgs, pick } from './pick.js';
import { locationByCode, partByNumber, rowsWhere } from '../store.js';
import { expiresBefore, fefo } from '../logic/rows.js';
import { t, tn } from '../i18n.js';

export function mount(root, ctx, query) {
  const items = []; // {row, qty input, first: the part's lots to take first}
  let destination = null;
  const list = h('ul.picked');
  const dest = h('p.dest');
  const go = h('button.primary', { type: 'button', disabled: true, onclick: submit }, t('move.title'));
  root.append(h('section.flow', h('h2', t('move.title')), list, dest, go, button(t('common.start_over'), () => ctx.nav('move'), '.secondary')));

  function render() {
    list.replaceChildren(...(items.length ? items.map((it, i) => h('li', h('span', t('move.item_from', { item: label(it.row), place: place(it.row) })), it.qty,
      h('button.remove', { type: 'button', 'aria-label': t('common.remove'), onclick: () => { items.splice(i, 1); render(); } }, '✕'),
      it.first.length > 1 ? h('div.hint.fefo', t('move.fefo', { rows: it.first.map((r) => [r.lot, r.location, r.expiry].filter(Boolean).join(' ')).join(', ') })) : null))
      : [h('li.empty', t('move.no_items'))]));
    dest.textContent = destination ? t('move.to', { to: destination }) : '';
    go.disabled = !items.length || !destination;
    go.textContent = destination ? tn('move.go', items.length, { to: destination }) : t('move.title');
    ctx.prompt(t(!items.length ? 'move.prompt_items' : destination ? 'move.prompt_go' : 'move.prompt_more'));
  }

  async function add(row) {
    if (items.some((it) => it.row === row || (row.serial && it.row.serial === row.serial))) return toast(t('move.already_listed', { item: label(row) }), 'warn');
    const qty = row.serial ? null : h('input.qty', { type: 'number', inputmode: 'decimal', step: 'any', min: 0, max: row.quantity, value: row.quantity, 'aria-label': t('common.quantity'), onkeydown: enterMovesOn });
    const first = row.lot ? fefo(await rowsWhere('part', row.part)).slice(0, 3) : [];
    items.push({ row, qty, first });
    render();
    const soonest = expiresBefore(first, row); // said, not refused: the operator may know why
    if (soonest) toast(t('move.fefo_warn', { lot: soonest.lot, expiry: soonest.expiry }), 'warn');
  }

  async function onScan(scan) {
    const picked = await pick(scan, root);
    if (!picked) return;
    if (picked.kind === 'location') {
      if (!items.length) return toast(t('move.items_first'), 'warn');
      destination = picked.code;
      return render();
    }
    add(picked.row);
  }

  async function submit() {
    const drafts = [];
    for (const { row, qty } of items) {
      const read = row.serial ? { value: 1 } : readQuantity(qty.value, await partByNumber(row.part), { max: row.quantity, item: label(row) });
      if (read.error) return toast(read.error, 'error');
      const quantity = read.value;
      if (row.location === destination) return toast(t('move.already_there', { item: label(row), to: destination }), 'error');
      drafts.push({ type: 'move', args: { ...itemArgs(row), from_location: row.location, to_location: destination, quantity },
        summary: t('move.summary', { what: row.serial ? row.serial : `${quantity} × ${label(row)}`, from: row.location, to: destination }) });
    }
    await ctx.act(drafts, tn('move.queued', drafts.length, { to: destination }));
    items.length = 0;
    destination = null;
    render();
  }

  render();
  if (query.code) onScan({ text: query.code });
  if (query.to) locationByCode(query.to).then((l) => { if (l) { destination = l.code; render(); } });
  return { onScan };
}
