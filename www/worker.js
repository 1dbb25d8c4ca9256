// Web Worker that runs the Go classifier (d2v-simd.wasm or d2v.wasm), so
// that downloads, model loading and inference run off the page's main
// thread.
//
// Messages from the page: {id, type, ...arguments}. Replies: {id, ok: true,
// result} or {id, ok: false, error: {message, code}}. Progress events:
// {type: 'progress', phase, loaded, total, file}. If the Go program stops
// (out of memory, a crash), one {type: 'fatal', message} follows.
'use strict';

importScripts('wasm_exec.js');

// Cache Storage name for model files. The service worker (sw.js) keeps this
// cache when it deletes old ones, so keep the two names in step.
const MODEL_CACHE = 'd2v-models-v1';

// Minimum time between two progress messages, in milliseconds.
const PROGRESS_INTERVAL_MS = 100;

let runtime = null; // {instance, exited, exitCode, build} once the Go program runs
let goOutputTail = '';

captureGoOutput();

self.onmessage = async (event) => {
  const { id, type } = event.data;
  const handler = handlers[type];
  try {
    if (!handler) {
      throw codedError('invalid_argument', `unknown request type ${type}`);
    }
    const { result, transfer = [] } = await handler(event.data);
    self.postMessage({ id, ok: true, result }, transfer);
  } catch (err) {
    self.postMessage({ id, ok: false, error: { message: errorMessage(err), code: err.code || 'internal' } });
  }
};

// SIMD_PROBE is a WebAssembly module with one function that returns a
// v128.const, so it validates only where the browser supports SIMD.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic number, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, // code section: v128.const
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0x0b, // end
]);

const handlers = {
  // init starts the classifier. build is 'simd', 'scalar', or 'auto' to
  // take the SIMD build where the browser supports WebAssembly SIMD.
  async init({ build = 'auto' }) {
    if (!runtime) {
      const simd = build === 'simd' || (build === 'auto' && typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE));
      runtime = await startGo(simd ? 'd2v-simd.wasm' : 'd2v.wasm');
      runtime.build = simd ? 'simd' : 'scalar';
    }
    return { result: { goVersion: self.d2v.goVersion, build: runtime.build } };
  },

  async load({ model, baseUrl }) {
    const api = goAPI();
    await api.unloadModel();
    const stats = await addModelFiles(api, model, baseUrl);
    progress({ phase: 'prepare', loaded: 0, total: 0, file: '' });
    const info = await api.loadModel();
    return { result: { ...info, ...stats } };
  },

  async classifyImage({ bytes, topK, wantPixels }) {
    const api = goAPI();
    const image = new Uint8Array(bytes);
    const result = await api.classifyImage(image, topK);
    const transfer = [result.logits.buffer];
    if (wantPixels) {
      // The page could not decode this image itself, so it needs the
      // pixels to show it.
      result.preview = await api.decodeImage(image);
      transfer.push(result.preview.pixels.buffer);
    }
    return { result, transfer };
  },

  async classifyPixels({ pixels, width, height, topK }) {
    const result = await goAPI().classifyPixels(new Uint8ClampedArray(pixels), width, height, topK);
    return { result, transfer: [result.logits.buffer] };
  },

  async memory() {
    return { result: await goAPI().memory(runtime.instance.exports.mem) };
  },
};

function goAPI() {
  if (!runtime || !self.d2v) {
    throw codedError('not_started', 'the classifier has not started yet');
  }
  if (runtime.exited) {
    throw codedError('stopped', 'the classifier has stopped. Reload the page.');
  }
  return self.d2v;
}

