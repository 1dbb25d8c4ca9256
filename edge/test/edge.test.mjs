// End-to-end tests of the worker in the real Workers runtime: wrangler dev
// (workerd) on 127.0.0.1 with the Fashion-MNIST int8 model in local R2.
//
// Run by `make test-edge`, which builds the worker and sets:
//   EDGE_MODEL_DIR  the converted Fashion-MNIST model (tools/convert output)
//   EDGE_FIXTURES   a folder with expected.jsonl: `tools/classify -json -top 10`
//                   output for the images the tests send
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { crc32 } from "node:zlib";

import { EDGE_DIR, fetchWithTimeout as fetch, seedModel, startWorker, waitForModel } from "./harness.mjs";

const MODEL_DIR = requiredEnv("EDGE_MODEL_DIR");
const FIXTURES = requiredEnv("EDGE_FIXTURES");
const MODEL_ID = "d2v-fashion-mnist-int8";
const PREFIX = "fashion-mnist/";
// The worker runs the WebAssembly SIMD build, which rounds the activations
// of each int8 product to int16, as the native classifier does on AVX-512
// CPUs (float32 on AVX2 ones). Tiny float32 differences move some
// activations across a rounding boundary, so logits may differ by the
// int16 rounding: up to 5.6e-4 in the browser tests, bounded by 2e-3
// there. A probability moves by at most half of that.
const SCORE_TOLERANCE = 1e-3;

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set; run these tests with \`make test-edge\``);
  }
  return value;
}

// expected contains one {file, logits, top} object per image, from the
// native command-line classifier.
let expected;
let persistDir;
let worker;
// limits is the "limits" object of GET /: the configured body and pixel
// limits that the error tests probe.
let limits;

// wranglerVar returns a [vars] value of wrangler.toml.
async function wranglerVar(name) {
  const toml = await readFile(path.join(EDGE_DIR, "wrangler.toml"), "utf8");
  const match = new RegExp(`^${name} = "([^"]*)"`, "m").exec(toml);
  assert.ok(match, `wrangler.toml sets ${name}`);
  return match[1];
}

before(async () => {
  expected = (await readFile(path.join(FIXTURES, "expected.jsonl"), "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  assert.ok(expected.length >= 6, `expected.jsonl has ${expected.length} images, want the photos and Fashion-MNIST images`);
  persistDir = await mkdtemp(path.join(tmpdir(), "d2v-edge-test-"));
  await seedModel({ modelDir: MODEL_DIR, prefix: PREFIX, persistDir });
  worker = await startWorker({ persistDir, vars: { MODEL_PREFIX: PREFIX, MODEL_ID } });
  limits = (await (await fetch(`${worker.url}/`)).json()).limits;
});

after(async () => {
  await worker?.stop();
  if (process.env.EDGE_SHOW_LOG && worker) {
    console.error(`wrangler dev output:\n${worker.output()}`);
  }
  if (persistDir) {
    await rm(persistDir, { recursive: true, force: true });
  }
});

function contentType(file) {
  return file.endsWith(".jpg") || file.endsWith(".jpeg") ? "image/jpeg" : "image/png";
}

async function classify(body, { type = "image/png", query = "", headers = {}, ...init } = {}) {
  return fetch(`${worker.url}/classify${query}`, {
    method: "POST",
    headers: { "Content-Type": type, ...headers },
    body,
    ...init,
  });
}

function softmax(logits) {
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

// assertMatchesNative compares a /classify response with the native
// classifier's top labels for the same image.
function assertMatchesNative(predictions, want, top, label) {
  assert.equal(predictions.length, top, `${label}: number of predictions`);
  const probabilities = softmax(want.logits);
  for (let i = 0; i < top; i++) {
    const got = predictions[i];
    assert.deepEqual(Object.keys(got).sort(), ["index", "label", "score"], `${label}: keys of prediction ${i}`);
    assert.equal(got.label, want.top[i].label, `${label}: label ${i}`);
    assert.equal(got.index, want.top[i].index, `${label}: index ${i}`);
    assert.ok(
      Math.abs(got.score - probabilities[got.index]) <= SCORE_TOLERANCE,
      `${label}: score ${i} is ${got.score}, native ${probabilities[got.index]}`,
    );
  }
}

// assertError checks a JSON error response: status, message and request id.
async function assertError(res, status, messagePart) {
  const text = await res.text();
  assert.equal(res.status, status, `status; body ${text}`);
  const body = JSON.parse(text);
  assert.equal(typeof body.error, "string");
  if (messagePart) {
    assert.match(body.error, messagePart);
  }
  assert.ok(body.request_id, "error body has a request_id");
  assert.equal(res.headers.get("x-request-id"), body.request_id);
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  return body;
}

// pngHeader returns a PNG signature and IHDR chunk declaring width×height
// 8-bit RGB pixels, with no image data.
function pngHeader(width, height) {
  const chunk = Buffer.alloc(17);
  chunk.write("IHDR", 0, "latin1");
  chunk.writeUInt32BE(width, 4);
  chunk.writeUInt32BE(height, 8);
  chunk[12] = 8; // bit depth
  chunk[13] = 2; // colour type RGB
  const length = Buffer.alloc(4);
  length.writeUInt32BE(13);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(chunk));
  return Buffer.concat([Buffer.from("\x89PNG\r\n\x1a\n", "latin1"), length, chunk, crc]);
}

// streamOf returns a ReadableStream of size zero bytes in 64 KiB chunks.
// fetch sends it with chunked transfer encoding and no Content-Length.
function streamOf(size) {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) {
        controller.close();
        return;
      }
      const n = Math.min(65536, size - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n));
    },
  });
}

