// The phone's own barcode reader (reader/worker.js: zxing-cpp in WebAssembly), started when the
// camera first opens. `read` hands it one frame's pixels and resolves with the symbols it trusts.

import { t } from './i18n.js';

let worker = null;
let ready = null;
let next = 0;
const waiting = new Map();

function ask(message, transfer = []) {
  const id = ++next;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker.postMessage({ id, ...message }, transfer);
  });
}

function answer(event) {
  const { id, error, ...result } = event.data;
  const pending = waiting.get(id);
  waiting.delete(id);
  if (error) pending?.reject(new Error(error)); else pending?.resolve(result);
}

/** Start the reader and load its WebAssembly; resolves true when it can read, false when it cannot. */
export function load() {
  if (!ready) {
    try {
      worker = new Worker(new URL('./reader/worker.js', import.meta.url), { type: 'module' });
      worker.addEventListener('message', answer);
      worker.addEventListener('error', () => { for (const p of waiting.values()) p.reject(new Error(t('camera.reader_stopped'))); waiting.clear(); });
      ready = ask({ load: true }).then(() => true);
    } catch (error) {
      ready = Promise.reject(error);
    }
    ready = ready.catch(() => { worker?.terminate(); worker = null; ready = null; return false; });
  }
  return ready;
}

/** The symbols [{format, text, gs1}] in one frame (RGBA pixels, e.g. an ImageData), and the worker's ms.
 *  `quick`: only the reader's first steps (a live frame), not its whole cascade. */
export async function read({ width, height, data }, { quick = false } = {}) {
  if (!(await load())) throw new Error(t('camera.cannot_read'));
  const pixels = data.buffer.byteLength === data.byteLength ? data.buffer : data.slice().buffer;
  return ask({ width, height, rgba: pixels, quick }, [pixels]);
}
