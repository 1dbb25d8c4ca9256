// Measures the in-browser classifier in headless Chromium, served by
// tools/serve from 127.0.0.1. It reports the time from a cold page load to
// the first label, the warm time per image and the WebAssembly memory. It
// also reports the size of both builds of the classifier (d2v.wasm and
// d2v-simd.wasm), raw and gzip-compressed.
//
//	node e2e/measure.mjs                       # random-weight base-size int8 model
//	node e2e/measure.mjs --model DIR           # a converted model folder instead
//	node e2e/measure.mjs --build scalar        # d2v.wasm instead of d2v-simd.wasm
//	node e2e/measure.mjs --runs 20 --json out.json
//
// The random model (the geometry of facebook/data2vec-vision-base-ft1k, from
// tools/randmodel, converted to int8 by tools/convert) is kept in
// e2e/out/measure/ and reused by later runs. Results go to standard output
// and, as JSON, to e2e/out/measure.json or the --json file.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';

import { build, chromiumPath, launchBrowser, repoRoot, run, sharedDir, startServer, tempDir, webDir } from './lib.mjs';

const { values: options } = parseArgs({
  options: {
    model: { type: 'string' },
    runs: { type: 'string', default: '10' },
    build: { type: 'string', default: 'auto' },
    json: { type: 'string', default: path.join(repoRoot, 'e2e', 'out', 'measure.json') },
  },
});
const runs = Number(options.runs);
if (!Number.isInteger(runs) || runs < 1) {
  throw new Error(`--runs must be a positive integer, got ${options.runs}`);
}

if (!['auto', 'simd', 'scalar'].includes(options.build)) {
  throw new Error(`--build must be auto, simd or scalar, got ${options.build}`);
}

const workDir = path.join(repoRoot, 'e2e', 'out', 'measure');
const MODEL_ID = 'measured';

const shared = sharedDir();
const photos = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'].map((name) => path.join(shared, 'images', name));

const bin = tempDir('d2v-measure-bin-');
console.error('building d2v.wasm and the tools…');
await build(bin);
await run('go', ['build', '-o', bin + path.sep, './tools/randmodel', './tools/convert']);

const modelDir = options.model ? path.resolve(options.model) : await randomBaseModel();
const site = prepareSite(modelDir);
await run(path.join(bin, 'serve'), ['-dir', site, '-write-manifest', '-default-model', MODEL_ID]);
const sizes = {
  scalar: wasmSizes(path.join(site, 'd2v.wasm')),
  simd: wasmSizes(path.join(site, 'd2v-simd.wasm')),
};

const server = await startServer(bin, site);
const browser = await launchBrowser();
let results;
try {
  results = await measure(browser.context, server.url);
} finally {
  await browser.close();
  await server.stop();
  fs.rmSync(bin, { recursive: true, force: true });
}

const report = {
  date: new Date().toISOString(),
  machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, memoryBytes: os.totalmem() },
  chromium: (await run(chromiumPath, ['--version'])).trim(),
  build: results.build,
  model: { folder: modelDir, ...results.model },
  wasm: sizes,
  coldLoad: results.cold,
  repeatVisit: results.repeat,
  warm: results.warm,
  memory: results.memory,
};
fs.mkdirSync(path.dirname(options.json), { recursive: true });
fs.writeFileSync(options.json, JSON.stringify(report, null, 2) + '\n');
printReport(report);

// randomBaseModel writes the random base-size checkpoint and converts it to
// int8, unless an earlier run left the converted copy.
async function randomBaseModel() {
  const converted = path.join(workDir, 'random-base-int8');
  if (fs.existsSync(path.join(converted, 'config.json'))) {
    console.error(`reusing ${converted}`);
    return converted;
  }
  const hf = tempDir('d2v-random-base-');
  try {
    console.error('writing a random base-size checkpoint…');
    await run(path.join(bin, 'randmodel'), ['-out', hf, '-labels-file', path.join(shared, 'labels', 'imagenet-1k-id2label.json')]);
    console.error('converting it to int8…');
    await run(path.join(bin, 'convert'), ['-model', hf, '-out', converted, '-quiet']);
  } finally {
    fs.rmSync(hf, { recursive: true, force: true });
  }
  return converted;
}

// prepareSite copies the page (without its models) and the measured model
// into a separate folder with its own models.json, so that the repository's
// www/ stays untouched.
function prepareSite(model) {
  const site = path.join(workDir, 'www');
  fs.rmSync(site, { recursive: true, force: true });
  fs.cpSync(webDir, site, { recursive: true, filter: (src) => !src.startsWith(path.join(webDir, 'models')) });
  const target = path.join(site, 'models', MODEL_ID);
  fs.mkdirSync(target, { recursive: true });
  for (const name of fs.readdirSync(model)) {
    if (name.endsWith('.safetensors') || name.endsWith('.json')) {
      fs.copyFileSync(path.join(model, name), path.join(target, name));
    }
  }
  return site;
}

