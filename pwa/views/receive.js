// Receive: part, then serial / lot / quantity, then location. A supplier label fills what it carries (its
// PO number and line too); part and location stay for the next receipt, so a pallet of serials is one scan
// each. Against a PO line (pulled: offline too) the line's part, location and lot come with it, the
// quantity defaults to what remains, and what remains drops at once.

import { h, field, input, datalist, enterMovesOn, quantityInput, readQuantity, toast } from '../ui.js';
import { allLocations, allParts, locationByCode, lookup, openPoLines, partByNumber, poLineFor } from '../store.js';
import { describeCode } from '../api.js';
import { labelFields, parseOwn, receivePrefill } from '../logic/codes.js';
import { money, placesOf, positive, times } from '../logic/qty.js';
import { serverFields } from './item.js';
import { onePart } from './pick.js';
import { t } from '../i18n.js';

const TRACKED = ['serial', 'lot', 'untracked']; // receive.tracked.<tracking>

export function mount(root, ctx, query) {
  const els = {
    part: input('part', { list: 'parts-list', placeholder: t('receive.part_number'), onkeydown: enterMovesOn }),
    serial: input('serial', { placeholder: t('receive.serial_number'), onkeydown: enterMovesOn }),
    lot: input('lot', { placeholder: t('receive.lot_placeholder'), onkeydown: enterMovesOn }),
    quantity: quantityInput('quantity', { value: 1, onkeydown: enterMovesOn }),
    pack: h('select', { name: 'pack' }),
    location: input('location', { list: 'locations-list', placeholder: t('receive.location_code'), onkeydown: enterMovesOn }),
    supplier: input('supplier', { placeholder: t('receive.supplier_optional'), autocapitalize: 'words', onkeydown: enterMovesOn }),
    expiry: input('expiry', { type: 'date' }),
    po_line: input('po_line', { list: 'po-lines-list', placeholder: t('receive.po_line_placeholder'), onkeydown: enterMovesOn }),
    // the price, one row: per unit or of the whole package, and the package's number (delivery note)
    per: h('select', { name: 'per' }, h('option', { value: 'unit_cost' }, t('receive.per_unit')), h('option', { value: 'package_price' }, t('receive.per_package'))),
    price: input('price', { inputmode: 'decimal', onkeydown: enterMovesOn }),
    package_ref: input('package_ref', { placeholder: t('receive.package_ref'), onkeydown: enterMovesOn }),
  };
  const lineInfo = h('p.po-line');
  const priceHint = h('span.hint.price-hint');
  const tracking = h('p.tracking');
  const rows = { serial: field(t('common.serial'), els.serial), lot: field(t('common.lot'), els.lot), quantity: field(t('common.quantity'), els.quantity),
    pack: field(t('receive.pack'), els.pack), expiry: field(t('receive.expiry'), els.expiry) };
  let part = null;
  let linePrice = null; // the PO line's unit price: what a receipt against it costs unless it names one
  const form = h('form.flow', { onsubmit: (e) => { e.preventDefault(); submit(); } },
    h('h2', t('receive.title')), field(t('common.part'), els.part), tracking, rows.serial, rows.lot, rows.quantity, rows.pack,
    field(t('receive.price'), [h('div.price', els.per, els.price, els.package_ref), priceHint]),
    field(t('common.location'), els.location), field(t('receive.po_line'), els.po_line), lineInfo,
    field(t('receive.supplier'), els.supplier), rows.expiry, h('button.primary', { type: 'submit' }, t('receive.title')));
  root.append(form, datalist('parts-list', []), datalist('locations-list', []), datalist('po-lines-list', []));
  openPoLines().then((lines) => root.querySelector('#po-lines-list').replaceChildren(...lines.map((l) => h('option', { value: l.po_line }, `${l.part} — ${l.supplier}`))));
  allParts().then((parts) => root.querySelector('#parts-list').replaceChildren(...parts.map((p) => h('option', { value: p.part_number }, p.description))));
  allLocations().then((locs) => root.querySelector('#locations-list').replaceChildren(...locs.map((l) => h('option', { value: l.code }, l.name))));

  async function setPart(number) {
    els.part.value = number ?? '';
    if (part && part.part_number !== number) els.price.value = els.package_ref.value = ''; // another part's price
    part = number ? await partByNumber(number) : null;
    // left empty, the server costs it at the line's price, else the part's average price (as it is then)
    const price = linePrice ?? part?.average_price;
    els.price.placeholder = price ?? '';
    priceHint.textContent = price ? t(linePrice ? 'receive.line_price' : 'receive.average_price', { price }) : '';
    const kind = part?.tracking;
    rows.serial.hidden = kind !== 'serial';
    rows.lot.hidden = kind !== 'lot';
    rows.quantity.hidden = kind === 'serial';
    rows.expiry.hidden = !kind || kind === 'untracked'; // a lot's (or a unit's) expiry date; GS1 AI 17 fills it
    // the packs it is bought in: "3" with "box of 100" is 300 of its unit (the server converts and records it)
    const packs = kind === 'serial' ? [] : part?.packs ?? [];
    rows.pack.hidden = !packs.length;
    els.pack.replaceChildren(h('option', { value: '' }, t('receive.pack_single', { unit: part?.unit ?? 'ea' })),
      ...packs.map((p) => h('option', { value: p.name }, t('receive.pack_option', { name: p.name, size: p.quantity, unit: part.unit }))));
    tracking.textContent = part ? `${part.description || part.part_number} — ${TRACKED.includes(kind) ? t(`receive.tracked.${kind}`) : kind}` : (number ? t('receive.unknown_part') : '');
    tracking.dataset.tracking = kind ?? '';
    tracking.className = part || !number ? 'tracking' : 'tracking error';
    ctx.prompt(t(!part ? 'receive.prompt_part' : kind === 'serial' && !els.serial.value ? 'receive.prompt_serial' : !els.location.value ? 'receive.prompt_location' : 'receive.prompt_check'));
  }
  els.part.addEventListener('change', () => setPart(els.part.value.trim()));
  els.po_line.addEventListener('change', () => setLine(els.po_line.value.trim(), { quantity: true }));

  /** The PO line named (or the open line of a PO number for the part): its part, location and lot fill what
   *  is empty, the quantity what remains (`quantity`: unless the label gave one); shows what it expects. */
  async function setLine(name, { quantity = false } = {}) {
    const line = name ? await poLineFor(name, part?.part_number ?? els.part.value.trim()) : null;
    lineInfo.dataset.remaining = line ? String(line.remaining) : '';
    lineInfo.className = !name || line ? 'po-line' : 'po-line error';
    lineInfo.textContent = line ? t('receive.po_info', { ...line, unit: line.unit ?? '' }) : (name ? t('receive.po_unknown', { name }) : '');
    linePrice = line?.unit_price ?? null;
    els.po_line.value = line?.po_line ?? name;
    if (!line) return;
    if (!els.location.value.trim()) els.location.value = line.location;
    if (line.lot && !els.lot.value.trim()) els.lot.value = line.lot;
    if (quantity && line.tracking !== 'serial' && positive(line.remaining)) els.quantity.value = line.remaining;
    await setPart(line.part);
  }

  async function prefill(values) {
    if (values.part && !values.po_line && els.po_line.value.trim()) { // another part's label: not for that line
      const line = await poLineFor(els.po_line.value.trim(), values.part);
      if (line?.part !== values.part) { els.po_line.value = ''; await setLine(''); }
    }
    if (values.part) await setPart(values.part);
    for (const name of ['serial', 'lot', 'quantity', 'location', 'supplier', 'expiry']) if (values[name] != null && values[name] !== '') els[name].value = values[name];
    if (values.po_line) await setLine(values.po_line, { quantity: values.quantity == null || values.quantity === '' });
    if (values.part || values.location) await setPart(els.part.value.trim());
  }

  /** A typed serial or lot, or null (the operator was told) when it is one of our labels for something
   *  else: a location or part label is never a serial. Our own unit / lot label stands for its serial / lot. */
  function ownValue(value, kind, name) {
    const own = parseOwn(value);
    if (!own) return value;
    if (own.kind !== kind) { toast(t('receive.wrong_label', { value, kind: t(`kind.${own.kind}`), name: t(`kind.${name}`) }), 'error'); return null; }
    return own.serial ?? own.lot;
  }

  async function submit() {
    const number = els.part.value.trim();
    if (!part || part.part_number !== number) await setPart(number);
    if (!part) return toast(t('receive.choose_part'), 'error');
    const location = els.location.value.trim();
    if (!(await locationByCode(location))) return toast(location ? t('receive.unknown_location', { location }) : t('receive.prompt_location'), 'error');
    const pack = part.tracking === 'serial' ? null : (part.packs ?? []).find((p) => p.name === els.pack.value) ?? null;
    const read = part.tracking === 'serial' ? { value: 1 } : readQuantity(els.quantity.value, pack ? { places: 6 } : part);
    if (read.error) return toast(read.error, 'error');
    const units = pack ? times(read.value, pack.quantity) : read.value; // what the server will store
    const fits = units == null ? { error: t('quantity.places', { unit: part.unit, places: placesOf(part) }) } : readQuantity(String(units), part);
    if (fits.error) return toast(fits.error, 'error');
    const args = { part: part.part_number, tracking: part.tracking, location, quantity: read.value };
    if (pack) args.pack = pack.name;
    const serial = ownValue(els.serial.value.trim(), 'unit', 'serial');
    const lot = ownValue(els.lot.value.trim(), 'lot', 'lot');
    if (serial == null || lot == null) return undefined;
    if (part.tracking === 'serial') {
      if (serial) args.serial = serial; else if (!part.serial_pattern) return toast(t('receive.scan_serial'), 'error');
    }
    if (part.tracking === 'lot') {
      if (lot) args.lot = lot; else if (!part.lot_pattern) return toast(t('receive.scan_lot'), 'error');
    }
    if (els.supplier.value.trim()) args.supplier = els.supplier.value.trim();
    if (part.tracking !== 'untracked' && els.expiry.value) args.expiry = els.expiry.value;
    const price = els.price.value.trim();
    if (price) {
      const amount = money(price); // exact: "12,5" is "12.50", never a float
      if (!amount) return toast(t('receive.bad_price', { price }), 'error');
      args[els.per.value] = amount; // unit_cost, or package_price (the server divides it by the quantity)
    }
    if (els.package_ref.value.trim()) args.package_ref = els.package_ref.value.trim();
    const named = els.po_line.value.trim();
    if (named) {
      const line = await poLineFor(named, part.part_number);
      if (!line && !named.includes('/')) return toast(t('receive.which_line', { number: named }), 'error');
      args.po_line = line?.po_line ?? named; // a line this phone does not know: the server decides
    }
    const amount = pack ? `${args.quantity} ${pack.name} (${units} ${part.unit})` : part.unit && part.unit !== 'ea' ? `${args.quantity} ${part.unit}` : `${args.quantity}`;
    const what = args.serial ?? (args.lot ? `${amount} × ${t('row.part_lot', { part: part.part_number, lot: args.lot })}` : `${amount} × ${part.part_number}`);
    const cost = args.unit_cost ? ` @ ${args.unit_cost}` : args.package_price ? ` = ${args.package_price}` : '';
    const summary = t('receive.summary', { what, location }) + cost + [args.package_ref, args.po_line].filter(Boolean).map((x) => ` (${x})`).join('');
    await ctx.act([{ type: 'receive', args, units, summary }], t('receive.queued', { what, location }));
    els.serial.value = '';
    els.lot.value = '';
    els.expiry.value = '';
    if (args.package_price) els.price.value = ''; // a package's price is that package's; a unit price stays
    if (args.po_line) await setLine(args.po_line, { quantity: true }); // what remains, less this receipt
    if (form.contains(document.activeElement)) document.activeElement.blur(); // no keyboard over the screen: the next scan goes on
    ctx.prompt(t(part.tracking === 'serial' ? 'receive.prompt_next_serial' : 'receive.prompt_next_part'));
  }

  async function onScan(scan) {
    const text = scan.text;
    const found = await onePart(await lookup(text), root);
    if (!found) return undefined;
    let fields = labelFields(text);
    if (navigator.onLine && !['unit', 'location', 'part', 'lot'].includes(found.kind) && !found.own) {
      try { fields = serverFields(await describeCode(text)) ?? fields; } catch { /* offline: the local reading */ }
    }
    if (fields) return prefill(receivePrefill(fields));
    if (found.kind === 'part') return setPart(found.part.part_number);
    if (found.kind === 'location') { els.location.value = found.location.code; return setPart(els.part.value.trim()); }
    if (found.kind === 'unit') return toast(t('receive.exists', { serial: found.unit.serial, where: found.unit.location ?? found.unit.installed_in }), 'error');
    if (found.kind === 'lot') return prefill({ part: found.rows[0].part, lot: found.lot });
    const own = found.own; // one of our labels naming something this phone does not know
    if (own?.kind === 'location') return toast(t('receive.unknown_location_label', { location: own.code }), 'error');
    if (own?.kind === 'part') return setPart(own.part);
    if (own?.kind === 'lot') return prefill({ part: own.part, lot: own.lot });
    const code = own?.kind === 'unit' ? own.serial : text;
    if (part?.tracking === 'lot') els.lot.value = code; else els.serial.value = code;
    return setPart(els.part.value.trim());
  }

  prefill({ ...query }).then(() => setPart(els.part.value.trim()));
  return { onScan };
}
