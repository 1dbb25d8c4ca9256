// Page controller: checks browser support, registers the service worker,
// lists the models from models/models.json, and sends images to the
// classifier in worker.js.

import { ClassifierClient } from './client.js';
import { wireInputs } from './input.js';
import * as ui from './ui.js';

const TOP_K = 5;

// Images the classifier rejects as too large are scaled down by the browser
// to at most this many pixels before their pixels are classified.
const MAX_BROWSER_PIXELS = 16_000_000;

// Cache Storage name that worker.js writes model files to.
const MODEL_CACHE = 'd2v-models-v1';

const MODEL_STORAGE_KEY = 'd2v.model';

// State that tests and the browser console can read: every result, the
// last one, the latest memory figures and whether a model is loaded.
const page = {
  ready: false,
  build: null, // 'simd' or 'scalar': which d2v.wasm runs
  readyAt: null, // performance.now() when the model finished loading
  model: null,
  results: [],
  last: null,
  memory: null,
  errors: [],
  progress: {}, // the latest progress event of each phase
};
window.d2vPage = page;

let client = null;
let models = [];
let busy = false;
let queued = null; // the newest input that arrived while busy

main();

async function main() {
  const problem = unsupportedReason();
  if (problem) {
    ui.showUnsupported(problem);
    return;
  }
  document.getElementById('reload-button').addEventListener('click', () => location.reload());
  document.getElementById('forget-models').addEventListener('click', forgetModels);
  document.getElementById('model-select').addEventListener('change', (event) => selectModel(event.target.value));
  wireInputs({
    onFile: (file, source) => submit({ kind: 'file', file, source }),
    onPixels: (imageData) => submit({ kind: 'pixels', imageData }),
  });
  ui.clearPreview();
  ui.setInputsEnabled(false);

  const registration = registerServiceWorker();

  ui.setState('loading');
  ui.setStatus('Starting the classifier…');
  client = new ClassifierClient('worker.js', {
    onProgress: (event) => {
      page.progress[event.phase] = { loaded: event.loaded, total: event.total };
      ui.showProgress(event);
    },
    onFatal: (message) => {
      page.ready = false;
      ui.showFatal(`The classifier stopped: ${message}.`);
      ui.setInputsEnabled(false);
    },
  });

  const build = new URLSearchParams(location.search).get('build') || 'auto';
  try {
    let runtime;
    [models, runtime] = await Promise.all([loadManifest(), client.call('init', { build })]);
    page.build = runtime.build;
  } catch (err) {
    failLoad(err);
    return;
  }
  const selected = initialModel(models);
  ui.fillModelList(models, selected.id);
  await selectModel(selected.id, registration);
}

// unsupportedReason returns why this browser cannot run the page, or ''.
function unsupportedReason() {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.instantiate !== 'function') {
    return 'This browser cannot run WebAssembly, which the classifier needs. Use a current version of Chrome, Edge, Firefox or Safari, and check that WebAssembly is not turned off.';
  }
  if (typeof Worker !== 'function') {
    return 'This browser cannot run Web Workers, which keep the page responsive while the classifier works. Use a current version of Chrome, Edge, Firefox or Safari.';
  }
  if (typeof fetch !== 'function' || typeof ReadableStream !== 'function' || typeof createImageBitmap !== 'function') {
    return 'This browser lacks fetch streams or createImageBitmap, which the page needs. Use a current version of Chrome, Edge, Firefox or Safari.';
  }
  return '';
}

// registerServiceWorker installs sw.js, which stores the page for offline
// use. It resolves to the registration, or null where service workers are
// unavailable (old browsers, and plain-http pages not on localhost).
async function registerServiceWorker() {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) {
    ui.showOffline('Offline use needs service workers, which browsers offer only on https pages and on localhost.');
    return null;
  }
  try {
    return await navigator.serviceWorker.register('sw.js');
  } catch (err) {
    ui.showOffline(`Offline use is unavailable: the service worker could not be installed (${err.message}).`);
    return null;
  }
}

async function loadManifest() {
  let response;
  try {
    response = await fetch('models/models.json');
  } catch (err) {
    throw new Error(`Cannot download the model list (models/models.json): ${err.message}. Check the connection or that the server is running.`);
  }
  if (!response.ok) {
    throw new Error(`Cannot download the model list (models/models.json): HTTP ${response.status}. Build it with make web.`);
  }
  const list = await response.json();
  if (!Array.isArray(list) || list.length === 0) {
    throw new Error('The model list (models/models.json) names no model. Build it with make web.');
  }
  return list;
}

