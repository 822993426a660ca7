// Count: join an open count (a supervisor may start a planned one, online), scan the location, then
// each item — a serial is present or missing, a lot or untracked stock takes a quantity — with progress
// (lines counted of expected) and recounts. Everything is a `count` op in the outbox: offline first.
// The sheet is what the server expects there (its rows as last pulled); a blind count shows no quantities.

import { h, button, toast, enterMovesOn, datalist } from '../ui.js';
import { allLocations, allParts, countById, countLines, lookup, openCounts, serverRows } from '../store.js';
import { countOpsInFlight } from '../outbox.js';
import { get, post } from '../api.js';
import { countArgs, countedOf, countSummary, inScope, lineKey, lineState, progress, sheetOf, subtree, uncountedSerials } from '../logic/count.js';

const scopeText = (c) => (c.kind === 'part' ? `part ${c.part}, every location` : `${c.location} and below`);
const what = (l) => l.serial ?? (l.lot ? `${l.part} lot ${l.lot}` : l.part);

export function mount(root, ctx, query) {
  return query.id ? counting(root, ctx, query.id) : choose(root, ctx);
}

function choose(root, ctx) {
  ctx.prompt('Pick a count to join');
  const open = h('ul.rows.counts');
  const planned = h('section');
  root.append(h('section.flow', h('h2', 'Cycle counts'), open, planned));
  openCounts().then((counts) => open.replaceChildren(...(counts.length
    ? counts.map((c) => h('li', h('a.action', { href: `#/count?id=${c.id}`, dataset: { count: c.id } },
      `${c.name} — ${scopeText(c)}${c.blind ? ' · blind' : ''}${c.status === 'review' ? ' · in review' : ''}`)))
    : [h('li.empty', 'No count is open on this phone. A supervisor starts counts; sync to see them.')])));
  const role = ctx.session.user?.role;
  if ((role === 'supervisor' || role === 'admin') && navigator.onLine) {
    get('/api/counts?status=planned&limit=20', { timeout: 5000 }).then((page) => {
      if (!page.items.length) return;
      planned.replaceChildren(h('h3', 'Planned'), h('ul.rows', page.items.map((c) => h('li', h('span', `${c.name} — ${scopeText(c)}${c.due ? ` · due ${c.due}` : ''}`),
        button('Start', async () => {
          try {
            await post(`/api/counts/${c.id}/start`, {});
            toast(`${c.name} started`);
            ctx.nav('count', { id: c.id });
          } catch (error) { toast(`Not started: ${error.message}`, 'error'); }
        })))));
    }).catch(() => {});
  }
}