describe("model loading", () => {
  test("healthz turns ready", async () => {
    const health = await waitForModel(worker.url);
    assert.equal(health.status, "ready");
    assert.equal(health.model_loaded, true);
    assert.equal(health.model_id, MODEL_ID);
    assert.ok(health.memory.wasm_memory_bytes > 0, "healthz reports the wasm memory size");
    assert.ok(health.memory.go_heap_live_bytes > 0, "healthz reports the Go heap");
  });
});

describe("classify", () => {
  test("matches the native classifier", async () => {
    await waitForModel(worker.url);
    for (const want of expected) {
      const name = path.basename(want.file);
      const res = await classify(await readFile(want.file), { type: contentType(want.file) });
      assert.equal(res.status, 200, `${name}: status`);
      assert.equal(res.headers.get("x-model-id"), MODEL_ID);
      assert.match(res.headers.get("server-timing"), /decode;dur=[\d.]+, inference;dur=[\d.]+/);
      assert.match(res.headers.get("x-inference-ms"), /^\d+\.\d{3}$/);
      assert.match(res.headers.get("content-type"), /^application\/json/);
      assertMatchesNative(await res.json(), want, 5, name);
    }
  });

  test("top sets the number of labels", async () => {
    const want = expected[0];
    const data = await readFile(want.file);
    for (const top of [1, 3, 10]) {
      const res = await classify(data, { type: contentType(want.file), query: `?top=${top}` });
      assert.equal(res.status, 200);
      assertMatchesNative(await res.json(), want, top, `top=${top}`);
    }
    const res = await classify(data, { type: contentType(want.file), query: "?top=100" });
    assert.equal((await res.json()).length, want.logits.length, "top above the label count returns every label");
  });

  test("multipart image field", async () => {
    const want = expected[1];
    const form = new FormData();
    form.append("comment", "fields other than image are skipped");
    form.append("image", new Blob([await readFile(want.file)], { type: contentType(want.file) }), path.basename(want.file));
    const res = await fetch(`${worker.url}/classify`, { method: "POST", body: form });
    assert.equal(res.status, 200);
    assertMatchesNative(await res.json(), want, 5, "multipart");
  });

  test("20 concurrent requests", async () => {
    const data = await Promise.all(expected.map((want) => readFile(want.file)));
    const requests = Array.from({ length: 20 }, (_, i) => {
      const k = i % expected.length;
      const top = 1 + (i % 5);
      return classify(data[k], { type: contentType(expected[k].file), query: `?top=${top}` }).then(async (res) => {
        assert.equal(res.status, 200, `request ${i}: status`);
        return { i, k, top, predictions: await res.json(), requestId: res.headers.get("x-request-id") };
      });
    });
    const responses = await Promise.all(requests);
    for (const { i, k, top, predictions } of responses) {
      assertMatchesNative(predictions, expected[k], top, `request ${i}`);
    }
    assert.equal(new Set(responses.map((r) => r.requestId)).size, 20, "every request has its own id");
  });
});

