// Scanning: the rear camera with continuous detection, a keyboard-wedge scanner, and typed entry.
// Every read is emitted once as a `scan` event {text, source, format, gs1}. A camera frame is read by
// the browser's BarcodeDetector where it exists and reads the formats we use, by the phone's own
// reader (decoder.js, zxing-cpp in WebAssembly) otherwise or when the native one finds nothing, and,
// while online, a frame neither reads goes to the server's decoder now and then.

import { decodeFrame } from './api.js';
import * as decoder from './decoder.js';
import { createDeduper } from './logic/dedupe.js';
import { createWedge } from './logic/wedge.js';
import { clean } from './logic/codes.js';

export const events = new EventTarget();
const dedupe = createDeduper(2000);
const FRAME_WIDTH = 1280; // frames downscaled to this width for the phone's reader and the server
const DETECT_MS = 120;
const UPLOAD_MS = 350; // at most one frame to the server per this many ms
// The phone's reader runs its first steps on each frame and its whole cascade on a frame now and then:
// at least FULL_MS apart, and never more than a quarter of the time (a busy scene costs seconds).
const FULL_MS = 1000;
// The formats on our labels and suppliers' (BarcodeDetector's names): the native detector alone when
// it reads them all, else the phone's reader too.
const NEEDED = ['qr_code', 'data_matrix', 'code_128', 'code_39', 'ean_13', 'upc_a', 'pdf417'];

let stream = null;
let video = null;
let running = false;
let detector = null;
let nativeEnough = false; // the native detector reads every NEEDED format
let ownReader = false; // the WebAssembly reader loaded
let lastUpload = -Infinity;
let nextFull = 0;
let torchOn = false;
let audio = null;

function emit(text, source, extra = {}) {
  const code = clean(text);
  if (!code) return;
  if (source === 'camera' && !dedupe.accept(code, performance.now())) return;
  if (source !== 'typed') feedback();
  events.dispatchEvent(new CustomEvent('scan', { detail: { text: code, source, ...extra } }));
}

/** A short beep and a buzz: the operator hears and feels a read without looking. */
export function feedback() {
  try {
    audio ??= new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 1760;
    gain.gain.value = 0.2;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.09);
  } catch { /* no audio: the buzz and the screen still tell */ }
  navigator.vibrate?.(60);
}

export const isRunning = () => running;

async function makeDetector() {
  if (!('BarcodeDetector' in window)) return null;
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    nativeEnough = NEEDED.every((format) => formats.includes(format));
    return formats.length ? new window.BarcodeDetector({ formats }) : null;
  } catch { return null; }
}

/** Start the rear camera into `videoEl`; resolves with {torch: boolean} once frames flow. */
export async function start(videoEl) {
  stop();
  video = videoEl;
  stream = await navigator.mediaDevices.getUserMedia({
    audio: false,
    video: { facingMode: { ideal: 'environment' }, width: { ideal: 1920 }, height: { ideal: 1080 } },
  });
  video.srcObject = stream;
  video.setAttribute('playsinline', '');
  video.muted = true;
  await video.play();
  nativeEnough = false;
  nextFull = 0;
  detector = await makeDetector();
  ownReader = nativeEnough ? false : await decoder.load();
  running = true;
  loop();
  const track = stream.getVideoTracks()[0];
  return { torch: Boolean(track.getCapabilities?.().torch), engine: detector || ownReader ? 'device' : 'server' };
}

export function stop() {
  running = false;
  torchOn = false;
  stream?.getTracks().forEach((t) => t.stop());
  stream = null;
  if (video) video.srcObject = null;
}

export async function toggleTorch() {
  const track = stream?.getVideoTracks()[0];
  if (!track) return false;
  torchOn = !torchOn;
  await track.applyConstraints({ advanced: [{ torch: torchOn }] });
  return torchOn;
}

const canvas = document.createElement('canvas');
const context = canvas.getContext('2d', { willReadFrequently: true });

function grabFrame() {
  const scale = Math.min(1, FRAME_WIDTH / video.videoWidth);
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  context.drawImage(video, 0, 0, canvas.width, canvas.height);
}

/** Emits what one frame holds: native detector, then the phone's reader, then (online, now and then) the server. */
async function detectOnce() {
  if (!video || video.readyState < 2 || !video.videoWidth) return;
  if (detector) {
    const found = await detector.detect(video);
    for (const code of found) emit(code.rawValue, 'camera', { format: code.format });
    if (found.length || nativeEnough) return;
  }
  grabFrame();
  if (ownReader) {
    const started = performance.now();
    const quick = started < nextFull;
    const { symbols } = await decoder.read(context.getImageData(0, 0, canvas.width, canvas.height), { quick });
    if (!quick) nextFull = performance.now() + Math.max(FULL_MS, 3 * (performance.now() - started));
    for (const symbol of symbols) emit(symbol.text, 'camera', { format: symbol.format, gs1: symbol.gs1 });
    if (symbols.length) return;
  }
  if (!navigator.onLine || performance.now() - lastUpload < UPLOAD_MS) return;
  lastUpload = performance.now();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85));
  if (!blob) return;
  const answer = await decodeFrame(blob);
  for (const symbol of answer?.symbols ?? []) emit(symbol.text, 'camera', { format: symbol.format, gs1: symbol.gs1 });
}

async function loop() {
  while (running) {
    const began = performance.now();
    try { await detectOnce(); } catch (error) { if (running) events.dispatchEvent(new CustomEvent('error', { detail: error })); }
    const wait = (detector || ownReader ? DETECT_MS : UPLOAD_MS) - (performance.now() - began);
    await new Promise((r) => setTimeout(r, Math.max(30, wait)));
  }
}

/** Typed entry from a text field. */
export function typed(text) { emit(text, 'typed'); }

const isField = (el) => el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement;

/** Keyboard-wedge scanners: a fast burst of keys ending in Enter is a scan wherever the focus is. When
 *  the focus is in a text field, the burst's keys have gone into it: the field gets back the value it
 *  had before the burst, and its Enter reaches nobody (no "next field", no submit). `active()` says
 *  whether scans are wanted at all (not on the sign-in screen). */
export function listenForWedge(active, target = document) {
  const wedge = createWedge();
  let before = null; // {el, value}: the text field the current burst began in, as it was
  target.addEventListener('keydown', (event) => {
    const el = event.target;
    if (event.ctrlKey || event.altKey || event.metaKey || event.isComposing || el instanceof HTMLSelectElement || !active()) return;
    if (isField(el) && el.type === 'password') return;
    const time = event.timeStamp || performance.now();
    if (event.key.length === 1 && wedge.begins(time)) before = isField(el) ? { el, value: el.value } : null;
    const code = wedge.feed(event.key, time);
    if (!code) return;
    event.preventDefault();
    event.stopPropagation();
    if (before?.el === el && el.value !== before.value) {
      el.value = before.value;
      el.dispatchEvent(new Event('input', { bubbles: true })); // whoever follows the field sees it back as it was
    }
    before = null;
    emit(code, 'wedge');
  }, true);
}
