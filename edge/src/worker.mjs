// Cloudflare Workers entry point for the Go classifier in wasm/edge.
//
// The Go program starts once per isolate, on the first request, and keeps
// running: its model is loaded once and serves every later request. Each
// request is handed to the program through synchronous bridge calls
// (wasm/edge/main.go describes them). This module does the I/O that Go
// must not wait for inside a call: it reads the request body and the
// model's R2 objects in the request's own context and copies the bytes
// into Go memory chunk by chunk.
//
// Both files are build outputs of `make edge-build`: wasm_exec.js comes from
// the same Go toolchain that compiled the .wasm file.
import "../build/wasm_exec.js";
import goModule from "../build/d2v-edge.wasm";

// Workers variables passed to the Go program as environment variables.
// GOGC and GOMEMLIMIT tune the Go garbage collector.
const GO_ENV_VARS = ["MODEL_ID", "MAX_BODY_BYTES", "MAX_IMAGE_PIXELS", "MAX_MODEL_BYTES", "GOGC", "GOMEMLIMIT"];

const INDEX_FILE = "model.safetensors.index.json";

// How long a classify request waits for a model load in progress before the
// Go program responds 503.
const LOAD_WAIT_MS = 60_000;
// A load still in progress after this long is treated as stalled (its
// request context may have been cancelled) and a new one starts.
const LOAD_STALE_MS = 120_000;
// After a failed load, requests within this time do not start another.
const LOAD_RETRY_MS = 10_000;
// The maximum number of bytes read and dropped from a request body after
// the handler has responded (see discardRest). The rest of a longer body
// is canceled.
const DISCARD_LIMIT_BYTES = 32 << 20;

// State of this isolate, shared by all its requests. An isolate serves
// several requests concurrently, but its JavaScript and Go code run on one
// thread and switch only at await points, so plain variables are safe.
let program = null; // {go, edge} of the running Go program
let programCount = 0;
let load = null; // {promise, started} of the load in progress
let lastLoadFailure = 0;

export default {
  async fetch(request, env, ctx) {
    let current;
    try {
      current = startProgram(env);
    } catch (err) {
      return shimError(500, "the Go program failed to start", err);
    }

    // Only classify requests need the model. The others get a response at
    // once, so GET /healthz can report a load in progress.
    const pending = ensureModel(current, env, ctx);
    if (pending && request.method === "POST" && new URL(request.url).pathname === "/classify") {
      await waitAtMost(pending, LOAD_WAIT_MS);
    }

    try {
      return await serve(current.edge, request);
    } catch (err) {
      return shimError(500, "the request failed in the worker's shim", err);
    }
  },
};

// startProgram returns the running Go program, starting one if there is
// none or if the last one exited (after a panic, for example).
function startProgram(env) {
  if (program && !program.go.exited) {
    return program;
  }
  if (program) {
    log("error", "the Go program exited; starting a new one", { instance: programCount });
  }

  const go = new Go();
  go.env = { D2V_EDGE_INSTANCE: String(++programCount) };
  for (const name of GO_ENV_VARS) {
    if (typeof env[name] === "string" && env[name] !== "") {
      go.env[name] = env[name];
    }
  }
  const instance = new WebAssembly.Instance(goModule, go.importObject);

  // main calls this function with its API object and then blocks, which
  // returns control here before go.run's promise settles.
  let edge = null;
  globalThis.__d2vEdgeRegister = (api) => {
    edge = api;
  };
  go.run(instance);
  delete globalThis.__d2vEdgeRegister;
  if (!edge) {
    throw new Error("the Go program exited before registering its functions; its log shows why");
  }
  edge.setMemory(instance.exports.mem);

  program = { go, edge };
  load = null;
  return program;
}

// ensureModel starts a model load unless the model is ready, one is in
// progress, or one failed moments ago. It returns the promise of the load
// in progress, or null.
function ensureModel(current, env, ctx) {
  const state = current.edge.state();
  if (state === "ready" || state === "unavailable") {
    return null;
  }
  const now = Date.now();
  if (load && now - load.started < LOAD_STALE_MS) {
    return load.promise;
  }
  if (!load && now - lastLoadFailure < LOAD_RETRY_MS) {
    return null;
  }

  const started = now;
  const promise = loadModel(current, env).then(
    () => {
      log("info", "model streamed from R2", { ms: Date.now() - started });
    },
    (err) => {
      lastLoadFailure = Date.now();
      log("error", "model load failed", { error: String(err?.message ?? err) });
    },
  );
  const entry = { promise, started };
  load = entry;
  promise.finally(() => {
    if (load === entry) {
      load = null;
    }
  });
  // Keeps the load running if the request that started it ends first.
  ctx.waitUntil(promise);
  return promise;
}

