// Install: scan the parent unit, then its components (units, or a quantity of a lot or untracked
// part); one tap queues an install per component onto the parent's as-built BOM.

import { h, button, label, place, toast, enterMovesOn, readQuantity } from '../ui.js';
import { itemArgs, pick } from './pick.js';
import { partByNumber, unitBySerial } from '../store.js';
import { t, tn } from '../i18n.js';

export function mount(root, ctx, query) {
  let parent = null;
  const parts = [];
  const head = h('p.dest');
  const list = h('ul.picked');
  const go = h('button.primary', { type: 'button', disabled: true, onclick: submit }, t('action.install'));
  root.append(h('section.flow', h('h2', t('action.install')), head, list, go, button(t('common.start_over'), () => ctx.nav('install'), '.secondary')));

  function render() {
    head.textContent = parent ? t('install.into', { serial: parent.serial, part: parent.part, place: place(parent) }) : '';
    list.replaceChildren(...parts.map((it, i) => h('li', h('span', t('move.item_from', { item: label(it.row), place: place(it.row) })), it.qty,
      h('button.remove', { type: 'button', 'aria-label': t('common.remove'), onclick: () => { parts.splice(i, 1); render(); } }, '✕'))));
    go.disabled = !parent || !parts.length;
    go.textContent = parts.length ? tn('install.go', parts.length) : t('action.install');
    ctx.prompt(t(!parent ? 'install.prompt_parent' : parts.length ? 'install.prompt_more' : 'install.prompt_components'));
  }

  function setParent(row) {
    if (!row.serial) return toast(t('install.parent_serialized'), 'error');
    if (row.scrapped) return toast(t('pick.scrapped', { serial: row.serial }), 'error');
    parent = row;
    render();
  }

  async function onScan(scan) {
    const picked = await pick(scan, root, { allow: (r) => r.quantity > 0 && !r.installed_in && !r.scrapped });
    if (!picked) return;
    if (picked.kind === 'location') return toast(t('install.not_location'), 'warn');
    const row = picked.row;
    if (!parent) return setParent(row);
    if (row.serial === parent.serial) return toast(t('install.itself'), 'error');
    if (row.installed_in) return toast(t('install.already', { serial: row.serial, parent: row.installed_in }), 'error');
    if (parts.some((it) => it.row === row)) return toast(t('move.already_listed', { item: label(row) }), 'warn');
    const qty = row.serial ? null : h('input.qty', { type: 'number', inputmode: 'decimal', step: 'any', min: 0, max: row.quantity, value: 1, 'aria-label': t('common.quantity'), onkeydown: enterMovesOn });
    parts.push({ row, qty });
    render();
  }

  async function submit() {
    const drafts = [];
    for (const { row, qty } of parts) {
      const read = row.serial ? { value: 1 } : readQuantity(qty.value, await partByNumber(row.part), { max: row.quantity, item: label(row) });
      if (read.error) return toast(read.error, 'error');
      const quantity = read.value;
      drafts.push({ type: 'install', args: { parent_serial: parent.serial, ...itemArgs(row), from_location: row.location, quantity },
        summary: t('install.summary', { what: row.serial ?? `${quantity} × ${label(row)}`, parent: parent.serial }) });
    }
    await ctx.act(drafts, t('install.queued', { n: drafts.length, parent: parent.serial }));
    parts.length = 0;
    render();
  }

  render();
  if (query.parent) unitBySerial(query.parent).then((u) => u && setParent(u));
  if (query.component) unitBySerial(query.component).then((u) => { if (u) { parts.push({ row: u, qty: null }); render(); } });
  return { onScan };
}