function wasmSizes(file) {
  const raw = fs.readFileSync(file);
  return {
    rawBytes: raw.byteLength,
    gzipBytes: zlib.gzipSync(raw).byteLength, // level 6, as tools/serve sends it
    gzip9Bytes: zlib.gzipSync(raw, { level: 9 }).byteLength,
  };
}

async function measure(context, url) {
  const page = context.pages()[0] || await context.newPage();

  // Cold load: a fresh profile, so the classifier and the model come from
  // the server. The first image is chosen as soon as the input accepts it.
  await page.goto(`${url}?model=${MODEL_ID}&build=${options.build}`);
  await waitReady(page);
  const first = await classify(page, photos[1], 1);
  const cold = await page.evaluate(() => ({
    readyMs: window.d2vPage.readyAt,
    firstLabelMs: window.d2vPage.results[0].shownAt,
    modelPrepareMs: window.d2vPage.model.ms,
    downloadedBytes: window.d2vPage.model.downloadedBytes,
  }));
  cold.firstImageMs = first.ms;

  // Warm: the same page classifies the photos in turn.
  const times = [];
  const roundTrips = [];
  for (let i = 0; i < runs; i++) {
    const result = await classify(page, photos[i % photos.length], i + 2);
    times.push(result.ms);
    roundTrips.push(result.roundTripMs);
  }
  const memory = await page.evaluate(() => window.d2vPage.memory);
  const build = await page.evaluate(() => window.d2vPage.build);
  const model = await page.evaluate(() => {
    const m = window.d2vPage.model;
    return { id: m.id, description: m.description, bytes: m.bytes, labels: m.numLabels };
  });

  // Repeat visit: the page, the classifier and the model come from this
  // device.
  await page.reload();
  await waitReady(page);
  const repeat = await page.evaluate(() => ({ readyMs: window.d2vPage.readyAt, downloadedBytes: window.d2vPage.model.downloadedBytes }));

  return {
    build,
    model,
    cold,
    repeat,
    warm: { runs, medianMs: median(times), minMs: Math.min(...times), maxMs: Math.max(...times), medianRoundTripMs: median(roundTrips) },
    memory,
  };
}

async function waitReady(page) {
  await page.waitForFunction(() => window.d2vPage && (window.d2vPage.ready || window.d2vPage.errors.length > 0), null, { timeout: 600000 });
  const errors = await page.evaluate(() => window.d2vPage.errors);
  if (errors.length > 0) {
    throw new Error(`the page failed: ${errors.join('; ')}`);
  }
}

async function classify(page, file, count) {
  await page.setInputFiles('#file-input', file);
  await page.waitForFunction((n) => window.d2vPage.results.length >= n || window.d2vPage.errors.length > 0, count, { timeout: 600000 });
  const state = await page.evaluate((n) => ({ result: window.d2vPage.results[n - 1], errors: window.d2vPage.errors }), count);
  if (!state.result) {
    throw new Error(`classifying ${file} failed: ${state.errors.join('; ')}`);
  }
  return state.result;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function printReport(r) {
  const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
  const lines = [
    `machine:            ${r.machine.cpu}, ${r.machine.cores} cores; ${r.chromium}, headless, served from 127.0.0.1`,
    `build:              ${r.build === 'simd' ? 'd2v-simd.wasm (WebAssembly SIMD kernels)' : 'd2v.wasm (scalar kernels)'}`,
    `model:              ${r.model.description} (${mb(r.model.bytes)})`,
    `d2v.wasm:           ${mb(r.wasm.scalar.rawBytes)} raw, ${mb(r.wasm.scalar.gzipBytes)} gzip (level 6), ${mb(r.wasm.scalar.gzip9Bytes)} gzip -9`,
    `d2v-simd.wasm:      ${mb(r.wasm.simd.rawBytes)} raw, ${mb(r.wasm.simd.gzipBytes)} gzip (level 6), ${mb(r.wasm.simd.gzip9Bytes)} gzip -9`,
    `cold load:          model ready after ${r.coldLoad.readyMs.toFixed(0)} ms, first label after ${r.coldLoad.firstLabelMs.toFixed(0)} ms (model preparation ${r.coldLoad.modelPrepareMs.toFixed(0)} ms, first image ${r.coldLoad.firstImageMs.toFixed(0)} ms)`,
    `repeat visit:       model ready after ${r.repeatVisit.readyMs.toFixed(0)} ms (${mb(r.repeatVisit.downloadedBytes)} downloaded)`,
    `warm, per image:    median ${r.warm.medianMs.toFixed(1)} ms (min ${r.warm.minMs.toFixed(1)}, max ${r.warm.maxMs.toFixed(1)}, ${r.warm.runs} runs; ${r.warm.medianRoundTripMs.toFixed(1)} ms with the worker round trip)`,
    `memory:             WebAssembly ${mb(r.memory.wasmMemoryBytes)}, Go heap objects ${mb(r.memory.heapObjectsBytes)}, Go total ${mb(r.memory.goTotalBytes)}`,
  ];
  console.log(lines.join('\n'));
}
