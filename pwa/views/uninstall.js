// Uninstall: scan the parent unit, tap what comes off (with a quantity for lots and untracked
// parts), scan where it goes.

import { h, button, label, toast, enterMovesOn } from '../ui.js';
import { itemArgs, pick } from './pick.js';
import { installedIn, unitBySerial } from '../store.js';

export function mount(root, ctx, query) {
  let parent = null;
  let components = [];
  const chosen = new Map(); // row → qty input (or null for units)
  let destination = null;
  const head = h('p.dest');
  const list = h('ul.picked');
  const dest = h('p.dest');
  const go = h('button.primary', { type: 'button', disabled: true, onclick: submit }, 'Uninstall');
  root.append(h('section.flow', h('h2', 'Uninstall'), head, list, dest, go, button('Start over', () => ctx.nav('uninstall'), '.secondary')));

  function render() {
    head.textContent = parent ? `From ${parent.serial} (${parent.part})` : '';
    list.replaceChildren(...components.map((row) => {
      const on = chosen.has(row);
      return h('li', h('button.row', { type: 'button', 'aria-pressed': String(on), onclick: () => toggle(row) }, `${on ? '☑' : '☐'} ${label(row)} ×${row.quantity}`), on ? chosen.get(row) : null);
    }));
    if (parent && !components.length) list.replaceChildren(h('li.empty', 'Nothing is installed in it (on this phone’s copy)'));
    dest.textContent = destination ? `To ${destination}` : '';
    go.disabled = !chosen.size || !destination;
    go.textContent = chosen.size && destination ? `Uninstall ${chosen.size} to ${destination}` : 'Uninstall';
    ctx.prompt(!parent ? 'Scan the parent unit' : !chosen.size ? 'Tap or scan what comes off' : destination ? 'Tap Uninstall' : 'Scan where it goes');
  }

  function toggle(row) {
    if (chosen.has(row)) chosen.delete(row);
    else chosen.set(row, row.serial ? null : h('input.qty', { type: 'number', inputmode: 'numeric', min: 1, max: row.quantity, value: row.quantity, 'aria-label': 'Quantity', onkeydown: enterMovesOn }));
    render();
  }

  async function setParent(unit) {
    parent = unit;
    components = await installedIn(unit.serial);
    chosen.clear();
    render();
  }

  async function onScan(scan) {
    if (!parent) {
      const unit = await unitBySerial(scan.text);
      return unit ? setParent(unit) : toast('Scan the parent unit (a serial)', 'error');
    }
    const inside = components.find((r) => r.serial === scan.text);
    if (inside) { if (!chosen.has(inside)) toggle(inside); return; }
    const picked = await pick(scan, root, { allow: (r) => r.installed_in === parent.serial });
    if (!picked) return;
    if (picked.kind === 'location') { destination = picked.code; return render(); }
    const row = components.find((r) => r.serial ? r.serial === picked.row.serial : r.part === picked.row.part && r.lot === picked.row.lot);
    if (row && !chosen.has(row)) toggle(row);
  }

  async function submit() {
    const drafts = [];
    for (const [row, qty] of chosen) {
      const quantity = row.serial ? 1 : Number(qty.value);
      if (!Number.isInteger(quantity) || quantity < 1 || quantity > row.quantity) return toast(`Quantity for ${label(row)}: 1 to ${row.quantity}`, 'error');
      drafts.push({ type: 'uninstall', args: { parent_serial: parent.serial, ...itemArgs(row), to_location: destination, quantity },
        summary: `Uninstall ${row.serial ?? `${quantity} × ${label(row)}`} from ${parent.serial} to ${destination}` });
    }
    await ctx.act(drafts, `Queued: ${drafts.length} uninstalled to ${destination}`);
    await setParent(parent);
    destination = null;
    render();
  }

  render();
  if (query.parent) unitBySerial(query.parent).then(async (u) => {
    if (!u) return;
    await setParent(u);
    const row = components.find((r) => r.serial === query.code);
    if (row) toggle(row);
  });
  return { onScan };
}
