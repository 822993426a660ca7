// Which reads of one camera frame to trust: the phone's copy of the server's rule (server/scan/decode.py,
// `decide`). Reads of one place that disagree are dropped (an ambiguous frame is a re-scan, never a
// guess); a linear code needs two independent reads that agree (zxing-cpp on two different
// binarizations); EAN/UPC digits must carry a valid check digit; 2D codes carry error correction, one
// read is enough. Pure: reads are {source, format, text, gs1, box: [x0, y0, x1, y1]}.

export const EAN_UPC = new Set(['ean13', 'upca', 'ean8', 'upce', 'itf14']);
export const LINEAR = new Set([...EAN_UPC, 'code128', 'code39', 'code93', 'databar', 'databar_expanded']);
const LENGTHS = { ean13: 13, upca: 12, ean8: 8, upce: 8, itf14: 14 };
// zxing-wasm's format names (either spelling) → the server's
const NAMES = {
  code128: 'code128', code39: 'code39', code39std: 'code39', code93: 'code93', ean13: 'ean13', ean8: 'ean8', upca: 'upca',
  upce: 'upce', itf: 'itf14', itf14: 'itf14', databar: 'databar', databaromni: 'databar', databarexp: 'databar_expanded',
  qrcode: 'qrcode', microqrcode: 'microqr', datamatrix: 'datamatrix', pdf417: 'pdf417', aztec: 'aztec',
};

/** The server's name of a zxing-wasm format ('EAN-13', 'QRCode' …), or null for one we do not read. */
export function formatName(zxingFormat) {
  return NAMES[String(zxingFormat).toLowerCase().replace(/[^a-z0-9]/g, '')] ?? null;
}

/** The 12-digit UPC-A that an 8-digit UPC-E stands for. */
export function upceExpand(upce) {
  const d = upce.slice(1, 7);
  const last = upce[6];
  let middle;
  if ('012'.includes(last)) middle = d.slice(0, 2) + last + '0000' + d.slice(2, 5);
  else if (last === '3') middle = d.slice(0, 3) + '00000' + d.slice(3, 5);
  else if (last === '4') middle = d.slice(0, 4) + '00000' + d[4];
  else middle = d.slice(0, 5) + '0000' + last;
  return upce[0] + middle + upce[7];
}

function upceCompress(upca) {
  const maker = upca.slice(1, 6);
  const item = upca.slice(6, 11);
  let digits = null;
  if (['000', '100', '200'].includes(maker.slice(2)) && item.startsWith('00')) digits = maker.slice(0, 2) + item.slice(2) + maker[2];
  else if (maker.slice(3) === '00' && item.startsWith('000')) digits = maker.slice(0, 3) + item.slice(3) + '3';
  else if (maker[4] === '0' && item.startsWith('0000')) digits = maker.slice(0, 4) + item[4] + '4';
  else if (item.startsWith('0000') && '56789'.includes(item[4])) digits = maker + item[4];
  return digits ? upca[0] + digits + upca[11] : null;
}

/** One spelling per symbol: an EAN-13 with a leading 0 is a UPC-A; a UPC-E is its 8 printed digits. */
export function spell(format, text) {
  if ((format === 'ean13' || format === 'upce') && text.length === 13 && text.startsWith('0')) {
    text = text.slice(1);
    if (format === 'ean13') format = 'upca';
  }
  if (format === 'upce' && text.length === 12) text = upceCompress(text) ?? text;
  return [format, text];
}

/** The GS1 mod-10 check digit of EAN-13/8, UPC-A, ITF-14 and UPC-E (expanded to UPC-A first). */
export function checkDigitOk(format, text) {
  if (!/^\d+$/.test(text) || text.length !== LENGTHS[format] || (format === 'upce' && !'01'.includes(text[0]))) return false;
  const digits = [...(format === 'upce' ? upceExpand(text) : text)].map(Number);
  const body = digits.slice(0, -1).reverse();
  const total = body.reduce((sum, digit, i) => sum + digit * (i % 2 === 0 ? 3 : 1), 0);
  return (10 - (total % 10)) % 10 === digits[digits.length - 1];
}

const family = (format) => (LINEAR.has(format) ? 'linear' : format);

function samePlace(a, b) {
  if (family(a.format) !== family(b.format)) return false;
  const across = a.box[0] <= b.box[2] && b.box[0] <= a.box[2];
  const down = a.box[1] <= b.box[3] && b.box[1] <= a.box[3];
  if (across && down) return true;
  if (LINEAR.has(a.format) && (across || down) && a.text.length === b.text.length) {
    let differ = 0;
    for (let i = 0; i < a.text.length; i++) differ += a.text[i] !== b.text[i];
    return differ * 3 <= a.text.length;
  }
  return false;
}

/** The symbols {format, text, gs1} the reads establish, in reading order (top to bottom, left to right). */
export function decide(reads) {
  const groups = [];
  for (const read of reads.filter((r) => !EAN_UPC.has(r.format) || checkDigitOk(r.format, r.text))) {
    const joined = groups.filter((group) => group.some((other) => samePlace(read, other)));
    const merged = [read, ...joined.flat()];
    for (const group of joined) groups.splice(groups.indexOf(group), 1);
    groups.push(merged);
  }
  const top = (group) => [Math.min(...group.map((r) => r.box[1])), Math.min(...group.map((r) => r.box[0]))];
  groups.sort((a, b) => top(a)[0] - top(b)[0] || top(a)[1] - top(b)[1]);
  const symbols = [];
  for (const group of groups) {
    if (new Set(group.map((r) => `${r.format}\n${r.text}`)).size !== 1) continue; // one place, two answers
    const [first] = group;
    if (LINEAR.has(first.format) && new Set(group.map((r) => r.source)).size < 2) continue;
    symbols.push({ format: first.format, text: first.text, gs1: group.some((r) => r.gs1) });
  }
  return symbols;
}