// initialModel picks the model named by ?model=ID, else the last one used,
// else the manifest's default.
function initialModel(list) {
  const byId = (id) => list.find((model) => model.id === id);
  const requested = new URLSearchParams(location.search).get('model');
  if (requested && !byId(requested)) {
    ui.showMessage('load-error', `There is no model "${requested}" on this server; using the default instead.`);
  }
  return byId(requested) || byId(readStoredModel()) || list.find((model) => model.default) || list[0];
}

async function selectModel(id, registration = navigator.serviceWorker ? navigator.serviceWorker.getRegistration() : null) {
  const model = models.find((m) => m.id === id);
  if (!model) {
    return;
  }
  page.ready = false;
  ui.setInputsEnabled(false);
  ui.setState('loading');
  ui.showMessage('load-error', '');
  ui.showModelDescription(model);
  ui.setStatus(`Loading ${model.name}…`);

  let info;
  try {
    info = await client.call('load', { model, baseUrl: document.baseURI });
  } catch (err) {
    failLoad(err, model);
    return;
  }
  ui.hideProgress();
  storeModelChoice(model.id);
  page.model = { ...model, ...info };
  page.ready = true;
  page.readyAt = performance.now();
  ui.setInputsEnabled(true);
  ui.setState('ready');
  ui.setStatus(`Ready: ${model.name} (${info.numLabels} labels, loaded in ${info.ms.toFixed(0)} ms). Choose, drop or paste an image.`);
  describeOfflineUse(info, registration).catch((err) => ui.showOffline(`Offline use is unknown: ${err.message}`));
  await refreshMemory();
  if (queued) {
    const next = queued;
    queued = null;
    submit(next);
  }
}

function failLoad(err, model) {
  page.errors.push(err.message);
  ui.hideProgress();
  ui.setState('error');
  ui.setStatus('');
  const failure = model ? `${model.name} could not be loaded` : 'The classifier could not start';
  ui.showMessage('load-error', `${failure}: ${err.message}`);
  if (model && models.length > 1) {
    document.getElementById('model-select').disabled = false;
  }
}

// describeOfflineUse shows whether the page and the loaded model work
// offline, once the service worker has stored the page or failed to.
async function describeOfflineUse(info, registrationPromise) {
  const registration = await registrationPromise;
  if (!registration || !(await serviceWorkerActivated(registration))) {
    return;
  }
  if (!info.storedOffline) {
    ui.showOffline(`This model could not be stored on this device, so it will be downloaded again next time${info.storeError ? ` (${info.storeError})` : ''}.`);
    return;
  }
  let usage = '';
  if (navigator.storage && navigator.storage.estimate) {
    const estimate = await navigator.storage.estimate();
    usage = ` This site stores ${ui.formatMB(estimate.usage || 0)}.`;
  }
  ui.showOffline(`Works offline: the page and this model are stored on this device.${usage}`);
}

// serviceWorkerActivated resolves to true once a service worker is active,
// which happens only after it has stored the app shell, or to false when the
// installation fails.
function serviceWorkerActivated(registration) {
  return new Promise((resolve) => {
    navigator.serviceWorker.ready.then(() => resolve(true));
    const installing = registration.installing;
    if (installing) {
      installing.addEventListener('statechange', () => {
        if (installing.state === 'redundant' && !registration.active) {
          ui.showOffline('Offline use is unavailable: the service worker could not store this page. Reload to try again.');
          resolve(false);
        }
      });
    }
  });
}

// submit classifies an input now, or after the current one when busy. Only
// the newest waiting input is kept.
function submit(input) {
  ui.showMessage('input-error', '');
  if (busy || !page.ready) {
    queued = input;
    if (!page.ready) {
      ui.setStatus('The image will be classified as soon as the model is ready.');
    }
    return;
  }
  busy = true;
  ui.setState('busy');
  const work = input.kind === 'file' ? classifyFile(input.file, input.source) : classifySnapshot(input.imageData);
  work.catch((err) => {
    page.errors.push(err.message);
    ui.showMessage('input-error', err.message);
    ui.setStatus('The image was not classified. Choose, drop or paste another one.');
  }).finally(async () => {
    busy = false;
    if (page.ready) {
      ui.setState('ready');
    }
    if (queued && page.ready) {
      const next = queued;
      queued = null;
      submit(next);
    }
  });
}

