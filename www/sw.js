// Service worker: keeps the app shell in Cache Storage so that the page
// opens and classifies without a network connection.
//
// Shell files are fetched network-first. While the server responds, every
// load gets the current build and refreshes the stored copy. When it does
// not, the stored copy is served. Model files are not handled here: the
// classifier worker (worker.js) reads and writes them in MODEL_CACHE itself,
// so they are stored even when this service worker is not yet in control.
'use strict';

const SHELL_CACHE = 'd2v-shell-v1';
const MODEL_CACHE = 'd2v-models-v1';

const SHELL_FILES = [
  './',
  'index.html',
  'style.css',
  'app.js',
  'client.js',
  'input.js',
  'ui.js',
  'nomodule.js',
  'worker.js',
  'wasm_exec.js',
  'd2v.wasm',
  'd2v-simd.wasm',
  'icon.svg',
  'manifest.webmanifest',
  'models/models.json',
];

// How long a shell request waits for the server's response headers before
// the stored copy is used instead, in milliseconds. The body may take
// longer, so a slow download of d2v.wasm is not cut off.
const NETWORK_TIMEOUT_MS = 4000;

const shellPaths = new Set(SHELL_FILES.map((file) => new URL(file, self.location).pathname));

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // cache: 'no-cache' revalidates with the server, so a new service worker
    // never stores files from an older HTTP-cached build.
    await cache.addAll(SHELL_FILES.map((file) => new Request(file, { cache: 'no-cache' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const keep = new Set([SHELL_CACHE, MODEL_CACHE]);
    for (const name of await caches.keys()) {
      if (name.startsWith('d2v-') && !keep.has(name)) {
        await caches.delete(name);
      }
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === 'navigate' || shellPaths.has(url.pathname)) {
    event.respondWith(networkFirst(event, request));
  }
});

async function networkFirst(event, request) {
  const cache = await caches.open(SHELL_CACHE);
  const network = fetch(request).then((response) => {
    if (response.status === 200 && response.type === 'basic') {
      event.waitUntil(refresh(cache, request, response.clone()).catch(() => {}));
    }
    return response;
  });
  // The race below may settle without the network. Its failure is handled
  // there or at the end, so it must not count as unhandled.
  network.catch(() => {});

  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(resolve, NETWORK_TIMEOUT_MS, null);
  });
  try {
    const response = await Promise.race([network, timeout]);
    if (response) {
      return response;
    }
  } catch {
    // The server cannot be reached: fall through to the stored copy.
  } finally {
    clearTimeout(timer);
  }

  // Navigations such as /?model=fashion-mnist are served by the stored page.
  const stored = await cache.match(request, { ignoreSearch: request.mode === 'navigate' });
  if (stored) {
    return stored;
  }
  // Nothing stored: wait for the network after all, and let its error show.
  return network;
}

// refresh stores a response unless the stored copy has the same ETag, which
// saves rewriting d2v.wasm on every load.
async function refresh(cache, request, response) {
  const etag = response.headers.get('ETag');
  const stored = await cache.match(request);
  if (stored && etag && stored.headers.get('ETag') === etag) {
    return;
  }
  await cache.put(request, response);
}
