// The scan result: what a code is, from the local copy (status, location, quantity, recent history),
// with the actions that fit it. Online, the server's history of a unit is shown as well.

import { h, label, place, qty, statusBadge } from '../ui.js';
import { historyOf, lookup, rowKey } from '../store.js';
import { describeCode, unitHistory } from '../api.js';
import { outcomeText } from '../logic/reasons.js';
import { receivePrefill } from '../logic/codes.js';

const when = (t) => new Date(t).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

function facts(pairs) {
  return h('dl.facts', pairs.filter(([, v]) => v != null && v !== '').flatMap(([k, v]) => [h('dt', k), h('dd', v)]));
}

function rowsTable(rows, describe) {
  const shown = rows.filter((r) => r.quantity > 0 || r.serial);
  if (!shown.length) return h('p.empty', 'No stock here on this phone’s copy.');
  return h('ul.rows', shown.map((r) => h('li', h('a', { href: `#/item?code=${encodeURIComponent(r.serial ?? r.lot ?? r.part)}` }, describe(r)), ' ', statusBadge(r.status), r.pending ? h('span.pending', 'not synced') : null)));
}

function actions(pairs) {
  return h('nav.actions.compact', pairs.map(([route, name, query]) => h('a.action', { href: `#/${route}?${new URLSearchParams(query)}` }, name)));
}

async function localHistory(key) {
  const records = await historyOf(key);
  if (!records.length) return null;
  return h('section', h('h3', 'On this phone'), h('ul.outcomes', records.map((r) => h(`li.state-${r.state}`, h('b', r.summary), h('span', `${when(r.created)} · ${outcomeText(r)}`)))));
}

async function serverHistory(serial, box) {
  if (!navigator.onLine) return;
  try {
    const history = await unitHistory(serial);
    const events = history.events.slice(-8).reverse();
    box.replaceChildren(h('h3', 'History (server)'), h('ul.history', events.map((e) => h('li', `${when(e.at)} · ${e.action} · ${e.from_location ?? ''}${e.to_location ? ` → ${e.to_location}` : ''}${e.parent_serial ? ` (${e.parent_serial})` : ''} · ${e.actor}`))));
  } catch { /* offline or not on the server yet: the phone's own history is shown */ }
}

async function render(into, found) {
  const code = found.code;
  const root = { append: (...nodes) => into.append(...nodes.filter(Boolean)) };
  if (found.kind === 'unit') {
    const u = found.unit;
    const serverBox = h('section');
    root.append(
      h('h2.what', 'Unit ', h('span.code', u.serial)), statusBadge(u.status), u.pending ? h('span.pending', 'not synced yet') : null,
      facts([['Part', u.part], ['Where', place(u)], ['Quantity', qty(u)], ['Lot', u.lot], ['Isolated', u.isolated ? 'yes' : null]]),
      found.components.length ? h('section', h('h3', 'Installed in it'), rowsTable(found.components, (r) => `${label(r)} ×${r.quantity}`)) : null,
      actions(u.installed_in
        ? [['uninstall', 'Uninstall', { parent: u.installed_in, code: u.serial }]]
        : [['move', 'Move', { code: u.serial }], ['install', 'Install into…', { component: u.serial }], ['install', 'Install parts in it', { parent: u.serial }],
          ['scrap', 'Scrap', { code: u.serial }], ['isolate', 'Isolate', { code: u.serial }]]),
      await localHistory(rowKey(u)), serverBox,
    );
    serverHistory(u.serial, serverBox);
  } else if (found.kind === 'location') {
    const l = found.location;
    root.append(
      h('h2.what', 'Location ', h('span.code', l.code)),
      facts([['Name', l.name], ['Kind', l.kind], ['Available', l.available ? 'yes' : 'no — stock here is unavailable'], ['Count', l.count_locked ? 'closed for a cycle count' : null]]),
      rowsTable(found.rows, (r) => `${label(r)} — ${qty(r)}`),
      actions([['receive', 'Receive here', { location: l.code }], ['move', 'Move stock here', { to: l.code }]]),
    );
  } else if (found.kind === 'part' || found.kind === 'lot') {
    const p = found.part;
    const total = found.rows.filter((r) => !r.installed_in && !r.scrapped).reduce((n, r) => n + r.quantity, 0);
    root.append(
      h('h2.what', found.kind === 'lot' ? 'Lot ' : 'Part ', h('span.code', code)),
      facts([['Part', p?.part_number], ['Description', p?.description], ['Tracking', p?.tracking], ['On hand', String(total)]]),
      rowsTable(found.rows, (r) => `${r.serial ?? r.lot ?? r.part} — ${place(r)} — ${qty(r)}`),
      actions([['receive', 'Receive', { part: p?.part_number ?? found.rows[0]?.part, lot: found.lot ?? '' }], ['move', 'Move', { code }]]),
    );
  } else if (found.kind === 'label') {
    const prefill = receivePrefill(found.fields);
    root.append(
      h('h2.what', 'Supplier label'),
      facts(Object.entries(found.fields).map(([k, v]) => [k.replaceAll('_', ' '), String(v)])),
      actions([['receive', 'Receive this', prefill]]),
    );
  } else {
    root.append(
      h('h2.what', 'Not known here: ', h('span.code', code)),
      h('p', 'This phone’s copy has no unit, location, part or lot with this code.'),
      actions([['receive', 'Receive it as a new serial', { serial: code }]]),
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
  ctx.prompt('Scan the next code');
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
