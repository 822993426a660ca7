// Start-up and the frame around the views: service worker, sign-in, the status bar, the scan bar,
// routing (#/route?query) and where scans go (the open view, or the scan result).

import { openDb } from './db.js';
import * as auth from './auth.js';
import * as sync from './sync.js';
import * as scanner from './scanner.js';
import * as outbox from './outbox.js';
import { dotted, h, selectQuantitiesOnFocus, toast } from './ui.js';
import * as i18n from './i18n.js';
import { t, tn } from './i18n.js';
import { summary } from './logic/syncstate.js';
import * as home from './views/home.js';
import * as item from './views/item.js';
import * as receive from './views/receive.js';
import * as receivepo from './views/receivepo.js';
import * as pickkit from './views/pickkit.js';
import * as run from './views/run.js';
import * as problem from './views/problem.js';
import * as move from './views/move.js';
import * as install from './views/install.js';
import * as uninstall from './views/uninstall.js';
import * as setaside from './views/setaside.js';
import * as count from './views/count.js';
import * as syncView from './views/sync.js';
import * as signin from './views/signin.js';
import * as find from './views/find.js';

const ROUTES = { '': home, item, receive, receivepo, pickkit, issue: run, complete: run, problem, move, install, uninstall, scrap: setaside, remove: setaside, isolate: setaside, count, find, sync: syncView, signin };
const $ = (id) => document.getElementById(id);
let current = null;
let updateReady = null;

const ctx = {
  session: auth.session,
  nav(route, query = {}) {
    const qs = new URLSearchParams(query).toString();
    location.hash = qs ? `#/${route}?${qs}` : `#/${route}`;
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
    if (pending && !confirm(tn('main.sign_out_confirm', pending))) return;
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
  ctx.prompt(t('prompt.scan_anything'));
  current = view.mount(root, ctx, Object.fromEntries(new URLSearchParams(query)), name) ?? {};
  window.scrollTo(0, 0);
}

function renderStatus(detail = null) {
  const s = detail ?? syncSummary();
  const online = navigator.onLine;
  const net = $('net');
  net.textContent = t(online ? 'net.online' : 'net.offline');
  net.className = `pill ${online ? 'on' : 'off'}`;
  const chip = $('syncchip');
  const { held: heldCount, newRejected, newHeld } = sync.state;
  const held = heldCount ? t('chip.held_n', { n: heldCount }) : '';
  // rejected (red) and held (amber) ops stay in the chip until the sync screen is opened
  const alert = newRejected ? 'rejected' : newHeld ? 'held' : '';
  const phase = s.pending ? dotted(t('chip.waiting', { n: s.pending }), s.oldestAge) : CHIP.includes(s.phase) ? t(`chip.${s.phase}`) : s.title;
  chip.textContent = alert ? dotted(t(`chip.${alert}_n`, { n: newRejected || newHeld }), newRejected && newHeld && t('chip.held_n', { n: newHeld }))
    : dotted(phase, held);
  const tone = alert ? `alert ${alert}` : s.pending || held || !['synced', 'syncing'].includes(s.phase) ? 'warn' : 'on';
  chip.className = `pill ${tone}`;
  chip.dataset.phase = s.phase;
  chip.dataset.alert = alert;
  renderBanner();
  current?.onStatus?.(s);
}

const syncSummary = () => summary(sync.state);
const CHIP = ['synced', 'syncing', 'error', 'auth_required', 'update_required', 'gap', 'offline', 'signed_out']; // chip.<phase>

function renderBanner() {
  const banner = $('banner');
  const s = sync.state;
  let content = null;
  if (s.signedIn && s.authExpired) {
    content = [h('span', tn('banner.expired', s.pending)),
      h('button', { type: 'button', onclick: () => ctx.nav('signin', { again: 1 }) }, t('banner.sign_in_again'))];
  } else if (s.updateRequired) {
    content = [h('span', t('banner.update_required')), h('button', { type: 'button', onclick: () => location.reload() }, t('banner.update'))];
  } else if (s.gap) {
    content = [h('span', s.gap)];
  } else if (updateReady) {
    content = [h('span', t('banner.update_ready')), h('button', { type: 'button', onclick: updateReady }, t('banner.update_now'))];
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
      $('camera').textContent = t('scanbar.camera');
      return;
    }
    try {
      $('viewfinder').hidden = false;
      const { torch, engine } = await scanner.start($('video'));
      $('torch').hidden = !torch;
      if (engine === 'server') toast(t(navigator.onLine ? 'camera.server_reads' : 'camera.offline_needs_server'), 'warn');
      $('camera').textContent = t('scanbar.stop');
    } catch (error) {
      $('viewfinder').hidden = true;
      toast(t('camera.not_available', { message: error.message }), 'error');
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
    toast(t('camera.error', { message: event.detail?.message ?? t('camera.unreadable') }), 'warn');
  });
  scanner.listenForWedge(() => !$('scanbar').hidden);
  selectQuantitiesOnFocus();
}

async function main() {
  await i18n.load();
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
  document.getElementById('view').replaceChildren(h('p.error', t('main.could_not_start', { message: error.message })));
  throw error;
});