// startGo downloads, compiles and starts one build of the classifier,
// reporting download progress. Where the browser has
// WebAssembly.instantiateStreaming, the compile runs while the bytes arrive.
async function startGo(wasmUrl) {
  if (typeof WebAssembly !== 'object') {
    throw codedError('unsupported', 'this browser has no WebAssembly support');
  }
  const response = await fetchOrExplain(wasmUrl, `the classifier (${wasmUrl})`);
  const total = bodyLength(response);
  let loaded = 0;
  const report = throttledProgress();
  const counter = new TransformStream({
    transform(chunk, controller) {
      loaded += chunk.byteLength;
      report({ phase: 'runtime', loaded, total, file: wasmUrl });
      controller.enqueue(chunk);
    },
  });
  const counted = new Response(response.body.pipeThrough(counter), {
    headers: { 'Content-Type': 'application/wasm' },
  });

  const go = new self.Go();
  let instance;
  try {
    if (typeof WebAssembly.instantiateStreaming === 'function') {
      ({ instance } = await WebAssembly.instantiateStreaming(counted, go.importObject));
    } else {
      ({ instance } = await WebAssembly.instantiate(await counted.arrayBuffer(), go.importObject));
    }
  } catch (err) {
    if (err instanceof WebAssembly.CompileError || err instanceof WebAssembly.LinkError) {
      throw codedError('unsupported', `this browser cannot compile the classifier: ${err.message}. Use a current version of Chrome, Edge, Firefox or Safari.`);
    }
    throw codedError('download_failed', `cannot load the classifier (${wasmUrl}): ${errorMessage(err)}`);
  }
  report({ phase: 'runtime', loaded, total: total || loaded, file: wasmUrl }, true);

  const state = { instance, exited: false, exitCode: null };
  go.exit = (code) => {
    state.exitCode = code;
  };
  // go.run settles when the Go program exits, which it only does on a fatal
  // error such as running out of memory.
  go.run(instance).then(
    () => stopped(state, `the classifier stopped (exit code ${state.exitCode ?? 'unknown'})`),
    (err) => stopped(state, `the classifier crashed: ${errorMessage(err)}`),
  );
  if (!self.d2v) {
    throw codedError('internal', `${wasmUrl} started but did not define the d2v object`);
  }
  return state;
}

function stopped(state, message) {
  state.exited = true;
  const lastLine = goOutputTail.trim().split('\n').filter(Boolean).slice(-3).join(' ');
  self.postMessage({ type: 'fatal', message: lastLine ? `${message}: ${lastLine}` : message });
}

// addModelFiles hands each file of a manifest entry to Go as soon as it is
// available, so that at most one file is held in JavaScript memory at a
// time. Files come from Cache Storage when a copy with the same SHA-256 is
// there, else from the network, and downloaded files are stored for offline
// use.
async function addModelFiles(api, model, baseUrl) {
  const cache = await openModelCache();
  const total = model.bytes;
  const report = throttledProgress();
  let done = 0;
  let downloaded = 0;
  let storeError = null;

  for (const file of model.files) {
    const url = modelFileURL(model, file, baseUrl);
    let bytes = cache ? await readCached(cache, url, file) : null;
    if (bytes) {
      report({ phase: 'cache', loaded: done + file.bytes, total, file: file.name });
    } else {
      bytes = await download(url, file, (n) => report({ phase: 'download', loaded: done + n, total, file: file.name }));
      await verify(bytes, file);
      downloaded += bytes.byteLength;
      if (cache) {
        storeError = storeError || (await store(cache, url, bytes));
      }
    }
    done += file.bytes;
    await api.addModelFile(file.name, bytes);
    bytes = null;
  }
  report({ phase: downloaded ? 'download' : 'cache', loaded: total, total, file: '' }, true);
  return {
    downloadedBytes: downloaded,
    storedOffline: Boolean(cache) && !storeError,
    storeError: storeError ? errorMessage(storeError) : null,
  };
}

// modelFileURL versions each file by its hash, so that a rebuilt model never
// matches a stale cached copy.
function modelFileURL(model, file, baseUrl) {
  const url = new URL(`models/${encodeURIComponent(model.id)}/${encodeURIComponent(file.name)}`, baseUrl);
  url.searchParams.set('v', file.sha256.slice(0, 16));
  return url.href;
}

async function openModelCache() {
  if (!self.caches) {
    return null; // Cache Storage exists only in secure contexts.
  }
  try {
    return await self.caches.open(MODEL_CACHE);
  } catch (err) {
    console.warn('d2v: Cache Storage is unavailable, models will not be stored offline', err);
    return null;
  }
}

