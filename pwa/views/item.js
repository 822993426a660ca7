// The scan result: what a code is, from the local copy (status, location, quantity, recent history),
// with the actions that fit it. Online, the server's history of a unit is shown as well.

import { h, label, place, qty, statusBadge } from '../ui.js';
import { contents, historyOf, lookup, rowKey } from '../store.js';
import { describeCode, trace, unitHistory } from '../api.js';
import { outcomeText } from '../logic/reasons.js';
import { lotLabel, receivePrefill } from '../logic/codes.js';
import { onHand, totals } from '../logic/browse.js';
import { genealogy } from '../logic/trace.js';
import { t, tn } from '../i18n.js';
import { add } from '../logic/qty.js';

const SHOWN = 50; // rows rendered at first; the rest on request

const when = (time) => new Date(time).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

function facts(pairs) {
  return h('dl.facts', pairs.filter(([, v]) => v != null && v !== '').flatMap(([k, v]) => [h('dt', k), h('dd', v)]));
}

/** A list of the first SHOWN items, and a button that adds the next SHOWN. */
function capped(items, render, cls = 'ul.rows') {
  const list = h(cls);
  const more = (from) => {
    list.append(...items.slice(from, from + SHOWN).map(render));
    const left = items.length - from - SHOWN;
    if (left > 0) list.append(h('li.more', h('button', { type: 'button', onclick: (e) => { e.target.parentNode.remove(); more(from + SHOWN); } }, t('item.show_more', { n: Math.min(left, SHOWN) }))));
  };
  more(0);
  return list;
}

function rowsTable(rows, describe) {
  const shown = rows.filter((r) => r.quantity > 0 || r.serial);
  if (!shown.length) return h('p.empty', t('item.no_stock'));
  return capped(shown, (r) => h('li', h('a', { href: `#/item?code=${encodeURIComponent(r.serial ?? (r.lot ? lotLabel(r.part, r.lot) : r.part))}` }, describe(r)), ' ', statusBadge(r.status), r.pending ? h('span.pending', t('item.not_synced')) : null));
}

/** Totals of the rows on hand by `keyOf`, each a link to `code(key)`. */
function totalsList(title, rows, keyOf, code, cls) {
  const sums = totals(rows, keyOf);
  return sums.length ? h(`section.${cls}`, h('h3', title), capped(sums, (sum) => h('li', h('a', { href: `#/item?code=${encodeURIComponent(code(sum.key))}` }, `${sum.key} — ${sum.quantity}`)))) : null;
}

function actions(pairs) {
  return h('nav.actions.compact', pairs.map(([route, name, query]) => h('a.action', { href: `#/${route}?${new URLSearchParams(query)}` }, name)));
}

async function localHistory(key) {
  const records = await historyOf(key);
  if (!records.length) return null;
  return h('section', h('h3', t('item.on_this_phone')), h('ul.outcomes', records.map((r) => h(`li.state-${r.state}`, h('b', r.summary), h('span', `${when(r.created)} · ${outcomeText(r)}`)))));
}

async function serverHistory(serial, box) {
  if (!navigator.onLine) return;
  try {
    const history = await unitHistory(serial);
    const events = history.events.slice(-8).reverse();
    box.replaceChildren(h('h3', t('item.history_server')), h('ul.history', events.map((e) => h('li', eventLine(e)))));
  } catch { /* offline or not on the server yet: the phone's own history is shown */ }
}

/** The genealogy of a unit or a lot, fetched when opened (online only: the server holds it): what it is made
 *  of, what it went into, the runs; and the server's printable report (a supervisor's page). */
function traceBox(query) {
  const box = h('details.trace', { ontoggle: async () => {
    if (!box.open || box.dataset.loaded) return;
    const body = box.lastChild;
    if (!navigator.onLine) return body.replaceChildren(h('p.error', t('item.trace_offline')));
    try {
      const { down, up, runs } = genealogy(await trace(query));
      const list = (title, cls, items, line) => [h('h4', title), h(`ul.rows.${cls}`, items.length ? items.map(line) : h('li.empty', '—'))];
      body.replaceChildren(
        ...list(t('item.made_of'), 'down', down, (n) => h('li', { style: `padding-left:${n.depth}em` }, `${label(n)} ×${n.quantity}`)),
        ...list(t('item.went_into'), 'up', up, (n) => h('li', `${label(n)} — ${place(n)}`)),
        ...list(t('item.runs'), 'runs', runs, (r) => h('li', `${r.run} (${r.state}) · ${r.kind} ${label(r)} ×${r.quantity}`)),
        h('a.link', { href: `/supervisor/trace?${new URLSearchParams(query)}`, target: '_blank' }, t('item.trace_print')));
      box.dataset.loaded = 'yes';
    } catch (error) { body.replaceChildren(h('p.error', error.message)); }
  } }, h('summary', t('item.trace')), h('div'));
  return box;
}

/** "12:03 · Move · A → B · sam", "12:05 · Assemble · B (PUMP-7) · sam". */
function eventLine(e) {
  const where = (e.from_location ?? '') + (e.to_location ? ` → ${e.to_location}` : '') + (e.parent_serial ? ` (${e.parent_serial})` : '');
  return `${when(e.at)} · ${e.action} · ${where} · ${e.actor}`;
}

