// Uninstall: scan the parent unit, tap what comes off (with a quantity for lots and untracked
// parts), scan where it goes.

import { h, button, label, toast, enterMovesOn, readQuantity } from '../ui.js';
import { itemArgs, pick } from './pick.js';
import { installedIn, partByNumber, unitBySerial } from '../store.js';
import { t } from '../i18n.js';

export function mount(root, ctx, query) {
  let parent = null;
  let components = [];
  const chosen = new Map(); // row → qty input (or null for units)
  let destination = null;
  const head = h('p.dest');
  const list = h('ul.picked');
  const dest = h('p.dest');
  const go = h('button.primary', { type: 'button', disabled: true, onclick: submit }, t('action.uninstall'));
  root.append(h('section.flow', h('h2', t('action.uninstall')), head, list, dest, go, button(t('common.start_over'), () => ctx.nav('uninstall'), '.secondary')));

  function render() {
    head.textContent = parent ? t('uninstall.from', { serial: parent.serial, part: parent.part }) : '';
    list.replaceChildren(...components.map((row) => {
      const on = chosen.has(row);
      return h('li', h('button.row', { type: 'button', 'aria-pressed': String(on), onclick: () => toggle(row) }, `${on ? '☑' : '☐'} ${label(row)} ×${row.quantity}`), on ? chosen.get(row) : null);
    }));
    if (parent && !components.length) list.replaceChildren(h('li.empty', t('uninstall.nothing')));
    dest.textContent = destination ? t('move.to', { to: destination }) : '';
    go.disabled = !chosen.size || !destination;
    go.textContent = chosen.size && destination ? t('uninstall.go', { n: chosen.size, to: destination }) : t('action.uninstall');
    ctx.prompt(t(!parent ? 'install.prompt_parent' : !chosen.size ? 'uninstall.prompt_what' : destination ? 'uninstall.prompt_go' : 'uninstall.prompt_where'));
  }

  function toggle(row) {
    if (chosen.has(row)) chosen.delete(row);
    else chosen.set(row, row.serial ? null : h('input.qty', { type: 'number', inputmode: 'decimal', step: 'any', min: 0, max: row.quantity, value: row.quantity, 'aria-label': t('common.quantity'), onkeydown: enterMovesOn }));
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
      return unit ? setParent(unit) : toast(t('uninstall.parent_serial'), 'error');
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
      const read = row.serial ? { value: 1 } : readQuantity(qty.value, await partByNumber(row.part), { max: row.quantity, item: label(row) });
      if (read.error) return toast(read.error, 'error');
      const quantity = read.value;
      drafts.push({ type: 'uninstall', args: { parent_serial: parent.serial, ...itemArgs(row), to_location: destination, quantity },
        summary: t('uninstall.summary', { what: row.serial ?? `${quantity} × ${label(row)}`, parent: parent.serial, to: destination }) });
    }
    await ctx.act(drafts, t('uninstall.queued', { n: drafts.length, to: destination }));
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
