// Issue to run and Complete run, offline like every op. The open runs are the WIP locations this phone pulled
// (`<location>/<run>`, `wip`). Issue: one scan per component — a unit whole at once; a lot or untracked stock
// with how many — queued as `issue` from where it is into the run's WIP location. Complete: how many were built,
// their serials or lot (else the server names them), where: queued as `complete_run`. The server decides.

import { h, field, input, label, place, qty, toast, quantityInput, readQuantity } from '../ui.js';
import { allLocations, partByNumber, rowsWhere } from '../store.js';
import { itemArgs, pick } from './pick.js';
import { t } from '../i18n.js';

/** The open runs this phone knows, by number: [{run, location, wip}]. */
export async function openRuns() {
  return (await allLocations()).filter((l) => l.wip && l.parent && l.code.startsWith(`${l.parent}/`))
    .map((l) => ({ run: l.code.slice(l.parent.length + 1), location: l.parent, wip: l.code }))
    .sort((a, b) => a.run.localeCompare(b.run, undefined, { numeric: true }));
}

export function mount(root, ctx, query, name) {
  const box = h('section.flow', h('h2', query.run ?? t(`action.${name}`)));
  root.append(box);
  let run = null;
  let row = null;
  const what = h('p.dest');
  const onRun = h('ul.rows.issued'); // what is on the run (WIP) in this phone's copy
  const quantity = quantityInput('quantity', { value: 1 });
  const qtyField = field(t('common.quantity'), quantity);
  const go = h('button.primary', { type: 'submit' }, t(`action.${name}`));
  const form = h('form.flow', { onsubmit: (e) => { e.preventDefault(); name === 'issue' ? issue() : complete(); } });
  const serials = input('serials', { placeholder: t('run.serials') });
  const lot = input('lot', { placeholder: t('run.lot') });
  const where = input('location');

  openRuns().then((runs) => {
    run = runs.find((r) => r.run === query.run) ?? null;
    if (!run) {
      ctx.prompt(t('run.choose'));
      return box.append(runs.length ? h('ul.rows', runs.map((r) => h('li', { dataset: { run: r.run } },
        h('a', { href: `#/${name}?run=${encodeURIComponent(r.run)}` }, h('b', r.run), ` ${r.location}`)))) : h('p.empty', t('run.none')));
    }
    box.dataset.run = run.run;
    if (name === 'issue') form.append(what, qtyField, go, onRun);
    else {
      where.value = run.location;
      form.append(qtyField, field(t('common.serial'), serials), field(t('common.lot'), lot), field(t('common.location'), where), go);
    }
    box.append(form);
    render();
  });

  function render() {
    if (name !== 'issue') return ctx.prompt(t('run.complete_prompt'));
    what.textContent = row ? `${label(row)} · ${place(row)}` : '';
    qtyField.hidden = go.hidden = !row;
    ctx.prompt(t(row ? 'run.how_many' : 'run.scan'));
    if (run) rowsWhere('location', run.wip).then((rows) => onRun.replaceChildren(...rows.filter((r) => !r.installed_in)
      .map((r) => h('li', { dataset: { item: r.serial ?? r.lot ?? r.part } }, `${label(r)} · ${qty(r)}`))));
  }

  async function onScan(scan) {
    if (!run || name !== 'issue') return;
    const picked = await pick(scan, root);
    if (picked?.kind !== 'stock') return;
    if (picked.row.location === run.wip) return toast(t('run.already', { item: label(picked.row), run: run.run }), 'error');
    row = picked.row;
    quantity.value = row.serial ? 1 : row.quantity;
    if (row.serial) return issue();
    render();
  }

  async function issue() {
    const read = row.serial ? { value: 1 } : readQuantity(quantity.value, await partByNumber(row.part), { max: row.quantity, item: label(row) });
    if (read.error) return toast(read.error, 'error');
    const summary = t('run.issued', { what: row.serial ?? `${read.value} × ${label(row)}`, run: run.run });
    await ctx.act([{ type: 'issue', args: { run: run.run, ...itemArgs(row), from_location: row.location, quantity: read.value }, wip: run.wip, summary }], summary);
    row = null;
    render();
  }

  async function complete() {
    const read = readQuantity(quantity.value, null);
    if (read.error) return toast(read.error, 'error');
    const args = { run: run.run, quantity: read.value, location: where.value.trim() || run.location };
    const named = serials.value.split(/[\s,]+/).filter(Boolean);
    if (named.length) args.serials = named;
    if (lot.value.trim()) args.lot = lot.value.trim();
    const summary = t('run.built', { quantity: args.quantity, run: run.run });
    await ctx.act([{ type: 'complete_run', args, summary }], summary);
    serials.value = lot.value = '';
  }

  render();
  return { onScan, onStatus: render }; // a pull brings the server's rows
}
