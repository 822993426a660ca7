// Scanning: the rear camera with continuous detection (the browser's BarcodeDetector where it exists,
// otherwise frames sent to the server's decoder while online), a keyboard-wedge scanner, and typed
// entry. Every read is emitted once as a `scan` event {text, source, format, gs1}.

import { decodeFrame } from './api.js';
import { createDeduper } from './logic/dedupe.js';
import { createWedge } from './logic/wedge.js';
import { clean } from './logic/codes.js';

export const events = new EventTarget();
const dedupe = createDeduper(2000);
const FRAME_WIDTH = 1280; // server fallback: frames downscaled to this width as JPEG
const DETECT_MS = 120;
const UPLOAD_MS = 350;

let stream = null;
let video = null;
let running = false;
let detector = null;
let torchOn = false;
let audio = null;
export const stats = { frames: 0, decodeMs: [] };

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

export const hasCamera = () => Boolean(navigator.mediaDevices?.getUserMedia);
export const isRunning = () => running;

async function makeDetector() {
  if (!('BarcodeDetector' in window)) return null;
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
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
  detector = await makeDetector();
  running = true;
  loop();
  const track = stream.getVideoTracks()[0];
  return { torch: Boolean(track.getCapabilities?.().torch), engine: detector ? 'device' : 'server' };
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

function frameBlob() {
  const scale = Math.min(1, FRAME_WIDTH / video.videoWidth);
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85));
}

async function detectOnce() {
  if (!video || video.readyState < 2 || !video.videoWidth) return;
  if (detector) {
    const found = await detector.detect(video);
    for (const code of found) emit(code.rawValue, 'camera', { format: code.format });
    return;
  }
  if (!navigator.onLine) return;
  const blob = await frameBlob();
  if (!blob) return;
  const started = performance.now();
  const answer = await decodeFrame(blob);
  stats.frames += 1;
  stats.decodeMs.push(performance.now() - started);
  if (stats.decodeMs.length > 200) stats.decodeMs.shift();
  for (const symbol of answer?.symbols ?? []) emit(symbol.text, 'camera', { format: symbol.format, gs1: symbol.gs1 });
}

async function loop() {
  while (running) {
    const began = performance.now();
    try { await detectOnce(); } catch (error) { if (running) events.dispatchEvent(new CustomEvent('error', { detail: error })); }
    const wait = (detector ? DETECT_MS : UPLOAD_MS) - (performance.now() - began);
    await new Promise((r) => setTimeout(r, Math.max(30, wait)));
  }
}

/** Typed entry from a text field. */
export function typed(text) { emit(text, 'typed'); }

/** Keyboard-wedge scanners: fast keystrokes ending in Enter, caught anywhere but in a text field. */
export function listenForWedge(target = document) {
  const wedge = createWedge();
  target.addEventListener('keydown', (event) => {
    const el = event.target;
    if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return;
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    const code = wedge.feed(event.key, event.timeStamp || performance.now());
    if (code) { event.preventDefault(); emit(code, 'wedge'); } else if (event.key === 'Enter' && wedge.bursting(event.timeStamp)) event.preventDefault();
  }, true);
}
