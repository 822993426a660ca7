// Scrap, use (remove) and isolate: scan the item, say how many (lots and untracked stock) and why (and, for a use,
// what for: an optional reference), confirm.

import { h, field, input, label, place, toast, enterMovesOn, quantityInput, readQuantity } from '../ui.js';
import { partByNumber } from '../store.js';
import { itemArgs, pick } from './pick.js';
import { t } from '../i18n.js';

// the words: setaside.<name>.title / .verb / .reasons (one key per reason, joined by |)
const KINDS = { scrap: {}, remove: {}, isolate: {} };

const CONFIRM = { text: (thing) => t('setaside.confirm', { thing }), ms: 5000 }; // scrap writes stock off: two taps

export function mount(root, ctx, query, name) {
  const kind = KINDS[name] && { title: t(`setaside.${name}.title`), verb: t(`setaside.${name}.verb`), reasons: t(`setaside.${name}.reasons`).split('|') };
  let row = null;
  let armed = null; // scrap: the first tap arms the button for CONFIRM.ms, the second one queues
  const what = h('p.dest');
  const quantity = quantityInput('quantity', { value: 1, onkeydown: enterMovesOn });
  const qtyField = field(t('common.quantity'), quantity);
  const reason = input('reason', { placeholder: t('setaside.reason'), autocapitalize: 'sentences', onkeydown: enterMovesOn });
  const reference = input('reference', { placeholder: t('setaside.reference_hint'), onkeydown: enterMovesOn });
  const go = h('button.primary.danger', { type: 'submit', disabled: true }, kind.verb);
  const form = h('form.flow', { onsubmit: (e) => { e.preventDefault(); submit(); } },
    h('h2', kind.title), what, qtyField, field(t('setaside.reason'), reason),
    h('div.chips', kind.reasons.map((r) => h('button.chip', { type: 'button', onclick: () => { reason.value = r; } }, r))),
    name === 'remove' ? field(t('setaside.reference'), reference) : null, go);
  root.append(form);
  form.addEventListener('input', () => { if (armed) render(); }); // changed after the first tap: tap twice again

  function render() {
    clearTimeout(armed);
    armed = null;
    go.classList.remove('armed');
    what.textContent = !row ? '' : [label(row), place(row), !row.serial && t('setaside.there', { n: row.quantity })].filter(Boolean).join(' — ');
    qtyField.hidden = !row || Boolean(row.serial);
    go.disabled = !row;
    go.textContent = row ? `${kind.verb} ${row.serial ?? label(row)}` : kind.verb;
    ctx.prompt(row ? t('setaside.prompt_reason') : t(`setaside.${name}.prompt`));
  }

  async function onScan(scan) {
    const picked = await pick(scan, root, { allow: (r) => r.quantity > 0 && !r.installed_in && !r.scrapped && (name === 'scrap' || !r.isolated) && r.status !== 'removed' });
    if (!picked) return;
    if (picked.kind === 'location') return toast(t('setaside.not_location'), 'warn');
    row = picked.row;
    quantity.value = row.quantity;
    quantity.max = row.quantity;
    render();
  }

  async function submit() {
    const range = t('setaside.quantity_range', { max: row.quantity });
    const read = row.serial ? { value: 1 } : readQuantity(quantity.value, await partByNumber(row.part), { max: row.quantity, range });
    if (read.error) return toast(read.error, 'error');
    const q = read.value;
    if (!reason.value.trim()) return toast(t('setaside.give_reason'), 'error');
    const args = { ...itemArgs(row), location: row.location, quantity: q, reason: reason.value.trim() };
    if (name === 'scrap' && row.isolated && !row.serial) args.isolated = true;
    if (name === 'remove' && reference.value.trim()) args.reference = reference.value.trim();
    const thing = row.serial ?? `${q} × ${label(row)}`;
    if (name === 'scrap' && !armed) {
      go.textContent = CONFIRM.text(thing);
      go.classList.add('armed');
      armed = setTimeout(render, CONFIRM.ms);
      return;
    }
    await ctx.act([{ type: name, args, summary: t('setaside.summary', { verb: kind.verb, thing, location: row.location }) }], t(`setaside.${name}.queued`, { thing }));
    row = null;
    reason.value = '';
    reference.value = '';
    render();
  }

  render();
  if (query.code) onScan({ text: query.code });
  return { onScan, unmount: () => clearTimeout(armed) };
}
