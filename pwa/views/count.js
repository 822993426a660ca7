// Count: join an open count (a supervisor may start a planned one, online), scan the location, then
// each item — a serial is present or missing, a lot or untracked stock takes a quantity — with progress
// (lines counted of expected) and recounts. Everything is a `count` op in the outbox: offline first.
// The sheet is what the server expects there (its rows as last pulled); a blind count shows no quantities.

import { h, button, toast, enterMovesOn, datalist, dotted, readQuantity } from '../ui.js';
import { allLocations, allParts, countById, countLines, lookup, openCounts, partByNumber, sheetRows } from '../store.js';
import { countOpsInFlight } from '../outbox.js';
import { get, post } from '../api.js';
import { onePart } from './pick.js';
import { t, tn } from '../i18n.js';
import { countArgs, countedOf, countParts, countSummary, inScope, lineKey, lineState, ownWork, progress, sheetOf, subtree, uncountedSerials } from '../logic/count.js';

const scopeText = (c) => (c.kind === 'part' ? t('count.scope_part', { part: c.part }) : t('count.scope_location', { location: c.location }));
const what = (l) => l.serial ?? (l.lot ? t('row.part_lot', { part: l.part, lot: l.lot }) : l.part);
const mine = (n) => t('count.mine', { change: `${n > 0 ? '+' : '−'}${Math.abs(n)}` });
/** A line's state in words (its data-state stays the state itself: not counted, present, missing, counted N). */
const stateText = (s) => (s.text.startsWith('counted ') ? t('count.counted_n', { n: s.text.slice(8) }) : t(`count.${s.text.replace(' ', '_')}`));

export function mount(root, ctx, query) {
  return query.id ? counting(root, ctx, query.id) : choose(root, ctx);
}

function choose(root, ctx) {
  ctx.prompt(t('count.prompt_join'));
  const open = h('ul.rows.counts');
  const planned = h('section');
  root.append(h('section.flow', h('h2', t('count.title')), open, planned));
  openCounts().then((counts) => open.replaceChildren(...(counts.length
    ? counts.map((c) => h('li', h('a.action', { href: `#/count?id=${c.id}`, dataset: { count: c.id } },
      dotted(`${c.name} — ${scopeText(c)}`, c.blind && t('count.blind'), c.status === 'review' && t('count.in_review')))))
    : [h('li.empty', t('count.none_open'))])));
  const role = ctx.session.user?.role;
  if ((role === 'supervisor' || role === 'admin') && navigator.onLine) {
    get('/api/counts?status=planned&limit=20', { timeout: 5000 }).then((page) => {
      if (!page.items.length) return;
      planned.replaceChildren(h('h3', t('count.planned')), h('ul.rows', page.items.map((c) => h('li', h('span', dotted(`${c.name} — ${scopeText(c)}`, c.due && t('count.due', { due: c.due }))),
        button(t('count.start'), async () => {
          try {
            await post(`/api/counts/${c.id}/start`, {});
            toast(t('count.started', { name: c.name }));
            ctx.nav('count', { id: c.id });
          } catch (error) { toast(t('count.not_started', { message: error.message }), 'error'); }
        })))));
    }).catch(() => {});
  }
}

