// Gemba's service worker: the app shell of one version, cached whole before that version takes over.
// The server writes the version (a hash of the shell's files) and the file list into this file, so a
// deploy changes it and the browser installs the new version beside the old one. The vendored
// libraries (the barcode reader's WebAssembly: the camera reads offline from the first start) are
// cached the same way under a version of their own, so a deploy that leaves them alone does not
// fetch them again.

const VERSION = '__GEMBA_VERSION__';
const SHELL = "__GEMBA_SHELL__";
const VENDOR_VERSION = '__GEMBA_VENDOR_VERSION__';
const VENDOR = "__GEMBA_VENDOR__";
const CACHE = `gemba-shell-${VERSION}`;
const VENDOR_CACHE = `gemba-vendor-${VENDOR_VERSION}`;
const versioned = (path, version) => `${path}?v=${version}`;
const fresh = (path, version) => new Request(versioned(path, version), { cache: 'reload' });
const inShell = new Set(SHELL);
const inVendor = new Set(VENDOR);

self.addEventListener('install', (event) => {
  // Every file of this version, or nothing: the server refuses `?v=` of another version, so a deploy
  // during the install fails it (and the browser tries again later) instead of mixing versions.
  event.waitUntil(Promise.all([
    caches.open(CACHE).then((cache) => cache.addAll(SHELL.map((path) => fresh(path, VERSION)))),
    caches.open(VENDOR_CACHE).then(async (cache) => {
      const have = new Set((await cache.keys()).map((request) => new URL(request.url).pathname));
      await cache.addAll(VENDOR.filter((path) => !have.has(path)).map((path) => fresh(path, VENDOR_VERSION)));
    }),
  ]));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if ((name.startsWith('gemba-shell-') && name !== CACHE) || (name.startsWith('gemba-vendor-') && name !== VENDOR_CACHE)) await caches.delete(name);
    }
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
  const [cacheName, version] = inShell.has(path) ? [CACHE, VERSION] : inVendor.has(path) ? [VENDOR_CACHE, VENDOR_VERSION] : [];
  if (!cacheName) return;
  event.respondWith((async () => {
    const cached = await caches.match(versioned(path, version), { cacheName });
    return cached ?? fetch(request);
  })());
});
