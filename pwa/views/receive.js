// Receive: part, then serial / lot / quantity, then location. A supplier label fills what it carries;
// part and location stay for the next receipt, so a pallet of serials is one scan each.

import { h, field, input, datalist, enterMovesOn, toast } from '../ui.js';
import { allLocations, allParts, locationByCode, lookup, partByNumber } from '../store.js';
import { describeCode } from '../api.js';
import { labelFields, receivePrefill } from '../logic/codes.js';
import { serverFields } from './item.js';

export function mount(root, ctx, query) {
  const els = {
    part: input('part', { list: 'parts-list', placeholder: 'Part number', onkeydown: enterMovesOn }),
    serial: input('serial', { placeholder: 'Serial number', onkeydown: enterMovesOn }),
    lot: input('lot', { placeholder: 'Lot (blank: generated)', onkeydown: enterMovesOn }),
    quantity: input('quantity', { type: 'number', inputmode: 'numeric', min: 1, value: 1, onkeydown: enterMovesOn }),
    location: input('location', { list: 'locations-list', placeholder: 'Location code', onkeydown: enterMovesOn }),
    supplier: input('supplier', { placeholder: 'Supplier (optional)', autocapitalize: 'words', onkeydown: enterMovesOn }),
  };
  const tracking = h('p.tracking');
  const rows = { serial: field('Serial', els.serial), lot: field('Lot', els.lot), quantity: field('Quantity', els.quantity) };
  let part = null;
  const form = h('form.flow', { onsubmit: (e) => { e.preventDefault(); submit(); } },
    h('h2', 'Receive'), field('Part', els.part), tracking, rows.serial, rows.lot, rows.quantity,
    field('Location', els.location), field('Supplier', els.supplier),
    h('button.primary', { type: 'submit' }, 'Receive'));
  root.append(form, datalist('parts-list', []), datalist('locations-list', []));
  allParts().then((parts) => root.querySelector('#parts-list').replaceChildren(...parts.map((p) => h('option', { value: p.part_number }, p.description))));
  allLocations().then((locs) => root.querySelector('#locations-list').replaceChildren(...locs.map((l) => h('option', { value: l.code }, l.name))));

  async function setPart(number) {
    els.part.value = number ?? '';
    part = number ? await partByNumber(number) : null;
    const t = part?.tracking;
    rows.serial.hidden = t !== 'serial';
    rows.lot.hidden = t !== 'lot';
    rows.quantity.hidden = t === 'serial';
    tracking.textContent = part ? `${part.description || part.part_number} — tracked by ${t}` : (number ? 'Unknown part on this phone (sync first, or check the number)' : '');
    tracking.className = part || !number ? 'tracking' : 'tracking error';
    ctx.prompt(!part ? 'Scan the part or supplier label' : t === 'serial' && !els.serial.value ? 'Scan the serial' : !els.location.value ? 'Scan the location' : 'Check and tap Receive');
  }
  els.part.addEventListener('change', () => setPart(els.part.value.trim()));

  async function prefill(values) {
    if (values.part) await setPart(values.part);
    for (const name of ['serial', 'lot', 'quantity', 'location', 'supplier']) if (values[name] != null && values[name] !== '') els[name].value = values[name];
    if (values.part || values.location) await setPart(els.part.value.trim());
  }

  async function submit() {
    const number = els.part.value.trim();
    if (!part || part.part_number !== number) await setPart(number);
    if (!part) return toast('Choose a known part', 'error');
    const location = els.location.value.trim();
    if (!(await locationByCode(location))) return toast(location ? `Unknown location ${location}` : 'Scan the location', 'error');
    const args = { part: part.part_number, tracking: part.tracking, location, quantity: part.tracking === 'serial' ? 1 : Number(els.quantity.value) };
    if (!Number.isInteger(args.quantity) || args.quantity < 1) return toast('Quantity must be a whole number above 0', 'error');
    const serial = els.serial.value.trim();
    const lot = els.lot.value.trim();
    if (part.tracking === 'serial') {
      if (serial) args.serial = serial; else if (!part.serial_pattern) return toast('Scan the serial number', 'error');
    }
    if (part.tracking === 'lot') {
      if (lot) args.lot = lot; else if (!part.lot_pattern) return toast('Scan or type the lot', 'error');
    }
    if (els.supplier.value.trim()) args.supplier = els.supplier.value.trim();
    const what = args.serial ?? (args.lot ? `${args.quantity} × ${part.part_number} lot ${args.lot}` : `${args.quantity} × ${part.part_number}`);
    await ctx.act([{ type: 'receive', args, summary: `Receive ${what} into ${location}` }], `Queued: received ${what} into ${location}`);
    els.serial.value = '';
    els.lot.value = '';
    (part.tracking === 'serial' ? els.serial : els.part).focus();
    ctx.prompt(part.tracking === 'serial' ? 'Scan the next serial' : 'Scan the next part or label');
  }

  async function onScan(scan) {
    const text = scan.text;
    let fields = labelFields(text);
    if (navigator.onLine && !(await lookup(text)).kind.match(/unit|location|part|lot/)) {
      try { fields = serverFields(await describeCode(text)) ?? fields; } catch { /* offline: the local reading */ }
    }
    if (fields) return prefill(receivePrefill(fields));
    const found = await lookup(text);
    if (found.kind === 'part') return setPart(found.part.part_number);
    if (found.kind === 'location') { els.location.value = found.location.code; return setPart(els.part.value.trim()); }
    if (found.kind === 'unit') return toast(`${found.unit.serial} already exists (${found.unit.location ?? found.unit.installed_in})`, 'error');
    if (part?.tracking === 'lot') els.lot.value = text; else els.serial.value = text;
    return setPart(els.part.value.trim());
  }

  // A label scanned by a wedge scanner into a field (focus was there): read it as a scan instead.
  form.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || !(event.target instanceof HTMLInputElement)) return;
    const value = event.target.value;
    if (labelFields(value)) { event.target.value = ''; onScan({ text: value }); }
  }, true);

  prefill({ ...query }).then(() => setPart(els.part.value.trim()));
  return { onScan };
}
