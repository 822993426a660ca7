// Scrap and isolate: scan the item, say how many (lots and untracked stock) and why, confirm.

import { h, field, input, label, place, toast, enterMovesOn } from '../ui.js';
import { itemArgs, pick } from './pick.js';

const KINDS = {
  scrap: { title: 'Scrap', verb: 'Scrap', reasons: ['Damaged', 'Failed test', 'Expired', 'Obsolete'] },
  isolate: { title: 'Isolate (quarantine)', verb: 'Isolate', reasons: ['Suspect quality', 'Failed inspection', 'Supplier recall', 'Awaiting MRB'] },
};

export function mount(root, ctx, query, name) {
  const kind = KINDS[name];
  let row = null;
  const what = h('p.dest');
  const quantity = input('quantity', { type: 'number', inputmode: 'numeric', min: 1, value: 1, onkeydown: enterMovesOn });
  const qtyField = field('Quantity', quantity);
  const reason = input('reason', { placeholder: 'Reason', autocapitalize: 'sentences', onkeydown: enterMovesOn });
  const go = h('button.primary.danger', { type: 'submit', disabled: true }, kind.verb);
  const form = h('form.flow', { onsubmit: (e) => { e.preventDefault(); submit(); } },
    h('h2', kind.title), what, qtyField, field('Reason', reason),
    h('div.chips', kind.reasons.map((r) => h('button.chip', { type: 'button', onclick: () => { reason.value = r; } }, r))), go);
  root.append(form);

  function render() {
    what.textContent = row ? `${label(row)} — ${place(row)}${row.serial ? '' : ` — ${row.quantity} there`}` : '';
    qtyField.hidden = !row || Boolean(row.serial);
    go.disabled = !row;
    go.textContent = row ? `${kind.verb} ${row.serial ?? label(row)}` : kind.verb;
    ctx.prompt(row ? 'Give a reason and confirm' : `Scan what to ${kind.verb.toLowerCase()}`);
  }

  async function onScan(scan) {
    const picked = await pick(scan, root, { allow: (r) => r.quantity > 0 && !r.installed_in && !r.scrapped && (name === 'scrap' || !r.isolated) });
    if (!picked) return;
    if (picked.kind === 'location') return toast('Scan the item, not a location', 'warn');
    row = picked.row;
    quantity.value = row.quantity;
    quantity.max = row.quantity;
    render();
  }

  async function submit() {
    const q = row.serial ? 1 : Number(quantity.value);
    if (!Number.isInteger(q) || q < 1 || q > row.quantity) return toast(`Quantity: 1 to ${row.quantity}`, 'error');
    if (!reason.value.trim()) return toast('Give a reason', 'error');
    const args = { ...itemArgs(row), location: row.location, quantity: q, reason: reason.value.trim() };
    if (name === 'scrap' && row.isolated && !row.serial) args.isolated = true;
    const thing = row.serial ?? `${q} × ${label(row)}`;
    await ctx.act([{ type: name, args, summary: `${kind.verb} ${thing} at ${row.location}` }], `Queued: ${kind.verb.toLowerCase()} ${thing}`);
    row = null;
    reason.value = '';
    render();
  }

  render();
  if (query.code) onScan({ text: query.code });
  return { onScan };
}
