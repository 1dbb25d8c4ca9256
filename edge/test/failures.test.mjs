// Failure modes of the worker in the real Workers runtime: a model that is
// missing from R2, and an invalid configuration.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { fetchWithTimeout as fetch, startWorker } from "./harness.mjs";

let persistDir;

before(async () => {
  // An empty local R2 bucket.
  persistDir = await mkdtemp(path.join(tmpdir(), "d2v-edge-failures-"));
});

after(async () => {
  if (persistDir) {
    await rm(persistDir, { recursive: true, force: true });
  }
});

async function json(res) {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    assert.fail(`status ${res.status}: body is not JSON: ${text}`);
  }
}

async function pollHealth(url, done, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/healthz`);
    const body = await json(res);
    if (done(body) || Date.now() > deadline) {
      return { status: res.status, body };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("model missing from R2", () => {
  let worker;
  before(async () => {
    worker = await startWorker({ persistDir, vars: { MODEL_PREFIX: "missing/" } });
  });
  after(async () => {
    await worker?.stop();
  });

  test("healthz reports the load error", async () => {
    const { status, body } = await pollHealth(worker.url, (b) => b.status === "failed");
    assert.equal(status, 503);
    assert.equal(body.status, "failed");
    assert.equal(body.model_loaded, false);
    assert.match(body.error, /R2 object missing\/model\.safetensors not found/);
  });

  test("classify responds 503 with Retry-After", async () => {
    const res = await fetch(`${worker.url}/classify`, { method: "POST", headers: { "Content-Type": "image/png" }, body: "x" });
    const body = await json(res);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "5");
    assert.match(body.error, /failed to load/);
    assert.ok(body.request_id);
  });

  test("failed load is not retried at once", async () => {
    const body = await json(await fetch(`${worker.url}/healthz`));
    assert.equal(body.load_attempts, 1);
    assert.match(worker.output(), /"msg":"model load failed"/);
  });
});

describe("invalid configuration", () => {
  let worker;
  before(async () => {
    worker = await startWorker({ persistDir, vars: { MODEL_PREFIX: "missing/", MAX_BODY_BYTES: "ten megabytes" } });
  });
  after(async () => {
    await worker?.stop();
  });

  test("classify responds 500 with a logged request id", async () => {
    const res = await fetch(`${worker.url}/classify`, { method: "POST", headers: { "Content-Type": "image/png" }, body: "x" });
    const body = await json(res);
    assert.equal(res.status, 500);
    assert.match(body.error, /invalid worker configuration: invalid MAX_BODY_BYTES "ten megabytes"/);
    assert.ok(body.request_id);
    assert.equal(res.headers.get("x-request-id"), body.request_id);
    // Console output reaches wrangler asynchronously.
    const deadline = Date.now() + 5000;
    while (!worker.output().includes(body.request_id) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(worker.output().includes(body.request_id), "the request id appears in the log");
  });

  test("healthz responds 503 unavailable", async () => {
    const res = await fetch(`${worker.url}/healthz`);
    const body = await json(res);
    assert.equal(res.status, 503);
    assert.equal(body.status, "unavailable");
    assert.match(body.error, /MAX_BODY_BYTES/);
    assert.equal(body.load_attempts, undefined, "no load is attempted");
  });
});
