// Report a problem: scan what is wrong — a unit, or a lot or untracked stock where it is —, say what, and whether
// to set it aside now; queued as a quality issue (`open_issue`), offline too. The server numbers it.

import { h, label, place, field, input } from '../ui.js';
import { pick } from './pick.js';
import { positive } from '../logic/qty.js';
import { t } from '../i18n.js';

export function mount(root, ctx) {
  let row = null;
  const what = h('p.dest');
  const title = input('title', { autocapitalize: 'sentences', oninput: render });
  const isolate = h('input', { type: 'checkbox', name: 'isolate', checked: true });
  const go = h('button.primary', { type: 'button', onclick: submit }, t('action.problem'));
  root.append(h('section.flow', h('h2', t('action.problem')), what, field(t('problem.what'), title),
    h('label.check', isolate, ' ', t('problem.isolate')), go));

  function render() {
    what.textContent = row ? `${label(row)} · ${place(row)}` : '';
    go.disabled = !row || !title.value.trim();
    ctx.prompt(t(row ? 'problem.what' : 'problem.prompt'));
  }

  async function onScan(scan) {
    const picked = await pick(scan, root, { allow: (r) => positive(r.quantity) && !r.scrapped && !r.installed_in });
    if (picked?.kind === 'stock') row = picked.row;
    render();
  }

  async function submit() {
    const args = { title: title.value.trim(), ...(row.serial ? { serial: row.serial } : { part: row.part, location: row.location }) };
    if (row.lot && !row.serial) args.lot = row.lot;
    if (isolate.checked) args.isolate = true;
    const summary = t('problem.summary', { item: label(row), title: args.title });
    await ctx.act([{ type: 'open_issue', args, row, summary }], summary);
    row = null;
    title.value = '';
    render();
  }

  render();
  return { onScan };
}