async function readCached(cache, url, file) {
  const response = await cache.match(url);
  if (!response) {
    return null;
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.byteLength !== file.bytes) {
    await cache.delete(url);
    return null;
  }
  return bytes;
}

// store writes a downloaded file to Cache Storage and deletes older versions
// of it. It returns the error instead of throwing, because a full disk must
// not stop the model from loading.
async function store(cache, url, bytes) {
  try {
    await cache.put(url, new Response(bytes, {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.byteLength) },
    }));
    const path = new URL(url).pathname;
    for (const request of await cache.keys()) {
      if (new URL(request.url).pathname === path && request.url !== url) {
        await cache.delete(request);
      }
    }
    return null;
  } catch (err) {
    console.warn('d2v: cannot store model file for offline use', url, err);
    return err;
  }
}

// download reads a file into one buffer of the size the manifest gives,
// calling onBytes with the running count.
async function download(url, file, onBytes) {
  const response = await fetchOrExplain(url, file.name);
  const bytes = new Uint8Array(file.bytes);
  let offset = 0;
  const reader = response.body.getReader();
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (err) {
      throw codedError('download_failed', `the download of ${file.name} broke off after ${offset} of ${file.bytes} bytes: ${errorMessage(err)}`);
    }
    if (chunk.done) {
      break;
    }
    if (offset + chunk.value.byteLength > bytes.byteLength) {
      reader.cancel();
      throw codedError('download_failed', `${file.name} is larger than the ${file.bytes} bytes that models.json lists; rebuild the manifest with make web`);
    }
    bytes.set(chunk.value, offset);
    offset += chunk.value.byteLength;
    onBytes(offset);
  }
  if (offset !== bytes.byteLength) {
    throw codedError('download_failed', `the download of ${file.name} is incomplete: ${offset} of ${file.bytes} bytes`);
  }
  return bytes;
}

async function verify(bytes, file) {
  if (!self.crypto || !self.crypto.subtle) {
    return; // crypto.subtle exists only in secure contexts.
  }
  const digest = new Uint8Array(await self.crypto.subtle.digest('SHA-256', bytes));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  if (hex !== file.sha256) {
    throw codedError('download_failed', `${file.name} does not match its SHA-256 in models.json (got ${hex.slice(0, 12)}…, want ${file.sha256.slice(0, 12)}…); rebuild the manifest with make web`);
  }
}

async function fetchOrExplain(url, description) {
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw codedError('download_failed', `cannot download ${description}: ${errorMessage(err)}. Check the network connection, or that the server is running.`);
  }
  if (!response.ok) {
    throw codedError('download_failed', `cannot download ${description}: the server returned HTTP ${response.status} ${response.statusText} for ${new URL(url).pathname}`);
  }
  return response;
}

// bodyLength returns the decoded body size: X-Uncompressed-Length from
// tools/serve, else Content-Length unless the body is compressed, else 0.
function bodyLength(response) {
  const uncompressed = Number(response.headers.get('X-Uncompressed-Length'));
  if (uncompressed > 0) {
    return uncompressed;
  }
  if (response.headers.get('Content-Encoding')) {
    return 0;
  }
  return Number(response.headers.get('Content-Length')) || 0;
}

function progress(event) {
  self.postMessage({ type: 'progress', ...event });
}

function throttledProgress() {
  let last = 0;
  return (event, force = false) => {
    const now = Date.now();
    if (force || now - last >= PROGRESS_INTERVAL_MS) {
      last = now;
      progress(event);
    }
  };
}

// captureGoOutput keeps the end of what the Go program prints (wasm_exec.js
// sends it to console.log), so that a fatal error can be shown on the page.
function captureGoOutput() {
  const fs = self.fs;
  const writeSync = fs.writeSync.bind(fs);
  const decoder = new TextDecoder();
  fs.writeSync = (fd, buf) => {
    goOutputTail = (goOutputTail + decoder.decode(buf)).slice(-4000);
    return writeSync(fd, buf);
  };
}

function codedError(code, message) {
  const err = new Error(message);
  err.code = code;
  return err;
}

function errorMessage(err) {
  return err && err.message ? err.message : String(err);
}
