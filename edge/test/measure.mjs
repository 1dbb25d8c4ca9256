// Measures a model in the local Workers runtime (wrangler dev, workerd):
// cold start, warm time per request and isolate memory.
//
//   node test/measure.mjs MODEL_DIR WARM_IMAGE [LARGE_IMAGE...]
//
// MODEL_DIR is a folder written by tools/convert. WARM_IMAGE is classified
// once cold and WARM_RUNS times warm. Each LARGE_IMAGE is then classified
// in a fresh worker (the wasm memory of a worker never shrinks, so each
// needs its own) with the body and pixel limits raised, to show the memory
// that decoding it adds.
//
// Local workerd enforces no memory limit, so the figures to compare with
// the 128 MB of a Workers isolate are the wasm memory (the WebAssembly
// linear memory, which contains the whole Go heap) plus the V8 heap. The
// workerd process RSS also counts compiled code and wrangler's own
// workers. Run it with --experimental-websocket on Node.js 20 to read the
// V8 heap; without it that column is NaN.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { fetchWithTimeout as fetch, isolateHeap, seedModel, startWorker, waitForModel, workerdProcesses } from "./harness.mjs";

const WARM_RUNS = 5;
const MiB = 1 << 20;

const [modelDir, warmImage, ...largeImages] = process.argv.slice(2);
if (!modelDir || !warmImage) {
  console.error("usage: node test/measure.mjs MODEL_DIR WARM_IMAGE [LARGE_IMAGE...]");
  process.exit(2);
}

function contentType(file) {
  return /\.jpe?g$/.test(file) ? "image/jpeg" : "image/png";
}

async function classify(url, file) {
  const started = performance.now();
  const res = await fetch(`${url}/classify`, {
    method: "POST",
    headers: { "Content-Type": contentType(file) },
    body: await readFile(file),
  });
  const body = await res.text();
  const ms = performance.now() - started;
  if (res.status !== 200) {
    throw new Error(`${path.basename(file)}: status ${res.status}: ${body}`);
  }
  return { ms, inferenceMs: Number(res.headers.get("x-inference-ms")), timing: res.headers.get("server-timing") };
}

async function memory(worker) {
  const health = await (await fetch(`${worker.url}/healthz`)).json();
  const processes = await workerdProcesses(worker.pid);
  // The user worker's workerd is the one with an inspector address;
  // the other serves wrangler's proxy.
  const user = processes.find((p) => p.args.some((a) => a.startsWith("--inspector-addr"))) ?? processes[0];
  // The inspector sometimes gives no reply right after the first request.
  const heap = (await isolateHeap(worker)) ?? (await isolateHeap(worker));
  return {
    heap: heap ? heap.usedSize / MiB : NaN,
    wasm: health.memory.wasm_memory_bytes / MiB,
    goTotal: health.memory.go_total_bytes / MiB,
    goLive: health.memory.go_heap_live_bytes / MiB,
    rss: user ? user.rssBytes / MiB : NaN,
    loadMs: health.load_ms,
  };
}

function row(label, m) {
  return `| ${label} | ${m.wasm.toFixed(1)} | ${m.heap.toFixed(1)} | ${m.goTotal.toFixed(1)} | ${m.goLive.toFixed(1)} | ${m.rss.toFixed(0)} |`;
}

const persistDir = await mkdtemp(path.join(tmpdir(), "d2v-edge-measure-"));
const vars = { MODEL_PREFIX: "measure/", MODEL_ID: path.basename(modelDir) };
const lines = [];
let worker;
try {
  await seedModel({ modelDir, prefix: "measure/", persistDir });

  worker = await startWorker({ persistDir, vars });
  const idle = (await workerdProcesses(worker.pid)).find((p) => p.args.some((a) => a.startsWith("--inspector-addr")));
  const cold = await classify(worker.url, warmImage);
  const afterCold = await memory(worker);
  const warm = [];
  for (let i = 0; i < WARM_RUNS; i++) {
    warm.push(await classify(worker.url, warmImage));
  }
  const afterWarm = await memory(worker);
  await worker.stop();
  worker = null;

  const sorted = warm.map((w) => w.ms).sort((a, b) => a - b);
  lines.push(`model: ${modelDir}`);
  lines.push(`cold start (first request: Go start, R2 load of the model, first inference): ${(cold.ms / 1000).toFixed(2)} s, of which model load ${(afterCold.loadMs / 1000).toFixed(2)} s`);
  lines.push(`warm ${path.basename(warmImage)}: median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms per request (min ${sorted[0].toFixed(0)}, max ${sorted.at(-1).toFixed(0)}; ${warm.at(-1).timing})`);
  lines.push(`workerd RSS before the first request: ${idle ? (idle.rssBytes / MiB).toFixed(0) : "?"} MiB`);
  lines.push("");
  lines.push("| after | wasm memory MiB | V8 heap used MiB | Go mapped MiB | Go live heap MiB | workerd RSS MiB |");
  lines.push("| --- | --- | --- | --- | --- | --- |");
  lines.push(row("cold request", afterCold));
  lines.push(row(`${WARM_RUNS} warm requests`, afterWarm));

  // Limits high enough for every LARGE_IMAGE, so that it is decoded.
  const largeVars = { ...vars, MAX_IMAGE_PIXELS: "100000000", MAX_BODY_BYTES: "100000000" };
  for (const image of largeImages) {
    worker = await startWorker({ persistDir, vars: largeVars });
    await waitForModel(worker.url);
    await classify(worker.url, warmImage);
    const before = await memory(worker);
    await classify(worker.url, image);
    const afterLarge = await memory(worker);
    await worker.stop();
    worker = null;
    lines.push(row(`${path.basename(image)} (fresh worker; ${before.wasm.toFixed(1)} MiB before)`, afterLarge));
  }
  console.log(lines.join("\n"));
} catch (err) {
  console.error(err);
  if (worker) {
    console.error(worker.output());
  }
  process.exitCode = 1;
} finally {
  await worker?.stop();
  await rm(persistDir, { recursive: true, force: true });
}
