// End-to-end tests of the in-browser classifier: the page in headless
// Chromium, served by tools/serve on 127.0.0.1, compared with the native
// command-line classifier (tools/classify) on the same model and images.
//
//	npm ci --prefix e2e && node --test e2e/classifier.test.mjs
//
// Needs Debian's chromium and dataset-fashion-mnist packages, and the
// reference photos in the shared fixture folder ($D2V_SHARED or ../shared).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  build,
  classifyAndWait,
  classifyNative,
  fakeCameraArgs,
  goEnv,
  launchBrowser,
  mimeType,
  repoRoot,
  run,
  sharedDir,
  startServer,
  tempDir,
  waitForModel,
  webDir,
} from './lib.mjs';

const MODEL_ID = 'fashion-mnist';
const MODEL_DIR = path.join(webDir, 'models', MODEL_ID);
const OUT_DIR = path.join(repoRoot, 'e2e', 'out');

// Largest logit difference from tools/classify for each build. The scalar
// build multiplies float32 activations by the int8 weights and is compared
// with tools/classify built without GOEXPERIMENT=simd, which does the same.
// The SIMD build rounds activations to int16 (see package kernels) and is
// compared with the SIMD tools/classify, which rounds them too on AVX-512
// CPUs and keeps float32 on AVX2 ones. Both kinds of pair differ by the
// int16 rounding: tiny float32 differences move some activations across a
// rounding boundary, and later layers spread the change. The largest
// difference measured on these images was 5.6e-4 on an AVX-512 CPU.
const LOGIT_TOLERANCE = { scalar: 1e-5, simd: 2e-3 };

// The page shows percentages with two decimals, so a shown score may differ
// from the exact one by half of the last digit. A change of at most d in
// every logit moves a softmax probability by at most d/2, 50·d percent.
function scoreTolerancePercent(build) {
  return 0.005 + 50 * LOGIT_TOLERANCE[build] + 1e-6;
}

const PHOTOS = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'];

// Largest logit difference from the command-line tool over all comparisons.
const maxLogitDiffSeen = { scalar: 0, simd: 0 };

// Reads the labels and percentages that the page shows.
function shownPredictions(page) {
  return page.$$eval('#predictions .prediction', (items) => items.map((item) => ({
    label: item.querySelector('.prediction-label').textContent,
    score: item.querySelector('.prediction-score').textContent,
  })));
}

// assertMatchesNative checks the page against tools/classify: identical
// top-5 labels, shown percentages equal within the displayed precision, and
// logits within LOGIT_TOLERANCE of the build.
async function assertMatchesNative(page, name, result, expected, build = 'simd') {
  const displayed = await shownPredictions(page);
  assert.deepEqual(displayed.map((p) => p.label), expected.top.map((p) => p.label), `${name}: top-5 labels on the page differ from the command-line tool's`);
  displayed.forEach((p, i) => {
    const want = 100 * expected.top[i].score;
    assert.ok(Math.abs(parseFloat(p.score) - want) <= scoreTolerancePercent(build),
      `${name}: label ${i + 1} (${p.label}) shows ${p.score}, the command-line score is ${want.toFixed(5)}%`);
  });
  assert.deepEqual(result.top.map((p) => p.index), expected.top.map((p) => p.index), `${name}: top-5 class indices differ`);
  assert.equal(result.logits.length, expected.logits.length, `${name}: number of logits`);
  const maxDiff = Math.max(...result.logits.map((v, i) => Math.abs(v - expected.logits[i])));
  maxLogitDiffSeen[build] = Math.max(maxLogitDiffSeen[build], maxDiff);
  assert.ok(maxDiff <= LOGIT_TOLERANCE[build], `${name}: logits differ from the command-line tool's by up to ${maxDiff}`);
}

function chooseFile(page, file) {
  return () => page.setInputFiles('#file-input', file);
}

// dropFile dispatches dragenter, dragover and drop events that carry the
// file in a DataTransfer, as a drag from the desktop does.
function dropFile(page, file) {
  return async () => {
    const dataTransfer = await page.evaluateHandle(({ base64, name, type }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name, { type }));
      return transfer;
    }, { base64: fs.readFileSync(file).toString('base64'), name: path.basename(file), type: mimeType(file) });
    for (const type of ['dragenter', 'dragover', 'drop']) {
      await page.dispatchEvent('#drop-zone', type, { dataTransfer });
    }
    await dataTransfer.dispose();
  };
}

// pasteFile dispatches a paste event whose clipboard data contains the file.
function pasteFile(page, file) {
  return () => page.evaluate(({ base64, name, type }) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, { type }));
    document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
  }, { base64: fs.readFileSync(file).toString('base64'), name: path.basename(file), type: mimeType(file) });
}