describe("errors", () => {
  test("413 by Content-Length", async () => {
    const res = await classify(new Uint8Array(limits.max_body_bytes + 1));
    await assertError(res, 413, new RegExp(`request body of ${limits.max_body_bytes + 1} bytes exceeds the limit of ${limits.max_body_bytes} bytes`));
  });

  test("413 for a streamed body without Content-Length", async () => {
    const res = await classify(streamOf(limits.max_body_bytes + 1_000_000), { duplex: "half" });
    await assertError(res, 413, new RegExp(`request body exceeds the limit of ${limits.max_body_bytes} bytes`));
  });

  test("body at the limit is read", async () => {
    // A valid PNG padded with trailing bytes up to the limit decodes.
    const png = await readFile(expected[0].file);
    const body = new Uint8Array(limits.max_body_bytes);
    body.set(png);
    const res = await classify(body);
    assert.equal(res.status, 200, await res.clone().text());
  });

  test("415 for bodies that are not images", async () => {
    await assertError(await classify("hello", { type: "text/plain" }), 415, /text\/plain/);
    await assertError(await classify('{"image": 1}', { type: "application/json" }), 415);
    await assertError(
      await classify("<svg xmlns='http://www.w3.org/2000/svg'/>", { type: "image/svg+xml" }),
      415,
      /not a JPEG, PNG, GIF, BMP, TIFF or WebP image/,
    );
  });

  test("400 for corrupt images", async () => {
    const png = await readFile(expected[0].file);
    await assertError(await classify(png.subarray(0, 200)), 400, /invalid image/);
    const garbage = Buffer.concat([png.subarray(0, 33), Buffer.alloc(500, 0x41)]);
    await assertError(await classify(garbage), 400, /invalid image/);
    await assertError(await classify(new Uint8Array(0)), 400, /empty/);
  });

  test("400 for a header that declares too many pixels", async () => {
    const res = await classify(pngHeader(30000, 30000));
    await assertError(res, 400, new RegExp(`30000x30000 is 900000000 pixels, over the limit of ${limits.max_image_pixels}`));
  });

  test("400 for top out of range", async () => {
    const png = await readFile(expected[0].file);
    for (const query of ["?top=0", "?top=101", "?top=-1", "?top=abc", "?top=2.5", "?top=", "?top=1&top=2"]) {
      await assertError(await classify(png, { query }), 400, /invalid top/);
    }
  });

  test("400 for multipart without an image field", async () => {
    const form = new FormData();
    form.append("file", new Blob([await readFile(expected[0].file)]));
    const res = await fetch(`${worker.url}/classify`, { method: "POST", body: form });
    await assertError(res, 400, /no "image" field/);
  });

  test("405 with Allow", async () => {
    for (const [method, route, allow] of [
      ["GET", "/classify", "POST, OPTIONS"],
      ["PUT", "/classify", "POST, OPTIONS"],
      ["DELETE", "/", "GET, HEAD, OPTIONS"],
      ["POST", "/healthz", "GET, HEAD, OPTIONS"],
    ]) {
      const res = await fetch(`${worker.url}${route}`, { method });
      assert.equal(res.headers.get("allow"), allow, `${method} ${route}: Allow`);
      await assertError(res, 405, /not allowed/);
    }
  });

  test("404 for unknown paths", async () => {
    await assertError(await fetch(`${worker.url}/predict`), 404, /no endpoint/);
  });

  test("errors leave later requests alone", async () => {
    await assertError(await classify("x", { type: "text/plain" }), 415);
    const want = expected[0];
    const res = await classify(await readFile(want.file), { type: contentType(want.file) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("allow"), null);
    assertMatchesNative(await res.json(), want, 5, "after an error");
  });
});

describe("service endpoints", () => {
  test("GET / describes the service", async () => {
    const res = await fetch(`${worker.url}/`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(
      body.endpoints.map((e) => `${e.method} ${e.path}`),
      ["POST /classify", "GET /healthz", "GET /"],
    );
    assert.equal(body.limits.max_body_bytes, Number(await wranglerVar("MAX_BODY_BYTES")), "limit set in wrangler.toml");
    assert.equal(body.limits.max_image_pixels, Number(await wranglerVar("MAX_IMAGE_PIXELS")), "limit set in wrangler.toml");
    assert.equal(body.limits.top_default, 5);
    assert.equal(body.limits.top_max, 100);
  });

  test("HEAD has no body", async () => {
    const res = await fetch(`${worker.url}/`, { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal((await res.arrayBuffer()).byteLength, 0);
  });

  test("CORS preflight", async () => {
    const res = await fetch(`${worker.url}/classify`, {
      method: "OPTIONS",
      headers: { Origin: "https://example.org", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.match(res.headers.get("access-control-allow-methods"), /POST/);
    assert.equal(res.headers.get("access-control-allow-headers"), "Content-Type");
    assert.match(res.headers.get("access-control-expose-headers"), /X-Model-Id/);
  });
});

// Runs last: every request above went to one Go program that loaded the
// model once.
describe("isolate state", () => {
  test("model loaded exactly once", async () => {
    const health = await (await fetch(`${worker.url}/healthz`)).json();
    assert.equal(health.instance, 1, "the Go program never restarted");
    assert.equal(health.load_count, 1, "one successful load");
    assert.equal(health.load_attempts, 1, "no load retried");
    assert.ok(health.requests > 40, `one Go program served all ${health.requests} requests`);
    const loadedLines = worker.output().split("\n").filter((line) => line.includes('"msg":"model loaded"'));
    assert.equal(loadedLines.length, 1, "one \"model loaded\" log line");
  });
});