// loadModel streams the weight files from the MODEL_BUCKET R2 binding into
// Go memory. Each R2 object body is read chunk by chunk and every chunk is
// copied into the Go buffer of its file, so JavaScript never keeps a whole
// file, let alone a second copy of the model.
async function loadModel(current, env) {
  const { edge } = current;
  const id = edge.loadBegin();
  const check = (message) => {
    if (message !== null && message !== undefined) {
      throw new Error(message);
    }
  };

  try {
    const bucket = env.MODEL_BUCKET;
    if (!bucket) {
      throw new Error("no R2 binding named MODEL_BUCKET; add it to wrangler.toml");
    }
    const prefix = env.MODEL_PREFIX ?? "";

    const indexObject = await bucket.get(prefix + INDEX_FILE);
    const index = indexObject ? new Uint8Array(await indexObject.arrayBuffer()) : null;
    const listing = edge.weightFiles(index);
    check(listing.error);

    for (const name of listing.files) {
      const key = prefix + name;
      const object = await bucket.get(key);
      if (!object) {
        throw new Error(`R2 object ${key} not found in the MODEL_BUCKET bucket`);
      }
      check(edge.loadFile(id, name, object.size));
      const reader = object.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          break;
        }
        check(edge.loadWrite(id, value));
      }
      check(edge.loadFileEnd(id));
    }
    check(edge.loadEnd(id));
  } catch (err) {
    if (!current.go.exited) {
      edge.loadFail(id, String(err?.message ?? err));
    }
    throw err;
  }
}

// serve runs one request through the Go handler and returns its Response.
async function serve(edge, request) {
  const body = request.body;
  const id = edge.start(request.method, request.url, [...request.headers], body !== null);
  if (typeof id === "string") {
    return shimError(400, id);
  }
  try {
    if (body !== null) {
      const rest = await sendBody(edge, id, body);
      if (rest) {
        await discardRest(rest);
      }
    }
  } catch (err) {
    edge.abort(id, String(err?.message ?? err));
    throw err;
  }

  const response = edge.finish(id);
  if (!response) {
    return shimError(500, "the Go handler did not finish");
  }
  return new Response(response.body, { status: response.status, headers: response.headers });
}

// sendBody copies the request body into the exchange chunk by chunk. A
// body that the handler responded to without reading (415, or 413 by
// Content-Length) stays untouched, because the runtime drops it and
// wrangler dev drains it. When the handler responds in the middle of the
// body (413 after too many bytes), sendBody stops and returns a reader of
// the rest.
async function sendBody(edge, id, body) {
  if (edge.done(id)) {
    return null;
  }
  const reader = body.getReader();
  for (;;) {
    let result;
    try {
      result = await reader.read();
    } catch (err) {
      edge.end(id, `reading the request body failed: ${err?.message ?? err}`);
      return null;
    }
    if (result.done) {
      edge.end(id, null);
      return null;
    }
    if (!edge.write(id, result.value) || edge.done(id)) {
      return reader;
    }
  }
}

// discardRest reads and drops the rest of a body after the handler has
// responded, up to DISCARD_LIMIT_BYTES, and cancels a longer one. Reading
// it out before the response goes out lets the client finish sending. In
// wrangler dev 4.86, canceling a partly read body, or responding before it
// was read out, broke the connection between wrangler's proxy and workerd.
// The client's request failed, and the proxy restarted the worker, which
// lost the loaded model.
async function discardRest(reader) {
  let left = DISCARD_LIMIT_BYTES;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        return;
      }
      left -= value.byteLength;
      if (left < 0) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // The client closed the connection; nothing is left to read.
  }
}

// waitAtMost waits for promise, or for ms milliseconds if that is sooner.
async function waitAtMost(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([promise, timeout]);
  clearTimeout(timer);
}

// shimError returns the error response of a failure in this module, in the
// Go handler's format, with a request id that is also logged.
function shimError(status, message, err) {
  const requestId = crypto.randomUUID();
  log("error", message, { request_id: requestId, error: err ? String(err?.stack ?? err) : undefined });
  return new Response(JSON.stringify({ error: message, request_id: requestId }) + "\n", {
    status,
    headers: {
      "Content-Type": "application/json; charset=utf-8",
      "Access-Control-Allow-Origin": "*",
      "X-Request-Id": requestId,
    },
  });
}

// log writes one JSON line, like the Go program's log/slog handler.
function log(level, msg, fields = {}) {
  console.log(JSON.stringify({ time: new Date().toISOString(), level: level.toUpperCase(), msg, source: "worker.mjs", ...fields }));
}
