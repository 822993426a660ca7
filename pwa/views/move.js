// Move: scan one or many items (units, or lots and untracked stock with a quantity — partial moves
// allowed), then the destination; one tap queues a move per item.

import { h, button, label, place, toast, enterMovesOn } from '../ui.js';
import { itemArgs, pick } from './pick.js';
import { locationByCode } from '../store.js';

export function mount(root, ctx, query) {
  const items = []; // {row, qty input}
  let destination = null;
  const list = h('ul.picked');
  const dest = h('p.dest');
  const go = h('button.primary', { type: 'button', disabled: true, onclick: submit }, 'Move');
  root.append(h('section.flow', h('h2', 'Move'), list, dest, go, button('Start over', () => ctx.nav('move'), '.secondary')));

  function render() {
    list.replaceChildren(...(items.length ? items.map((it, i) => h('li', h('span', `${label(it.row)} — from ${place(it.row)}`), it.qty,
      h('button.remove', { type: 'button', 'aria-label': 'Remove', onclick: () => { items.splice(i, 1); render(); } }, '✕')))
      : [h('li.empty', 'No items yet')]));
    dest.textContent = destination ? `To ${destination}` : '';
    go.disabled = !items.length || !destination;
    go.textContent = destination ? `Move ${items.length} item${items.length === 1 ? '' : 's'} to ${destination}` : 'Move';
    ctx.prompt(!items.length ? 'Scan the items to move' : destination ? 'Tap Move, or scan more' : 'Scan more items, or the destination');
  }

  function add(row) {
    if (items.some((it) => it.row === row || (row.serial && it.row.serial === row.serial))) return toast(`${label(row)} is already in the list`, 'warn');
    const qty = row.serial ? null : h('input.qty', { type: 'number', inputmode: 'numeric', min: 1, max: row.quantity, value: row.quantity, 'aria-label': 'Quantity', onkeydown: enterMovesOn });
    items.push({ row, qty });
    render();
  }

  async function onScan(scan) {
    const picked = await pick(scan, root);
    if (!picked) return;
    if (picked.kind === 'location') {
      if (!items.length) return toast('Scan the items first, then the destination', 'warn');
      destination = picked.code;
      return render();
    }
    add(picked.row);
  }

  async function submit() {
    const drafts = [];
    for (const { row, qty } of items) {
      const quantity = row.serial ? 1 : Number(qty.value);
      if (!Number.isInteger(quantity) || quantity < 1 || quantity > row.quantity) return toast(`Quantity for ${label(row)}: 1 to ${row.quantity}`, 'error');
      if (row.location === destination) return toast(`${label(row)} is already in ${destination}`, 'error');
      drafts.push({ type: 'move', args: { ...itemArgs(row), from_location: row.location, to_location: destination, quantity },
        summary: `Move ${row.serial ? row.serial : `${quantity} × ${label(row)}`} ${row.location} → ${destination}` });
    }
    await ctx.act(drafts, `Queued: ${drafts.length} move${drafts.length === 1 ? '' : 's'} to ${destination}`);
    items.length = 0;
    destination = null;
    render();
  }

  render();
  if (query.code) onScan({ text: query.code });
  if (query.to) locationByCode(query.to).then((l) => { if (l) { destination = l.code; render(); } });
  return { onScan };
}