// icoWithPNG wraps PNG data in a one-image ICO container.
function icoWithPNG(png, width, height) {
  const header = Buffer.alloc(22);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(1, 4); // number of images
  header.writeUInt8(width, 6);
  header.writeUInt8(height, 7);
  header.writeUInt8(0, 8); // palette size
  header.writeUInt8(0, 9); // reserved
  header.writeUInt16LE(1, 10); // colour planes
  header.writeUInt16LE(32, 12); // bits per pixel
  header.writeUInt32LE(png.length, 14);
  header.writeUInt32LE(22, 18); // offset of the image data
  return Buffer.concat([header, png]);
}

async function classifyOk(page, trigger) {
  const { result, error } = await classifyAndWait(page, trigger);
  assert.equal(error, undefined, `the page reported an error: ${error}`);
  return result;
}

describe('in-browser classifier', () => {
  let tmp;
  let bin;
  let server;
  let browser;
  let page;
  let fashionImages;
  let tiffImage;
  let photos;
  let native;
  // nativeFloat contains tools/classify results with float32 activations.
  let nativeFloat;
  const pageErrors = [];

  before(async () => {
    const shared = sharedDir();
    photos = PHOTOS.map((name) => path.join(shared, 'images', name));
    for (const photo of photos) {
      assert.ok(fs.existsSync(photo), `reference photo ${photo} is missing`);
    }
    tmp = tempDir('d2v-e2e-');
    bin = path.join(tmp, 'bin');
    await build(bin);

    const fashionDir = path.join(tmp, 'fashion-mnist');
    await run(path.join(bin, 'testimages'), ['-out', fashionDir, '-n', '10']);
    const written = fs.readdirSync(fashionDir).sort().map((name) => path.join(fashionDir, name));
    fashionImages = written.filter((file) => file.endsWith('.png'));
    tiffImage = written.find((file) => file.endsWith('.tiff'));
    assert.equal(fashionImages.length, 10, 'Fashion-MNIST PNG images written');
    assert.ok(tiffImage, 'Fashion-MNIST TIFF image written');
    native = await classifyNative(bin, MODEL_DIR, [...fashionImages, tiffImage, ...photos]);
    const floatBin = path.join(tmp, 'bin-float');
    await run('go', ['build', '-o', floatBin + path.sep, './tools/classify'], { env: { ...goEnv(), GOEXPERIMENT: '' } });
    nativeFloat = await classifyNative(floatBin, MODEL_DIR, [fashionImages[2], photos[1]]);

    server = await startServer(bin);
    browser = await launchBrowser({ extraArgs: fakeCameraArgs });
    page = browser.context.pages()[0] || await browser.context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${server.url}?model=${MODEL_ID}`);
    await waitForModel(page);
  }, { timeout: 300000 });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (tmp) {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('loads the Fashion-MNIST model', async () => {
    const model = await page.evaluate(() => window.d2vPage.model);
    assert.equal(model.id, MODEL_ID);
    assert.equal(model.numLabels, 10);
    const manifest = JSON.parse(fs.readFileSync(path.join(webDir, 'models', 'models.json'), 'utf8'));
    const options = await page.$$eval('#model-select option', (items) => items.map((o) => o.value));
    assert.deepEqual(options, manifest.map((m) => m.id), 'the model list shows the manifest\'s models');
    assert.equal(await page.isVisible('#model-hint'), !manifest.some((m) => m.labels >= 1000), 'the ImageNet hint shows exactly when no 1000-class model is offered');
  });

  it('picks the SIMD build in Chromium', async () => {
    assert.equal(await page.evaluate(() => window.d2vPage.build), 'simd');
  });

  it('shows complete download progress', async () => {
    const progress = await page.evaluate(() => window.d2vPage.progress);
    const wasmBytes = fs.statSync(path.join(webDir, 'd2v-simd.wasm')).size;
    assert.deepEqual(progress.runtime, { loaded: wasmBytes, total: wasmBytes }, 'd2v-simd.wasm progress ends at its uncompressed size');
    const modelBytes = (await page.evaluate(() => window.d2vPage.model)).bytes;
    assert.deepEqual(progress.download, { loaded: modelBytes, total: modelBytes }, 'model progress ends at the sum of its file sizes');
    assert.equal(await page.isVisible('#progress'), false, 'the progress bar is hidden once the model is ready');
  });

  it('matches CLI on Fashion-MNIST files', { timeout: 300000 }, async () => {
    for (const file of fashionImages) {
      const result = await classifyOk(page, chooseFile(page, file));
      assert.equal(result.name, path.basename(file));
      assert.equal(result.decodedBy, 'classifier', 'file bytes go to the classifier\'s own decoders');
      await assertMatchesNative(page, path.basename(file), result, native.get(file));
    }
  });

  it('matches CLI on photo files', { timeout: 300000 }, async () => {
    for (const file of photos) {
      const result = await classifyOk(page, chooseFile(page, file));
      assert.equal(result.name, path.basename(file));
      await assertMatchesNative(page, path.basename(file), result, native.get(file));
    }
  });

  it('matches CLI on dropped images', { timeout: 300000 }, async () => {
    for (const file of [fashionImages[3], fashionImages[7], photos[3]]) {
      const result = await classifyOk(page, dropFile(page, file));
      assert.equal(result.source, 'drop');
      assert.equal(result.name, path.basename(file));
      await assertMatchesNative(page, `dropped ${path.basename(file)}`, result, native.get(file));
    }
  });

  it('matches CLI on a pasted image', async () => {
    const file = photos[2];
    const result = await classifyOk(page, pasteFile(page, file));
    assert.equal(result.source, 'paste');
    await assertMatchesNative(page, `pasted ${path.basename(file)}`, result, native.get(file));
  });

  it('matches CLI on a camera snapshot', { timeout: 120000 }, async () => {
    await page.click('#camera-start');
    await page.waitForFunction(() => {
      const video = document.getElementById('camera-video');
      return !video.hidden && video.videoWidth > 0 && video.readyState >= 2;
    }, null, { timeout: 30000 });
    const result = await classifyOk(page, () => page.click('#camera-snap'));
    assert.equal(result.source, 'camera');

    // The preview canvas contains exactly the pixels that were classified, so
    // a lossless PNG of it is the same input for the command-line tool.
    const dataUrl = await page.evaluate(() => document.getElementById('preview').toDataURL('image/png'));
    const snapshot = path.join(tmp, 'camera-snapshot.png');
    fs.writeFileSync(snapshot, Buffer.from(dataUrl.split(',')[1], 'base64'));
    const expected = (await classifyNative(bin, MODEL_DIR, [snapshot])).get(snapshot);
    await assertMatchesNative(page, 'camera snapshot', result, expected);

    await page.click('#camera-stop');
    assert.equal(await page.isVisible('#camera-video'), false, 'the video is hidden after stopping the camera');
  });

  it('decodes TIFF the browser cannot', async () => {
    const result = await classifyOk(page, chooseFile(page, tiffImage));
    assert.equal(result.decodedBy, 'classifier');
    await assertMatchesNative(page, path.basename(tiffImage), result, native.get(tiffImage));
    const canvas = await page.$eval('#preview', (c) => ({ width: c.width, height: c.height }));
    assert.deepEqual(canvas, { width: 28, height: 28 }, 'the preview shows the pixels that the classifier decoded');
  });

  it('falls back to browser pixels for ICO', async () => {
    // An ICO file with the PNG inside: Chromium decodes it, the classifier's
    // decoders do not, so the page classifies the browser's pixels, which
    // equal the PNG's.
    const source = fashionImages[5];
    const result = await classifyOk(page, chooseFile(page, {
      name: 'icon.ico',
      mimeType: 'image/x-icon',
      buffer: icoWithPNG(fs.readFileSync(source), 28, 28),
    }));
    assert.equal(result.decodedBy, 'browser');
    assert.match(await page.textContent('#image-caption'), /decoded by the browser/);
    await assertMatchesNative(page, 'icon.ico', result, native.get(source));
  });

  it('reports an undecodable file', async () => {
    const { error } = await classifyAndWait(page, () => page.setInputFiles('#file-input', {
      name: 'notes.png',
      mimeType: 'image/png',
      buffer: Buffer.from('these are notes, not an image'),
    }));
    assert.match(error || '', /notes\.png cannot be decoded as an image/);
    assert.match(await page.textContent('#input-error'), /notes\.png cannot be decoded as an image/);
    assert.ok(await page.isVisible('#input-error'), 'the decode error is visible');
  });

  it('focuses the file input by keyboard', async () => {
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    let focused = '';
    for (let i = 0; i < 10 && focused !== 'file-input'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    }
    assert.equal(focused, 'file-input', 'Tab reaches the file input');
    const outline = await page.$eval('#drop-zone', (zone) => getComputedStyle(zone).outlineStyle);
    assert.equal(outline, 'solid', 'the drop zone shows the focus ring of the hidden file input');
  });

  it('shows image, bars and labels', async () => {
    const file = photos[1];
    const result = await classifyOk(page, chooseFile(page, file));
    await assertMatchesNative(page, path.basename(file), result, native.get(file));
    const canvas = await page.$eval('#preview', (c) => ({ width: c.width, height: c.height, shown: c.getBoundingClientRect().width }));
    assert.ok(canvas.width > 0, 'the preview canvas has a width');
    assert.ok(canvas.height > 0, 'the preview canvas has a height');
    assert.ok(canvas.shown > 0, 'the preview canvas is laid out on the page');
    const bars = await page.$$eval('.prediction-bar-fill', (fills) => fills.map((f) => f.getBoundingClientRect().width));
    assert.equal(bars.length, 5, 'five bars');
    assert.ok(bars[0] > bars[4], 'the first bar is longer than the last');
    assert.match(await page.textContent('#timing'), /Classified in \d+\.\d ms/);

    fs.mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(OUT_DIR, 'screenshot.png'), fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.screenshot({ path: path.join(OUT_DIR, 'screenshot-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than a 390 px phone screen`);
  });

  it('matches CLI with the scalar build', { timeout: 180000 }, async () => {
    await page.goto(`${server.url}?model=${MODEL_ID}&build=scalar`);
    await waitForModel(page);
    assert.equal(await page.evaluate(() => window.d2vPage.build), 'scalar');
    for (const file of [fashionImages[2], photos[1]]) {
      const result = await classifyOk(page, chooseFile(page, file));
      await assertMatchesNative(page, `scalar build, ${path.basename(file)}`, result, nativeFloat.get(file), 'scalar');
    }
  });

  it('classifies offline after server stops', { timeout: 180000 }, async () => {
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30000 });
    const url = server.url;
    const status = await server.stop();
    server = null;
    assert.equal(status.code, 0, 'tools/serve exits with status 0 on SIGTERM');
    await assert.rejects(fetch(url), 'the server no longer answers');

    await page.goto(`${url}?model=${MODEL_ID}`);
    await waitForModel(page);
    assert.equal(await page.evaluate(() => window.d2vPage.build), 'simd');
    const model = await page.evaluate(() => window.d2vPage.model);
    assert.equal(model.downloadedBytes, 0, 'model files come from Cache Storage');
    for (const file of [fashionImages[0], photos[0]]) {
      const result = await classifyOk(page, chooseFile(page, file));
      await assertMatchesNative(page, `offline ${path.basename(file)}`, result, native.get(file));
    }
  });

  it('raises no uncaught page errors', (t) => {
    assert.deepEqual(pageErrors, []);
    t.diagnostic(`largest logit difference from the command-line tool: SIMD build ${maxLogitDiffSeen.simd}, scalar build ${maxLogitDiffSeen.scalar}`);
  });
});