function counting(root, ctx, id) {
  const state = { count: null, codes: new Set(), sheet: [], mine: new Map(), counted: new Map(), location: null, entry: null, typed: '', unknown: null, parts: [] };
  let focusEntry = false; // the quantity field takes the focus once, when the operator opens it
  const body = h('section.flow.count');
  root.append(body);

  async function load() {
    const count = await countById(id);
    if (!count) {
      body.replaceChildren(h('h2', t('action.count')), h('p.empty', t('count.not_open')),
        h('a.link', { href: '#/count' }, t('count.open_counts')));
      return;
    }
    const [locations, lines, own] = await Promise.all([allLocations(), countLines(id), countOpsInFlight()]);
    state.count = count;
    state.codes = count.kind === 'location' ? subtree(locations, count.location) : new Set();
    const records = await sheetRows(count.kind === 'part' ? { part: count.part } : { codes: state.codes });
    state.sheet = sheetOf(count, records.map((r) => r.server), state.codes);
    state.mine = ownWork(count, records, state.codes);
    state.counted = countedOf(id, lines, own);
    render();
  }

  async function record(line, quantity, message) {
    const args = countArgs(state.count, line, quantity);
    if (state.entry?.key === line.key) state.entry = null; // a unit scanned meanwhile leaves an open quantity as it was
    state.unknown = null;
    await ctx.act([{ type: 'count', args, summary: countSummary(args) }], message ?? t('count.counted_toast', countParts(args)));
    await load();
  }

  function lineItem(line) {
    const s = lineState(line, state.counted);
    const blind = state.count.blind;
    const actions = line.serial
      ? [button(t('count.btn_present'), () => record(line, 1)), button(t('count.btn_missing'), () => record(line, 0))]
      : [button(t(s.done ? 'count.recount' : 'action.count'), () => openEntry(line))];
    return h(`li.count-line.${s.done ? 'done' : 'todo'}`, { dataset: { key: line.key, state: s.text } },
      h('span', h('b', what(line)), line.serial ? ` (${line.part})` : '', blind || line.expected == null ? '' : ` — ${t('count.expected', { n: line.expected })}`,
        state.mine.has(line.key) ? h('span.mine', ` · ${mine(state.mine.get(line.key))}`) : null,
        h('br'), h('small', stateText(s)), s.pending ? h('span.pending', t('item.not_synced')) : null),
      ...(s.done && line.serial ? [button(t(s.text === 'present' ? 'count.btn_missing' : 'count.btn_present'), () => record(line, s.text === 'present' ? 0 : 1))] : actions));
  }

  function render() {
    const typing = document.activeElement?.matches?.('input.counted'); // stays there through a scan
    const c = state.count;
    const p = progress(state.sheet, state.counted);
    const here = state.sheet.filter((l) => l.location === state.location);
    const sheetKeys = new Set(state.sheet.map((l) => l.key));
    const finds = [...state.counted.entries()].filter(([key]) => !sheetKeys.has(key) && key.startsWith(`${state.location}|`));
    const extra = [...state.mine.keys()].filter((key) => !sheetKeys.has(key) && !state.counted.has(key) && key.startsWith(`${state.location}|`))
      .map((key) => { const [location, part, lot, serial] = key.split('|'); return { key, location, part, lot: lot || null, serial: serial || null, tracking: serial ? 'serial' : lot ? 'lot' : 'untracked', expected: null }; });
    const missing = state.location ? uncountedSerials(state.sheet, state.counted, state.location) : [];
    body.replaceChildren(...[
      h('h2', c.name),
      h('p', scopeText(c), c.blind ? h('span.badge', t('count.blind')) : null, c.closes_locations ? h('span.badge', t('count.location_closed')) : null),
      h('p.dest.progress-count', { dataset: { counted: p.counted, expected: p.expected } },
        dotted(t('count.progress', { n: p.counted, m: p.expected }), p.found && t('count.found', { n: p.found }))),
      state.location ? h('h3', t('count.at', { location: state.location })) : locationsList(),
      state.location ? h('ul.picked.count-lines', here.length || finds.length || extra.length ? [...here.map(lineItem), ...extra.map(lineItem), ...finds.map(([key, f]) => findItem(key, f))]
        : [h('li.empty', t('count.nothing_expected'))]) : null,
      state.entry ? entryForm(state.entry) : null,
      state.unknown ? unknownForm(state.unknown) : null,
      missing.length ? button(tn('count.mark_missing', missing.length), () => markMissing(missing), '.secondary') : null,
      state.location ? button(t('count.another_location'), () => { state.location = null; render(); }, '.secondary') : null,
      h('a.link', { href: '#/count' }, t('count.all_counts')),
    ].filter(Boolean));
    ctx.prompt(!state.location ? t('receive.prompt_location') : state.entry ? t('count.how_many', { what: what(state.entry) }) : t('count.prompt_each'));
    if (focusEntry || typing) body.querySelector('input.counted')?.focus();
    focusEntry = false;
  }

  function openEntry(line) {
    state.entry = line;
    state.typed = '';
    focusEntry = true;
    render();
  }

  function locationsList() {
    const by = new Map();
    for (const l of state.sheet) {
      const entry = by.get(l.location) ?? { lines: 0, done: 0 };
      entry.lines += 1;
      if (state.counted.has(l.key)) entry.done += 1;
      by.set(l.location, entry);
    }
    return h('ul.rows', [...by.entries()].map(([code, n]) => h('li', h('button.row', { type: 'button', onclick: () => { state.location = code; render(); } },
      `${code} — ${t('count.n_of_m_counted', { n: n.done, m: n.lines })}`))));
  }

  function findItem(key, found) {
    const [, part, lot, serial] = key.split('|');
    return h('li.count-line.found', { dataset: { key, state: 'found' } },
      h('span', h('b', serial || (lot ? t('row.part_lot', { part, lot }) : part)), ` — ${t('count.found_here')}`, h('br'), h('small', t('count.counted_n', { n: found.counted }))));
  }

  function entryForm(line) {
    const quantity = h('input.qty.counted', { type: 'number', inputmode: 'decimal', step: 'any', min: 0, value: state.typed, 'aria-label': t('count.counted_quantity'),
      oninput: () => { state.typed = quantity.value; }, onkeydown: (e) => { if (e.key === 'Enter') { e.preventDefault(); save(); } } });
    async function save() {
      const read = readQuantity(quantity.value, await partByNumber(line.part), { zero: true });
      if (read.error) return toast(read.error, 'error');
      await record(line, read.value);
    }
    return h('form.entry', { onsubmit: (e) => { e.preventDefault(); save(); } },
      h('p', line.location === state.location ? t('count.how_many_here', { what: what(line) }) : t('count.how_many_at', { what: what(line), location: line.location })), quantity,
      h('button.primary', { type: 'submit' }, t('count.save')), button(t('chooser.cancel'), () => { state.entry = null; render(); }, '.secondary'));
  }

  function unknownForm(code) {
    const part = h('input', { name: 'find-part', list: 'serial-parts', autocapitalize: 'characters', placeholder: t('receive.part_number'), onkeydown: enterMovesOn });
    const serialParts = state.parts.filter((x) => x.tracking === 'serial' && (state.count.kind !== 'part' || x.part_number === state.count.part));
    return h('form.entry', { onsubmit: async (e) => {
      e.preventDefault();
      const found = serialParts.find((x) => x.part_number === part.value.trim());
      if (!found) return toast(t('count.pick_serialized'), 'error');
      await record({ location: state.location, part: found.part_number, tracking: 'serial', serial: code, lot: null }, 1, t('count.found_code', { code }));
    } }, h('p', t('count.unknown_code', { code })), part,
    datalist('serial-parts', serialParts.map((x) => x.part_number)), h('button.primary', { type: 'submit' }, t('count.count_as_found')),
    button(t('chooser.cancel'), () => { state.unknown = null; render(); }, '.secondary'));
  }

  async function markMissing(lines) {
    const drafts = lines.map((line) => { const args = countArgs(state.count, line, 0); return { type: 'count', args, summary: countSummary(args) }; });
    await ctx.act(drafts, t('count.counted_missing', { n: drafts.length }));
    await load();
  }

  async function onScan(scan) {
    if (!state.count) return;
    const found = await onePart(await lookup(scan.text), body);
    if (!found) return undefined;
    if (found.kind === 'location') {
      if (!inScope(state.count, state.codes, found.location.code)) return toast(t('count.not_in_count', { what: found.location.code }), 'error');
      state.location = found.location.code;
      state.entry = null;
      return render();
    }
    if (!state.location) return toast(t('count.location_first'), 'warn');
    const here = state.location;
    if (found.kind === 'unit') {
      const u = found.unit;
      if (!inScope(state.count, state.codes, here, u.part)) return toast(t('count.unit_not_in_count', { serial: u.serial, part: u.part }), 'error');
      return record({ location: here, part: u.part, tracking: 'serial', serial: u.serial, lot: null }, 1, t('count.serial_present', { serial: u.serial }));
    }
    if (found.kind === 'lot' || found.kind === 'part') {
      const part = found.part ?? { part_number: found.rows?.[0]?.part, tracking: 'lot' };
      if (!inScope(state.count, state.codes, here, part.part_number)) return toast(t('count.not_in_count', { what: part.part_number }), 'error');
      if (part.tracking === 'serial') return toast(t('count.scan_each_serial'), 'warn');
      if (found.kind === 'part' && part.tracking === 'lot') {
        const lots = state.sheet.filter((l) => l.location === here && l.part === part.part_number);
        if (lots.length !== 1) return toast(t('count.scan_lot_label'), 'warn');
        return openEntry(lots[0]);
      } else {
        const lot = found.kind === 'lot' ? found.lot : null;
        const key = lineKey({ location: here, part: part.part_number, lot });
        return openEntry(state.sheet.find((l) => l.key === key)
          ?? { key, location: here, part: part.part_number, tracking: lot ? 'lot' : 'untracked', lot, serial: null, expected: null });
      }
    }
    state.unknown = scan.text;
    state.parts = await allParts();
    render();
  }

  let reloadTimer = null;
  load();
  return {
    onScan,
    onStatus: () => { clearTimeout(reloadTimer); reloadTimer = setTimeout(() => { if (!state.entry && !state.unknown) load(); }, 300); },
    unmount: () => clearTimeout(reloadTimer),
  };
}
