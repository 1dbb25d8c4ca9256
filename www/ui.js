// DOM updates: status, progress, preview canvas and prediction bars.

const $ = (id) => document.getElementById(id);

// Maximum side length of the preview canvas for files. Camera snapshots are drawn
// at their full size because their canvas pixels are what gets classified.
const PREVIEW_MAX_SIDE = 1024;

// Images up to this side are shown enlarged with visible pixels.
const SMALL_IMAGE_SIDE = 64;

export function setState(state) {
  document.body.dataset.state = state;
}

export function setStatus(text) {
  $('status').textContent = text;
}

export function showMessage(id, text) {
  const element = $(id);
  element.textContent = text || '';
  element.hidden = !text;
}

export function showUnsupported(text) {
  showMessage('unsupported', text);
  setState('unsupported');
  setStatus('');
}

export function showFatal(text) {
  $('fatal-message').textContent = text;
  $('fatal').hidden = false;
  setState('error');
}

const phaseText = {
  runtime: 'Downloading the classifier',
  download: 'Downloading the model',
  cache: 'Loading the model from this device',
};

export function showProgress({ phase, loaded, total, file }) {
  const box = $('progress');
  const bar = $('progress-bar');
  const label = $('progress-label');
  if (phase === 'prepare') {
    box.hidden = false;
    bar.removeAttribute('value');
    label.textContent = 'Preparing the model…';
    return;
  }
  box.hidden = false;
  const name = file ? ` (${file})` : '';
  if (total > 0) {
    bar.max = total;
    bar.value = Math.min(loaded, total);
    label.textContent = `${phaseText[phase] || 'Loading'}${name}: ${formatMB(loaded)} of ${formatMB(total)}`;
  } else {
    bar.removeAttribute('value');
    label.textContent = `${phaseText[phase] || 'Loading'}${name}: ${formatMB(loaded)}`;
  }
}

export function hideProgress() {
  $('progress').hidden = true;
}

export function formatMB(bytes) {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;
}

export function formatPercent(score) {
  return `${(score * 100).toFixed(2)}%`;
}

export function fillModelList(models, selectedId) {
  const select = $('model-select');
  select.replaceChildren(...models.map((model) => {
    const option = document.createElement('option');
    option.value = model.id;
    option.textContent = `${model.name} · ${formatMB(model.bytes)}`;
    option.selected = model.id === selectedId;
    return option;
  }));
  $('model-hint').hidden = models.some((model) => model.labels >= 1000);
}

export function showModelDescription(model) {
  $('model-description').textContent = model ? model.description : '';
}

export function setInputsEnabled(enabled) {
  $('model-select').disabled = !enabled;
  $('file-input').disabled = !enabled;
  $('camera-snap').disabled = !enabled;
}

// drawImage shows a decoded image (ImageBitmap) on the preview canvas,
// scaled down to PREVIEW_MAX_SIDE.
export function drawImage(bitmap, description) {
  const scale = Math.min(1, PREVIEW_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = prepareCanvas(Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)), description);
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
}

// drawPixels shows RGBA pixels ({width, height, pixels}) at full size.
export function drawPixels({ width, height, pixels }, description) {
  const canvas = prepareCanvas(width, height, description);
  canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(pixels), width, height), 0, 0);
}

// drawVideoFrame copies the current frame of a video to the preview canvas
// at full size and returns its pixels.
export function drawVideoFrame(video, description) {
  const canvas = prepareCanvas(video.videoWidth, video.videoHeight, description);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(video, 0, 0, canvas.width, canvas.height);
  return context.getImageData(0, 0, canvas.width, canvas.height);
}

export function clearPreview() {
  prepareCanvas(0, 0, 'No image yet');
  $('image-caption').textContent = 'No image yet.';
  $('predictions').replaceChildren();
  $('timing').textContent = '';
}

function prepareCanvas(width, height, description) {
  const canvas = $('preview');
  canvas.width = width;
  canvas.height = height;
  canvas.classList.toggle('is-small', width > 0 && Math.max(width, height) <= SMALL_IMAGE_SIDE);
  canvas.setAttribute('aria-label', description);
  return canvas;
}

// showResult renders the top labels as bars, with the image facts and the
// time the classifier took.
export function showResult(result, { name, decodedBy, roundTripMs }) {
  const list = $('predictions');
  list.replaceChildren(...result.top.map((prediction) => {
    const item = document.createElement('li');
    item.className = 'prediction';
    item.dataset.index = prediction.index;
    item.dataset.score = prediction.score;

    const label = document.createElement('span');
    label.className = 'prediction-label';
    label.textContent = prediction.label;

    const score = document.createElement('span');
    score.className = 'prediction-score';
    score.textContent = formatPercent(prediction.score);

    const bar = document.createElement('span');
    bar.className = 'prediction-bar';
    bar.setAttribute('aria-hidden', 'true');
    const fill = document.createElement('span');
    fill.className = 'prediction-bar-fill';
    fill.style.setProperty('--score', String(prediction.score));
    bar.append(fill);

    item.append(label, score, bar);
    return item;
  }));
  list.dataset.file = name;

  const decoder = decodedBy === 'browser'
    ? ' · decoded by the browser, so scores can differ slightly from the command-line tool'
    : '';
  $('image-caption').textContent = `${name} · ${result.width}×${result.height} pixels${decoder}`;
  $('timing').textContent = `Classified in ${result.ms.toFixed(1)} ms (${roundTripMs.toFixed(1)} ms with the transfer to the worker).`;
}

export function showMemory(stats, build) {
  const parts = [build === 'simd' ? 'WebAssembly SIMD build' : 'Scalar WebAssembly build'];
  if (stats.wasmMemoryBytes) {
    parts.push(`WebAssembly memory ${formatMB(stats.wasmMemoryBytes)}`);
  }
  parts.push(`Go heap ${formatMB(stats.heapObjectsBytes)}`);
  $('memory').textContent = parts.join(' · ');
}

export function showOffline(text) {
  $('offline-status').textContent = text;
}

// revealResult scrolls the result into view when it is below the visible
// area, as on a phone where the panels stack. Focus stays where it is.
export function revealResult() {
  const heading = $('result-heading');
  if (heading.getBoundingClientRect().top > window.innerHeight) {
    const smooth = window.matchMedia('(prefers-reduced-motion: no-preference)').matches;
    heading.scrollIntoView({ block: 'start', behavior: smooth ? 'smooth' : 'auto' });
  }
}
