// The phone's barcode reader, in a worker so that the screen stays responsive: zxing-cpp built to
// WebAssembly (vendor/zxing-wasm, from this server, cached by the service worker), run as a
// cascade of steps on grey copies of the frame like the server's (server/scan/decode.py), stopping at
// the first step after which the reads add up to a symbol the trust rule accepts (trust.js).
// Messages in: {id, load: true} (load only) or {id, width, height, rgba: ArrayBuffer, quick};
// out: {id, symbols, ms} or {id, error}.

import { BINARIZED, PREPARE, grayOf } from './pixels.js';
import { decide, formatName, spell } from './trust.js';

const FORMATS = ['Code128', 'Code39Std', 'Code93', 'EAN13', 'EAN8', 'UPCA', 'UPCE', 'ITF14', 'DataBarOmni', 'DataBarExp',
  'QRCode', 'MicroQRCode', 'DataMatrix', 'PDF417', 'Aztec'];
const BINARIZER = { local: 'LocalAverage', histogram: 'GlobalHistogram', fixed: 'FixedThreshold' };
// [preprocessing, binarizer, thorough (zxing-cpp's own rotations, inversion and downscaling)]: the
// server's cascade without its zbar step, then, in zbar's place as second opinions for linear codes,
// the two steps that added most on the training half of the photos (bench_decode.py's split, seed 0).
const CASCADE = [
  ['half', 'histogram'], ['half', 'local'], ['gray', 'histogram'], ['gray', 'local'], ['local_threshold', 'histogram'],
  ['half', 'histogram', true], ['equalize', 'histogram'], ['equalize', 'fixed'], ['autocontrast', 'histogram'],
  ['autocontrast', 'fixed'], ['gamma_dark', 'histogram'], ['gamma_dark', 'local'], ['gray', 'fixed'],
  ['gamma_dark', 'fixed'], ['gamma_dark', 'local', true],
];
// `quick`: the first steps only (half and full size, both binarizers: two independent reads of a
// linear code), for a live camera frame; the camera runs the whole cascade on a frame now and then.
const QUICK = 4;

let zxing = null;

function load() {
  zxing ??= import('../vendor/zxing-wasm/reader/index.js').then(async (module) => {
    const wasm = new URL('../vendor/zxing-wasm/reader/zxing_reader.wasm', import.meta.url).href; // ours, not the library's CDN
    await module.prepareZXingModule({ overrides: { locateFile: () => wasm }, fireImmediately: true });
    return module;
  }).catch((error) => { zxing = null; throw error; }); // not loaded (offline before the first install): next frame tries again
  return zxing;
}

let rgba = null; // one RGBA buffer reused for the grey copies handed to zxing-wasm

function asImageData(image) {
  const size = image.width * image.height * 4;
  if (!rgba || rgba.length !== size) rgba = new Uint8ClampedArray(size);
  const grey = image.data;
  for (let i = 0, j = 0; i < grey.length; i++, j += 4) { rgba[j] = rgba[j + 1] = rgba[j + 2] = grey[i]; rgba[j + 3] = 255; }
  return { width: image.width, height: image.height, data: rgba };
}

async function read(module, width, height, pixels, quick) {
  const gray = grayOf(width, height, pixels);
  const copies = { gray };
  const reads = [];
  for (const [prepare, binarizer, thorough = false] of quick ? CASCADE.slice(0, QUICK) : CASCADE) {
    copies[prepare] ??= PREPARE[prepare](gray);
    const image = copies[prepare];
    const found = await module.readBarcodes(asImageData(image), {
      formats: FORMATS, binarizer: BINARIZER[binarizer], textMode: 'Plain', tryHarder: true,
      tryRotate: thorough, tryInvert: thorough, tryDownscale: thorough,
    });
    const sx = image.width / width;
    const sy = image.height / height;
    for (const result of found) {
      const name = formatName(result.format);
      if (!name || !result.isValid) continue;
      const [format, text] = spell(name, result.text);
      const p = result.position;
      const xs = [p.topLeft.x, p.topRight.x, p.bottomLeft.x, p.bottomRight.x].map((x) => x / sx);
      const ys = [p.topLeft.y, p.topRight.y, p.bottomLeft.y, p.bottomRight.y].map((y) => y / sy);
      const source = `zxing/${BINARIZED.has(prepare) ? prepare : binarizer}`;
      reads.push({ source, format, text, gs1: result.contentType === 'GS1', box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)] });
    }
    const symbols = decide(reads);
    if (symbols.length) return symbols;
  }
  return [];
}

self.addEventListener('message', async (event) => {
  const { id, width, height, rgba: buffer, quick = false } = event.data;
  try {
    const module = await load();
    if (event.data.load) return self.postMessage({ id, symbols: [], ms: 0 });
    const started = performance.now();
    const symbols = await read(module, width, height, new Uint8ClampedArray(buffer), quick);
    self.postMessage({ id, symbols, ms: performance.now() - started });
  } catch (error) {
    self.postMessage({ id, error: String(error?.message ?? error) });
  }
});
