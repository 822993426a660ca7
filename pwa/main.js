// Start-up and the frame around the views: service worker, sign-in, the status bar, the scan bar,
// routing (#/route?query) and where scans go (the open view, or the scan result).

import { openDb } from './db.js';
import * as auth from './auth.js';
import * as sync from './sync.js';
import * as scanner from './scanner.js';
import * as outbox from './outbox.js';
import { h, toast } from './ui.js';
import { summary } from './logic/syncstate.js';
import * as home from './views/home.js';
import * as item from './views/item.js';
import * as receive from './views/receive.js';
import * as move from './views/move.js';
import * as install from './views/install.js';
import * as uninstall from './views/uninstall.js';
import * as setaside from './views/setaside.js';
import * as count from './views/count.js';
import * as syncView from './views/sync.js';
import * as signin from './views/signin.js';

const ROUTES = { '': home, item, receive, move, install, uninstall, scrap: setaside, isolate: setaside, count, sync: syncView, signin };
const $ = (id) => document.getElementById(id);
let current = null;
let updateReady = null;

const ctx = {
  session: auth.session,
  nav(route, query = {}) {
    const qs = new URLSearchParams(query).toString();
    location.hash = `#/${route}${qs ? `?${qs}` : ''}`;
  },
  prompt(text) { $('prompt').textContent = text; },
  /** Queue actions (with their local effect, one transaction), tell the operator, sync soon. */
  async act(drafts, message) {
    await outbox.enqueue(drafts, auth.session.user?.username ?? 'unknown');
    toast(message);
    await sync.refreshStats();
    sync.flush();
  },
  signedIn: async () => { sync.setSignedIn(true, auth.session.deviceId); renderStatus(); await sync.flush(); },
  async signOut() {
    const { pending } = await outbox.pendingStats();
    if (pending && !confirm(`${pending} operation${pending === 1 ? ' is' : 's are'} still waiting. They stay on this phone and sync after the next sign-in. Sign out?`)) return;
    await auth.signOut();
    sync.setSignedIn(false, auth.session.deviceId);
    ctx.nav('signin');
  },
  online: () => navigator.onLine,
};

function route() {
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const name = auth.session.user ? path : 'signin';
  const view = ROUTES[name] ?? home;
  current?.unmount?.();
  const root = $('view');
  root.replaceChildren();
  $('scanbar').hidden = view === signin;
  ctx.prompt('Scan anything');
  current = view.mount(root, ctx, Object.fromEntries(new URLSearchParams(query)), name) ?? {};
  window.scrollTo(0, 0);
}

function renderStatus(detail = null) {
  const s = detail ?? syncSummary();
  const online = navigator.onLine;
  const net = $('net');
  net.textContent = online ? 'Online' : 'OFFLINE';
  net.className = `pill ${online ? 'on' : 'off'}`;
  const chip = $('syncchip');
  const held = sync.state.held ? ` · ${sync.state.held} held` : '';
  chip.textContent = (s.pending ? `${s.pending} waiting${s.oldest ? ` · ${s.oldest.replace('oldest ', '')}` : ''}` : CHIP[s.phase] ?? s.title) + held;
  chip.className = `pill ${s.pending || held || !['synced', 'syncing'].includes(s.phase) ? 'warn' : 'on'}`;
  chip.dataset.phase = s.phase;
  renderBanner();
  current?.onStatus?.(s);
}

const syncSummary = () => summary(sync.state);
const CHIP = { synced: 'Synced', syncing: 'Syncing…', error: 'Retrying', auth_required: 'Sign in', update_required: 'Update', gap: 'Stopped', offline: 'Saved here', signed_out: '—' };

function renderBanner() {
  const banner = $('banner');
  const s = sync.state;
  let content = null;
  if (s.signedIn && s.authExpired) {
    content = [h('span', `Your sign-in has expired. ${s.pending} operation${s.pending === 1 ? ' is' : 's are'} safe on this phone.`),
      h('button', { type: 'button', onclick: () => ctx.nav('signin', { again: 1 }) }, 'Sign in again')];
  } else if (s.updateRequired) {
    content = [h('span', 'The server needs a newer app to sync. Your work is safe.'), h('button', { type: 'button', onclick: () => location.reload() }, 'Update')];
  } else if (s.gap) {
    content = [h('span', s.gap)];
  } else if (updateReady) {
    content = [h('span', 'A new version of the app is ready.'), h('button', { type: 'button', onclick: updateReady }, 'Update now')];
  }
  banner.hidden = !content;
  if (content) banner.replaceChildren(...content);
}

async function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  const hadController = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.addEventListener('controllerchange', () => { if (hadController) location.reload(); });
  const registration = await navigator.serviceWorker.register('/sw.js', { scope: '/', updateViaCache: 'none' });
  const offer = (worker) => {
    updateReady = () => worker.postMessage('skip-waiting');
    renderBanner();
  };
  if (registration.waiting && hadController) registration.waiting.postMessage('skip-waiting'); // at start: update now
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    worker?.addEventListener('statechange', () => { if (worker.state === 'installed' && navigator.serviceWorker.controller) offer(worker); });
  });
}

function wireScanBar() {
  $('entry').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('code').value.trim();
    $('code').value = '';
    if (value) scanner.typed(value);
  });
  $('camera').addEventListener('click', async () => {
    if (scanner.isRunning()) {
      scanner.stop();
      $('viewfinder').hidden = true;
      $('camera').textContent = 'Camera';
      return;
    }
    try {
      $('viewfinder').hidden = false;
      const { torch, engine } = await scanner.start($('video'));
      $('torch').hidden = !torch;
      if (engine === 'server') toast(navigator.onLine ? 'Codes are read by the server' : 'Offline: the camera needs a connection on this phone — type or use a scanner', 'warn');
      $('camera').textContent = 'Stop';
    } catch (error) {
      $('viewfinder').hidden = true;
      toast(`Camera not available: ${error.message}`, 'error');
    }
  });
  $('torch').addEventListener('click', async () => { $('torch').classList.toggle('lit', await scanner.toggleTorch()); });
  scanner.events.addEventListener('scan', (event) => {
    const scan = event.detail;
    if (current?.onScan) current.onScan(scan);
    else ctx.nav('item', { code: scan.text });
  });
  let lastError = 0;
  scanner.events.addEventListener('error', (event) => {
    if (event.detail?.offline || Date.now() - lastError < 10_000) return;
    lastError = Date.now();
    toast(`Camera: ${event.detail?.message ?? 'could not read the frame'}`, 'warn');
  });
  scanner.listenForWedge();
}

async function main() {
  await openDb();
  await auth.load();
  wireScanBar();
  sync.events.addEventListener('change', () => renderStatus());
  addEventListener('online', () => renderStatus());
  addEventListener('offline', () => renderStatus());
  addEventListener('hashchange', route);
  navigator.storage?.persist?.().catch(() => {});
  if (auth.session.user) sync.setSignedIn(true, auth.session.deviceId);
  if (auth.expired()) sync.state.authExpired = true;
  await sync.refreshStats(); // the first status shown counts the queue: never "Synced" over waiting work
  route();
  renderStatus();
  performance.mark('gemba-interactive');
  document.documentElement.dataset.ready = '1';
  registerWorker().catch((error) => console.warn('service worker', error));
  outbox.prune().catch(() => {});
  await sync.start(auth.session.deviceId);
  setInterval(renderStatus, 15_000);
}

main().catch((error) => {
  document.getElementById('view').replaceChildren(h('p.error', `Gemba could not start: ${error.message}`));
  throw error;
});
