// Report a problem: scan what is wrong — a unit, or a lot or untracked stock where it is —, say what, and
// whether to set it aside now; queued as a quality issue (`open_issue`), offline too. The server numbers it.

import { h, toast, label, place, field, input } from '../ui.js';
import { pick } from './pick.js';
import { positive } from '../logic/qty.js';
import { t } from '../i18n.js';

const reportable = (row) => positive(row.quantity) && !row.scrapped && !row.installed_in;

export function mount(root, ctx) {
  let row = null;
  const what = h('p.dest', t('problem.nothing'));
  const title = input('title', { autocapitalize: 'sentences', placeholder: t('problem.title_hint'), oninput: render });
  const isolate = h('input', { type: 'checkbox', name: 'isolate', checked: true });
  const go = h('button.primary', { type: 'button', disabled: true, onclick: submit }, t('problem.go'));
  root.append(h('section.flow', h('h2', t('problem.title')), what, field(t('problem.what'), title),
    h('label.check', isolate, ' ', t('problem.isolate')), go));

  function render() {
    what.textContent = row ? t('problem.on', { item: label(row), place: place(row) }) : t('problem.nothing');
    go.disabled = !row || !title.value.trim();
    ctx.prompt(t(row ? 'problem.prompt_say' : 'problem.prompt'));
  }

  async function onScan(scan) {
    const picked = await pick(scan, root, { allow: reportable });
    if (!picked) return;
    if (picked.kind === 'location') return toast(t('problem.scan_item'), 'warn');
    row = picked.row;
    render();
  }

  async function submit() {
    const args = row.serial ? { title: title.value.trim(), serial: row.serial }
      : { title: title.value.trim(), part: row.part, location: row.location, ...(row.lot ? { lot: row.lot } : {}) };
    if (isolate.checked) args.isolate = true;
    const summary = t('problem.summary', { item: label(row), title: args.title });
    await ctx.act([{ type: 'open_issue', args, row, summary }], t('problem.queued', { item: label(row) }));
    row = null;
    title.value = '';
    render();
  }

  render();
  return { onScan };
}
