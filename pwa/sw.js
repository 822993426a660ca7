// Gemba's service worker: the app shell of one version, cached whole before that version takes over.
// The server writes the version (a hash of the shell's files) and the file list into this file, so a
// deploy changes it and the browser installs the new version beside the old one.

const VERSION = '__GEMBA_VERSION__';
const SHELL = "__GEMBA_SHELL__";
const CACHE = `gemba-shell-${VERSION}`;
const versioned = (path) => `${path}?v=${VERSION}`;
const inShell = new Set(SHELL);

self.addEventListener('install', (event) => {
  // Every file of this version, or nothing: the server refuses `?v=` of another version, so a deploy
  // during the install fails it (and the browser tries again later) instead of mixing versions.
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL.map((path) => new Request(versioned(path), { cache: 'reload' })))));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name.startsWith('gemba-shell-') && name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return; // never cache the API
  const path = url.pathname;
  if (!inShell.has(path)) return;
  event.respondWith((async () => {
    const cached = await caches.match(versioned(path), { cacheName: CACHE });
    return cached ?? fetch(request);
  })());
});
