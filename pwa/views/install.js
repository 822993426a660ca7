// Install: scan the parent unit, then its components (units, or a quantity of a lot or untracked
// part); one tap queues an install per component onto the parent's as-built BOM.

import { h, button, label, place, toast, enterMovesOn } from '../ui.js';
import { itemArgs, pick } from './pick.js';
import { unitBySerial } from '../store.js';

export function mount(root, ctx, query) {
  let parent = null;
  const parts = [];
  const head = h('p.dest');
  const list = h('ul.picked');
  const go = h('button.primary', { type: 'button', disabled: true, onclick: submit }, 'Install');
  root.append(h('section.flow', h('h2', 'Install'), head, list, go, button('Start over', () => ctx.nav('install'), '.secondary')));

  function render() {
    head.textContent = parent ? `Into ${parent.serial} (${parent.part}, ${place(parent)})` : '';
    list.replaceChildren(...parts.map((it, i) => h('li', h('span', `${label(it.row)} — from ${place(it.row)}`), it.qty,
      h('button.remove', { type: 'button', 'aria-label': 'Remove', onclick: () => { parts.splice(i, 1); render(); } }, '✕'))));
    go.disabled = !parent || !parts.length;
    go.textContent = parts.length ? `Install ${parts.length} component${parts.length === 1 ? '' : 's'}` : 'Install';
    ctx.prompt(!parent ? 'Scan the parent unit' : parts.length ? 'Scan more components, or tap Install' : 'Scan the components');
  }

  function setParent(row) {
    if (!row.serial) return toast('The parent must be a serialized unit', 'error');
    if (row.scrapped) return toast(`${row.serial} is scrapped`, 'error');
    parent = row;
    render();
  }

  async function onScan(scan) {
    const picked = await pick(scan, root, { allow: (r) => r.quantity > 0 && !r.installed_in && !r.scrapped });
    if (!picked) return;
    if (picked.kind === 'location') return toast('Scan a unit or a part, not a location', 'warn');
    const row = picked.row;
    if (!parent) return setParent(row);
    if (row.serial === parent.serial) return toast('A unit cannot be installed into itself', 'error');
    if (row.installed_in) return toast(`${row.serial} is already installed in ${row.installed_in}`, 'error');
    if (parts.some((it) => it.row === row)) return toast(`${label(row)} is already in the list`, 'warn');
    const qty = row.serial ? null : h('input.qty', { type: 'number', inputmode: 'numeric', min: 1, max: row.quantity, value: 1, 'aria-label': 'Quantity', onkeydown: enterMovesOn });
    parts.push({ row, qty });
    render();
  }

  async function submit() {
    const drafts = [];
    for (const { row, qty } of parts) {
      const quantity = row.serial ? 1 : Number(qty.value);
      if (!Number.isInteger(quantity) || quantity < 1 || quantity > row.quantity) return toast(`Quantity for ${label(row)}: 1 to ${row.quantity}`, 'error');
      drafts.push({ type: 'install', args: { parent_serial: parent.serial, ...itemArgs(row), from_location: row.location, quantity },
        summary: `Install ${row.serial ?? `${quantity} × ${label(row)}`} into ${parent.serial}` });
    }
    await ctx.act(drafts, `Queued: ${drafts.length} installed into ${parent.serial}`);
    parts.length = 0;
    render();
  }

  render();
  if (query.parent) unitBySerial(query.parent).then((u) => u && setParent(u));
  if (query.component) unitBySerial(query.component).then((u) => { if (u) { parts.push({ row: u, qty: null }); render(); } });
  return { onScan };
}
