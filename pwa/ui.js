// Small DOM helpers shared by the views: element building, toasts, the scan box, choosers.

/** h('button.big#go', {onclick}, 'Go') → an element. Children may be strings, nodes, arrays, null. */
export function h(spec, attrs = {}, ...children) {
  const [, tag = 'div', rest = ''] = spec.match(/^([a-z0-9]*)(.*)$/i);
  const el = document.createElement(tag || 'div');
  for (const m of rest.matchAll(/([.#])([\w-]+)/g)) {
    if (m[1] === '.') el.classList.add(m[2]); else el.id = m[2];
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = {};
  }
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  el.append(...children.flat(Infinity).filter((c) => c != null && c !== false).map((c) => (c instanceof Node ? c : String(c))));
  return el;
}

let toastTimer;
/** A short message at the bottom of the screen; `kind` is ok, warn or error. */
export function toast(message, kind = 'ok') {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.className = `show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = ''; }, kind === 'error' ? 6000 : 3000);
}

export function field(label, input, hint) {
  return h('label.field', h('span.label', label), input, hint ? h('span.hint', hint) : null);
}

export function input(name, attrs = {}) {
  return h('input', { name, autocomplete: 'off', autocapitalize: 'characters', spellcheck: false, ...attrs });
}

export function button(label, onclick, cls = '') {
  return h(`button${cls}`, { type: 'button', onclick }, label);
}

export function statusBadge(status) {
  return h(`span.badge.s-${status}`, status.replace('_', ' '));
}

export function qty(row) {
  return `${row.quantity}${row.unit && row.unit !== 'ea' ? ` ${row.unit}` : ''}`;
}

/** Where a row is, in words. */
export function place(row) {
  return row.installed_in ? `installed in ${row.installed_in}` : row.location ?? '—';
}

/** What a row is: serial, part + lot, or part. */
export function label(row) {
  if (row.serial) return `${row.serial} (${row.part})`;
  return row.lot ? `${row.part} lot ${row.lot}` : row.part;
}

/** A list of rows to tap one of; resolves with the row tapped. */
export function chooser(container, rows, describe, title = 'Which one?') {
  return new Promise((resolve) => {
    const list = h('div.chooser', h('h3', title), rows.map((row) => h('button.row', {
      type: 'button', onclick: () => { list.remove(); resolve(row); },
    }, describe(row))), h('button.secondary', { type: 'button', onclick: () => { list.remove(); resolve(null); } }, 'Cancel'));
    container.append(list);
    list.scrollIntoView({ block: 'nearest' });
  });
}

/** Enter in a field (typed, or a wedge scanner into the field) moves to the next field, never submits. */
export function enterMovesOn(event) {
  if (event.key !== 'Enter') return;
  event.preventDefault();
  const fields = [...event.target.form.querySelectorAll('input:not([hidden]):not(:disabled), select:not(:disabled)')]
    .filter((el) => el.offsetParent !== null);
  const next = fields[fields.indexOf(event.target) + 1];
  if (next) next.focus(); else event.target.blur();
}

/** A <datalist> of choices for an input. */
export function datalist(id, values) {
  return h(`datalist#${id}`, values.map((v) => h('option', { value: v })));
}