describe('error messages', () => {
  let tmp;
  let bin;

  before(async () => {
    tmp = tempDir('d2v-e2e-errors-');
    bin = path.join(tmp, 'bin');
    await run('go', ['build', '-o', bin + path.sep, './tools/serve']);
  }, { timeout: 300000 });

  after(() => {
    if (tmp) {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('explains missing WebAssembly support', { timeout: 120000 }, async () => {
    const server = await startServer(bin);
    const browser = await launchBrowser();
    try {
      await browser.context.addInitScript(() => {
        delete globalThis.WebAssembly;
      });
      const page = browser.context.pages()[0] || await browser.context.newPage();
      await page.goto(server.url);
      await page.waitForSelector('#unsupported:not([hidden])', { timeout: 30000 });
      assert.match(await page.textContent('#unsupported'), /cannot run WebAssembly/);
    } finally {
      await browser.close();
      await server.stop();
    }
  });

  it('explains a failed model download', { timeout: 120000 }, async () => {
    // A copy of the page whose model weights are missing on the server.
    const broken = path.join(tmp, 'www');
    fs.cpSync(webDir, broken, { recursive: true, dereference: true });
    fs.rmSync(path.join(broken, 'models', MODEL_ID, 'model.safetensors'));
    const server = await startServer(bin, broken);
    const browser = await launchBrowser();
    try {
      const page = browser.context.pages()[0] || await browser.context.newPage();
      await page.goto(`${server.url}?model=${MODEL_ID}`);
      await page.waitForSelector('#load-error:not([hidden])', { timeout: 60000 });
      const message = await page.textContent('#load-error');
      assert.match(message, /could not be loaded/);
      assert.match(message, /model\.safetensors/);
      assert.match(message, /HTTP 404/);
      assert.equal(await page.isEnabled('#file-input'), false, 'no image input without a model');
    } finally {
      await browser.close();
      await server.stop();
    }
  });
});