async function render(into, found) {
  const code = found.code;
  const root = { append: (...nodes) => into.append(...nodes.filter(Boolean)) };
  if (found.kind === 'unit') {
    const u = found.unit;
    const serverBox = h('section');
    root.append(
      h('h2.what', t('item.unit'), ' ', h('span.code', u.serial)), statusBadge(u.status), u.pending ? h('span.pending', t('item.not_synced_yet')) : null,
      facts([[t('common.part'), u.part], [t('item.where'), place(u)], [t('common.quantity'), qty(u)], [t('common.lot'), u.lot], [t('item.isolated'), u.isolated ? t('item.yes') : null]]),
      found.components.length ? h('section', h('h3', t('item.installed_in_it')), rowsTable(found.components, (r) => `${label(r)} ×${r.quantity}`)) : null,
      actions(u.installed_in
        ? [['uninstall', t('action.uninstall'), { parent: u.installed_in, code: u.serial }]]
        : [['move', t('action.move'), { code: u.serial }], ['install', t('item.install_into'), { component: u.serial }], ['install', t('item.install_parts'), { parent: u.serial }],
          ['remove', t('action.remove'), { code: u.serial }], ['scrap', t('action.scrap'), { code: u.serial }],
          ['isolate', t('action.isolate'), { code: u.serial }]]),
      traceBox({ serial: u.serial }), await localHistory(rowKey(u)), serverBox,
    );
    serverHistory(u.serial, serverBox);
  } else if (found.kind === 'location') {
    const l = found.location;
    const { below, children } = await contents(l.code);
    root.append(
      h('h2.what', t('common.location'), ' ', h('span.code', l.code)),
      facts([[t('item.name'), l.name], [t('item.kind'), l.kind], [t('item.available'), l.available ? t('item.yes') : t('item.unavailable')], [t('action.count'), l.count_locked ? t('item.count_locked') : null]]),
      rowsTable(found.rows, (r) => `${label(r)} — ${qty(r)}`),
      children.length ? h('section.below', h('h3', t('item.below')), capped(children, (c) => {
        const n = below.filter((r) => onHand(r) && c.codes.has(r.location)).length;
        return h('li', h('a', { href: `#/item?code=${encodeURIComponent(`B:${c.code}`)}` }, `${c.code} — ${tn('item.items', n)}`));
      })) : null,
      totalsList(t('item.per_part'), below, (r) => r.part, (k) => `P:${k}`, 'per-part'),
      actions([['receive', t('item.receive_here'), { location: l.code }], ['move', t('item.move_here'), { to: l.code }]]),
    );
  } else if (found.kind === 'part' || found.kind === 'lot') {
    const p = found.part;
    const total = found.rows.filter((r) => !r.installed_in && !r.scrapped).reduce((n, r) => add(n, r.quantity), 0);
    root.append(
      h('h2.what', t(found.kind === 'lot' ? 'common.lot' : 'common.part'), ' ', h('span.code', code)),
      facts([[t('common.part'), p?.part_number], [t('item.description'), p?.description], [t('item.tracking'), p?.tracking], [t('item.on_hand'), String(total)]]),
      totalsList(t('item.by_location'), found.rows, (r) => r.location, (k) => `B:${k}`, 'by-location'),
      rowsTable(found.rows, (r) => `${r.serial ?? r.lot ?? r.part} — ${place(r)} — ${qty(r)}`),
      actions([['receive', t('action.receive'), { part: p?.part_number ?? found.rows[0]?.part, lot: found.lot ?? '' }], ['move', t('action.move'), { code }]]),
      found.kind === 'lot' ? traceBox({ part: p?.part_number ?? found.rows[0]?.part, lot: found.lot }) : null,
    );
  } else if (found.kind === 'lots') {
    root.append(
      h('h2.what', t('common.lot'), ' ', h('span.code', found.lot)),
      h('p', t('item.lot_parts', { n: found.parts.length, lot: found.lot })),
      h('ul.rows.lot-parts', found.parts.map((part) => h('li', h('a', { href: `#/item?code=${encodeURIComponent(lotLabel(part, found.lot))}` }, `${part} — ${t('item.lot_n', { lot: found.lot })}`)))),
    );
  } else if (found.kind === 'label') {
    const prefill = receivePrefill(found.fields);
    root.append(
      h('h2.what', t('item.supplier_label')),
      facts(Object.entries(found.fields).map(([k, v]) => [k.replaceAll('_', ' '), String(v)])),
      actions([['receive', t('item.receive_this'), prefill]]),
    );
  } else {
    root.append(
      h('h2.what', t('item.not_known'), ' ', h('span.code', code)),
      h('p', t('item.not_known_text')),
      actions([['receive', t('item.receive_new_serial'), { serial: code }]]),
    );
  }
}

/** The fields of a supplier label as GET /api/scan parsed them, or null. */
export function serverFields(described) {
  if (!described || !['supplier_label', 'gtin'].includes(described.kind)) return null;
  const fields = Object.fromEntries(Object.entries(described.fields ?? {}).filter(([, v]) => v != null && v !== ''));
  return Object.keys(fields).length ? fields : null;
}

export function mount(root, ctx, query) {
  const code = query.code ?? '';
  ctx.prompt(t('item.prompt'));
  lookup(code).then(async (found) => {
    if (found.kind === 'unknown' && navigator.onLine) {
      try { // the server may know more (a supplier label format, a code newer than the local copy)
        const fields = serverFields(await describeCode(code));
        if (fields) found = { kind: 'label', code, fields };
      } catch { /* keep the local answer */ }
    }
    root.replaceChildren(h('article.item', { dataset: { kind: found.kind } }));
    await render(root.firstChild, found);
  });
}
