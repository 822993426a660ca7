// Small DOM helpers shared by the views: element building, toasts, the scan box, choosers.

import { t } from './i18n.js';
import { cmp, parse, placesOf } from './logic/qty.js';

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
  return h(`span.badge.s-${status}`, t(`status.${status}`));
}

export function qty(row) {
  return row.unit && row.unit !== 'ea' ? `${row.quantity} ${row.unit}` : String(row.quantity);
}

/** A quantity field: decimals typed where the part's unit has them (a decimal keypad), whole numbers else. */
export function quantityInput(name, attrs = {}) {
  return input(name, { type: 'number', inputmode: 'decimal', step: 'any', min: 0, ...attrs });
}

/** A quantity typed for `part` (its places; none given: whole numbers), at most `max` when given:
 *  {value} in its one form, or {error} a message for the operator. `zero`: 0 is allowed (a count). */
export function readQuantity(text, part, { max = null, zero = false, item = null, range = null } = {}) {
  const places = placesOf(part);
  const read = parse(text, places, { zero });
  const unit = part?.unit ?? 'ea';
  if (read.error === 'too_fine') return { error: t(places ? 'quantity.places' : 'quantity.whole', { unit, places }) };
  if (read.error || (max != null && cmp(read.value, max) > 0)) {
    return { error: max != null ? range ?? t('move.quantity_range', { item: item ?? part?.part_number ?? '', max }) : t(zero ? 'count.type_quantity' : 'receive.quantity_whole') };
  }
  return read;
}

/** The parts given (empty ones left out) on one line, " · " between them: "Cycle A — STORES · blind". */
export const dotted = (...parts) => parts.filter(Boolean).join(' · ');

/** Where a row is, in words. */
export function place(row) {
  return row.installed_in ? t('row.installed_in', { parent: row.installed_in }) : row.location ?? '—';
}

/** What a row is: serial, part + lot, or part. */
export function label(row) {
  if (row.serial) return `${row.serial} (${row.part})`;
  return row.lot ? t('row.part_lot', { part: row.part, lot: row.lot }) : row.part;
}

/** A list of rows to tap one of; resolves with the row tapped. */
export function chooser(container, rows, describe, title = t('chooser.which')) {
  return new Promise((resolve) => {
    const list = h('div.chooser', h('h3', title), rows.map((row) => h('button.row', {
      type: 'button', onclick: () => { list.remove(); resolve(row); },
    }, describe(row))), h('button.secondary', { type: 'button', onclick: () => { list.remove(); resolve(null); } }, t('chooser.cancel')));
    container.append(list);
    list.scrollIntoView({ block: 'nearest' });
  });
}

/** Enter typed in a field moves to the next field of its form (or section), never submits; after the
 *  last one the keyboard closes. (A wedge scanner's Enter never gets here: see scanner.js.) */
export function enterMovesOn(event) {
  if (event.key !== 'Enter') return;
  event.preventDefault();
  const group = event.target.form ?? event.target.closest('section, form') ?? document.body;
  const fields = [...group.querySelectorAll('input:not([hidden]):not(:disabled), select:not(:disabled)')]
    .filter((el) => el.offsetParent !== null);
  const next = fields[fields.indexOf(event.target) + 1];
  if (next) next.focus(); else event.target.blur();
}

/** A quantity field tapped selects its whole value, so typing replaces it (250, not 1250). */
export function selectQuantitiesOnFocus(root = document) {
  let selected = null;
  root.addEventListener('focusin', (event) => {
    if (!(event.target instanceof HTMLInputElement) || event.target.type !== 'number') return;
    event.target.select();
    selected = event.target;
  });
  // the tap's own mouseup would put a caret where the finger was, undoing the selection: once, not then
  root.addEventListener('mouseup', (event) => {
    if (event.target === selected) event.preventDefault();
    selected = null;
  });
}

/** A <datalist> of choices for an input. */
export function datalist(id, values) {
  return h(`datalist#${id}`, values.map((v) => h('option', { value: v })));
}