// classifyFile classifies encoded image bytes with the classifier's own
// decoders, which match the command-line tool. The browser decodes the file
// too, for the preview and as a fallback for formats the classifier cannot
// read (such as AVIF, ICO, or HEIC in Safari).
async function classifyFile(file, source) {
  const name = file.name || `pasted ${file.type || 'image'}`;
  ui.setStatus(`Classifying ${name}…`);
  const bytes = await file.arrayBuffer();
  const bitmap = await decodeInBrowser(file);
  if (bitmap) {
    ui.drawImage(bitmap, name);
    bitmap.close();
  }

  const start = performance.now();
  let result;
  try {
    result = await client.call('classifyImage', { bytes, topK: TOP_K, wantPixels: !bitmap }, [bytes]);
  } catch (err) {
    if (!bitmap || !['unsupported_format', 'invalid_image', 'image_too_large'].includes(err.code)) {
      throw new Error(imageErrorText(name, err));
    }
    await classifyBrowserPixels(file, name, source);
    return;
  }
  if (result.preview) {
    ui.drawPixels(result.preview, name);
    delete result.preview;
  }
  finish(result, { name, source, decodedBy: 'classifier', roundTripMs: performance.now() - start });
}

async function classifyBrowserPixels(file, name, source) {
  const { data, width, height } = await browserPixels(file);
  const start = performance.now();
  const result = await client.call('classifyPixels', { pixels: data.buffer, width, height, topK: TOP_K }, [data.buffer]);
  finish(result, { name, source, decodedBy: 'browser', roundTripMs: performance.now() - start });
}

async function classifySnapshot(imageData) {
  ui.setStatus('Classifying the camera snapshot…');
  const start = performance.now();
  const { data, width, height } = imageData;
  const result = await client.call('classifyPixels', { pixels: data.buffer, width, height, topK: TOP_K }, [data.buffer]);
  finish(result, { name: 'Camera snapshot', source: 'camera', decodedBy: 'camera', roundTripMs: performance.now() - start });
}

function finish(result, meta) {
  ui.showResult(result, meta);
  ui.revealResult();
  ui.setStatus(`${meta.name}: ${result.top[0].label} (${ui.formatPercent(result.top[0].score)}).`);
  const record = {
    name: meta.name,
    source: meta.source,
    decodedBy: meta.decodedBy,
    width: result.width,
    height: result.height,
    ms: result.ms,
    top: result.top,
    logits: Array.from(result.logits),
    roundTripMs: meta.roundTripMs,
    shownAt: performance.now(), // milliseconds since the navigation started
  };
  page.results.push(record);
  page.last = record;
  refreshMemory();
}

async function decodeInBrowser(blob) {
  try {
    return await createImageBitmap(blob);
  } catch {
    return null;
  }
}

// browserPixels decodes an image with the browser into straight-alpha RGBA
// without colour-profile conversion (the classifier's decoders ignore
// embedded profiles too), scaled down to MAX_BROWSER_PIXELS.
async function browserPixels(blob) {
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const scale = Math.min(1, Math.sqrt(MAX_BROWSER_PIXELS / (bitmap.width * bitmap.height)));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  return context.getImageData(0, 0, width, height);
}

function imageErrorText(name, err) {
  switch (err.code) {
    case 'empty_image':
      return `${name} is empty.`;
    case 'unsupported_format':
    case 'invalid_image':
      return `${name} cannot be decoded as an image: neither the classifier nor this browser can read it (${err.message}).`;
    case 'image_too_large':
      return `${name} is too large to classify (${err.message}).`;
  }
  return `${name} could not be classified: ${err.message}`;
}

async function refreshMemory() {
  try {
    page.memory = await client.call('memory');
    ui.showMemory(page.memory, page.build);
  } catch {
    // Memory figures are informational, and onFatal reports a stopped worker.
  }
}

async function forgetModels() {
  if (!window.caches) {
    return;
  }
  await caches.delete(MODEL_CACHE);
  ui.showOffline('Deleted the downloaded models. The current model stays loaded until the page is reloaded; after that it is downloaded again.');
}

function readStoredModel() {
  try {
    return localStorage.getItem(MODEL_STORAGE_KEY);
  } catch {
    return null;
  }
}

function storeModelChoice(id) {
  try {
    localStorage.setItem(MODEL_STORAGE_KEY, id);
  } catch {
    // Storage can be disabled, and then the choice is not remembered.
  }
}