function counting(root, ctx, id) {
  const state = { count: null, codes: new Set(), sheet: [], counted: new Map(), location: null, entry: null, unknown: null, parts: [] };
  const body = h('section.flow.count');
  root.append(body);

  async function load() {
    const count = await countById(id);
    if (!count) {
      body.replaceChildren(h('h2', 'Count'), h('p.empty', 'This count is not open on this phone: closed, or not synced yet.'),
        h('a.link', { href: '#/count' }, 'Open counts →'));
      return;
    }
    const [locations, lines, own] = await Promise.all([allLocations(), countLines(id), countOpsInFlight()]);
    state.count = count;
    state.codes = count.kind === 'location' ? subtree(locations, count.location) : new Set();
    state.sheet = sheetOf(count, await serverRows(count.kind === 'part' ? { part: count.part } : { codes: state.codes }), state.codes);
    state.counted = countedOf(id, lines, own);
    render();
  }

  async function record(line, quantity, message) {
    const args = countArgs(state.count, line, quantity);
    state.entry = null;
    state.unknown = null;
    await ctx.act([{ type: 'count', args, summary: countSummary(args) }], message ?? `Counted: ${countSummary(args).replace(/^Count /, '')}`);
    await load();
  }

  function lineItem(line) {
    const s = lineState(line, state.counted);
    const blind = state.count.blind;
    const actions = line.serial
      ? [button('Present', () => record(line, 1)), button('Missing', () => record(line, 0))]
      : [button(s.done ? 'Recount' : 'Count', () => { state.entry = line; render(); })];
    return h(`li.count-line.${s.done ? 'done' : 'todo'}`, { dataset: { key: line.key, state: s.text } },
      h('span', h('b', what(line)), line.serial ? ` (${line.part})` : '', blind || line.expected == null ? '' : ` — expected ${line.expected}`,
        h('br'), h('small', s.text), s.pending ? h('span.pending', 'not synced') : null),
      ...(s.done && line.serial ? [button(s.text === 'present' ? 'Missing' : 'Present', () => record(line, s.text === 'present' ? 0 : 1))] : actions));
  }

  function render() {
    const c = state.count;
    const p = progress(state.sheet, state.counted);
    const here = state.sheet.filter((l) => l.location === state.location);
    const sheetKeys = new Set(state.sheet.map((l) => l.key));
    const finds = [...state.counted.entries()].filter(([key]) => !sheetKeys.has(key) && key.startsWith(`${state.location}|`));
    const missing = state.location ? uncountedSerials(state.sheet, state.counted, state.location) : [];
    body.replaceChildren(...[
      h('h2', c.name),
      h('p', scopeText(c), c.blind ? h('span.badge', 'blind') : null, c.closes_locations ? h('span.badge', 'location closed') : null),
      h('p.dest.progress-count', { dataset: { counted: p.counted, expected: p.expected } },
        `${p.counted} of ${p.expected} lines counted${p.found ? ` · ${p.found} found` : ''}`),
      state.location ? h('h3', `At ${state.location}`) : locationsList(),
      state.location ? h('ul.picked.count-lines', here.length || finds.length ? [...here.map(lineItem), ...finds.map(([key, f]) => findItem(key, f))]
        : [h('li.empty', 'Nothing expected here: scan what you find.')]) : null,
      state.entry ? entryForm(state.entry) : null,
      state.unknown ? unknownForm(state.unknown) : null,
      missing.length ? button(`Mark ${missing.length} unscanned serial${missing.length === 1 ? '' : 's'} missing`, () => markMissing(missing), '.secondary') : null,
      state.location ? button('Another location', () => { state.location = null; render(); }, '.secondary') : null,
      h('a.link', { href: '#/count' }, 'All counts →'),
    ].filter(Boolean));
    ctx.prompt(!state.location ? 'Scan the location' : state.entry ? `How many ${what(state.entry)}?` : 'Scan each item');
    body.querySelector('input.counted')?.focus();
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
      `${code} — ${n.done} of ${n.lines} counted`))));
  }

  function findItem(key, found) {
    const [, part, lot, serial] = key.split('|');
    return h('li.count-line.found', { dataset: { key, state: 'found' } },
      h('span', h('b', serial || (lot ? `${part} lot ${lot}` : part)), ' — found, not expected here', h('br'), h('small', `counted ${found.counted}`)));
  }

  function entryForm(line) {
    const quantity = h('input.qty.counted', { type: 'number', inputmode: 'numeric', min: 0, 'aria-label': 'Counted quantity', onkeydown: (e) => { if (e.key === 'Enter') { e.preventDefault(); save(); } } });
    async function save() {
      const q = Number(quantity.value);
      if (quantity.value === '' || !Number.isInteger(q) || q < 0) return toast('Type the quantity you counted (0 or more)', 'error');
      await record(line, q);
    }
    return h('form.entry', { onsubmit: (e) => { e.preventDefault(); save(); } },
      h('p', `How many ${what(line)} ${line.location === state.location ? 'here' : `at ${line.location}`}?`), quantity,
      h('button.primary', { type: 'submit' }, 'Save count'), button('Cancel', () => { state.entry = null; render(); }, '.secondary'));
  }

  function unknownForm(code) {
    const part = h('input', { name: 'find-part', list: 'serial-parts', autocapitalize: 'characters', placeholder: 'Part number', onkeydown: enterMovesOn });
    const serialParts = state.parts.filter((x) => x.tracking === 'serial' && (state.count.kind !== 'part' || x.part_number === state.count.part));
    return h('form.entry', { onsubmit: async (e) => {
      e.preventDefault();
      const found = serialParts.find((x) => x.part_number === part.value.trim());
      if (!found) return toast('Pick a serialized part', 'error');
      await record({ location: state.location, part: found.part_number, tracking: 'serial', serial: code, lot: null }, 1, `Found: ${code}`);
    } }, h('p', `“${code}” is not known on this phone. Count it as a found unit of:`), part,
    datalist('serial-parts', serialParts.map((x) => x.part_number)), h('button.primary', { type: 'submit' }, 'Count it as found'),
    button('Cancel', () => { state.unknown = null; render(); }, '.secondary'));
  }

  async function markMissing(lines) {
    const drafts = lines.map((line) => { const args = countArgs(state.count, line, 0); return { type: 'count', args, summary: countSummary(args) }; });
    await ctx.act(drafts, `Counted ${drafts.length} missing`);
    await load();
  }

  async function onScan(scan) {
    if (!state.count) return;
    const found = await lookup(scan.text);
    if (found.kind === 'location') {
      if (!inScope(state.count, state.codes, found.location.code)) return toast(`${found.location.code} is not in this count`, 'error');
      state.location = found.location.code;
      state.entry = null;
      return render();
    }
    if (!state.location) return toast('Scan the location first', 'warn');
    const here = state.location;
    if (found.kind === 'unit') {
      const u = found.unit;
      if (!inScope(state.count, state.codes, here, u.part)) return toast(`${u.serial} is a ${u.part}: not in this count`, 'error');
      return record({ location: here, part: u.part, tracking: 'serial', serial: u.serial, lot: null }, 1, `${u.serial} present`);
    }
    if (found.kind === 'lot' || found.kind === 'part') {
      const part = found.part ?? { part_number: found.rows?.[0]?.part, tracking: 'lot' };
      if (!inScope(state.count, state.codes, here, part.part_number)) return toast(`${part.part_number} is not in this count`, 'error');
      if (part.tracking === 'serial') return toast('Scan each unit’s serial', 'warn');
      if (found.kind === 'part' && part.tracking === 'lot') {
        const lots = state.sheet.filter((l) => l.location === here && l.part === part.part_number);
        if (lots.length !== 1) return toast('Scan the lot’s label (or type the lot code)', 'warn');
        state.entry = lots[0];
      } else {
        const lot = found.kind === 'lot' ? found.lot : null;
        const key = lineKey({ location: here, part: part.part_number, lot });
        state.entry = state.sheet.find((l) => l.key === key)
          ?? { key, location: here, part: part.part_number, tracking: lot ? 'lot' : 'untracked', lot, serial: null, expected: null };
      }
      return render();
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
