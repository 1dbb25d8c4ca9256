// Helpers that run the worker in the real Workers runtime: wrangler dev
// (workerd underneath) on 127.0.0.1 with local R2 storage. Nothing here
// contacts a host other than 127.0.0.1.
import { spawn, execFile } from "node:child_process";
import { once } from "node:events";
import { readdir, readFile, readlink } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export const EDGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const WRANGLER = path.join(EDGE_DIR, "node_modules", ".bin", "wrangler");
export const BUCKET = "d2v-models";

// Environment that keeps wrangler and miniflare off the network: no usage
// metrics, no error reports, no update check (it runs with the banner), and
// no download of the request.cf object.
export function offlineEnv(extra = {}) {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    ...extra,
  };
}

// Requests through wrangler dev 4.86 can hang. When its proxy's forward of
// a GET or HEAD to a path other than / fails on a keep-alive connection
// that workerd closed, the proxy queues the request again and sends it
// only when the next request arrives. The hangs seen here followed
// requests that computed for seconds. REQUEST_TIMEOUT_MS turns such a hang
// into an error.
export const REQUEST_TIMEOUT_MS = 120_000;

// fetchWithTimeout is fetch that fails after REQUEST_TIMEOUT_MS.
export async function fetchWithTimeout(url, init = {}) {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...init });
  } catch (err) {
    if (err.name === "TimeoutError") {
      throw new Error(`${init.method ?? "GET"} ${url}: no response within ${REQUEST_TIMEOUT_MS} ms`);
    }
    throw err;
  }
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
export async function freePort() {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

// modelFiles lists the files of a converted model that the worker reads:
// the weight files and, for a sharded model, the index.
export async function modelFiles(modelDir) {
  const names = await readdir(modelDir);
  return names.filter((n) => n.endsWith(".safetensors") || n === "model.safetensors.index.json").sort();
}

// seedModel stores the model's files under prefix in the local R2 bucket of
// persistDir, as `wrangler r2 object put --local` does for a developer.
export async function seedModel({ modelDir, prefix, persistDir }) {
  for (const name of await modelFiles(modelDir)) {
    await execFileAsync(
      WRANGLER,
      ["r2", "object", "put", `${BUCKET}/${prefix}${name}`, "--file", path.join(modelDir, name), "--local", "--persist-to", persistDir],
      { cwd: EDGE_DIR, env: offlineEnv({ WRANGLER_LOG_PATH: path.join(persistDir, "wrangler-logs") }), maxBuffer: 16 << 20 },
    );
  }
}

// startWorker starts `wrangler dev --local` on a free port of 127.0.0.1 and
// resolves once it accepts requests. vars override wrangler.toml's [vars].
// The returned stop() ends wrangler and its workerd processes.
export async function startWorker({ persistDir, vars = {}, readyTimeoutMs = 120_000 }) {
  const port = await freePort();
  const inspectorPort = await freePort();
  const args = [
    "dev",
    "--local",
    "--ip", "127.0.0.1",
    "--port", String(port),
    "--inspector-port", String(inspectorPort),
    "--persist-to", persistDir,
    "--show-interactive-dev-session=false",
    "--log-level", "log",
  ];
  for (const [name, value] of Object.entries(vars)) {
    args.push("--var", `${name}:${value}`);
  }
  // A process group of its own, so stop() can end workerd with wrangler.
  const child = spawn(WRANGLER, args, {
    cwd: EDGE_DIR,
    env: offlineEnv({ WRANGLER_LOG_PATH: path.join(persistDir, "wrangler-logs") }),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = once(child, "exit");

  const worker = {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) {
        return;
      }
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      }, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };

  const deadline = Date.now() + readyTimeoutMs;
  while (!output.includes("Ready on")) {
    if (child.exitCode !== null) {
      throw new Error(`wrangler dev exited with code ${child.exitCode}:\n${output}`);
    }
    if (Date.now() > deadline) {
      await worker.stop();
      throw new Error(`wrangler dev did not start within ${readyTimeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return worker;
}

// waitForModel polls GET /healthz until the status is 200 and returns the
// body. It fails on a load error or after timeoutMs.
export async function waitForModel(url, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetchWithTimeout(`${url}/healthz`);
    const body = await res.json();
    if (res.status === 200) {
      return body;
    }
    if (body.status === "failed" || body.status === "unavailable") {
      throw new Error(`model load failed: ${body.error}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`model not loaded after ${timeoutMs} ms: ${JSON.stringify(body)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

// workerdProcesses returns {pid, rssBytes, args} of every workerd process
// below pid, read from /proc (Linux).
export async function workerdProcesses(pid) {
  const all = new Map();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const status = await readFile(`/proc/${entry}/status`, "utf8");
      const rss = /VmRSS:\s+(\d+) kB/.exec(status);
      const args = (await readFile(`/proc/${entry}/cmdline`, "utf8")).split("\0");
      all.set(Number(entry), { pid: Number(entry), ppid, rssBytes: rss ? Number(rss[1]) * 1024 : 0, args });
    } catch {
      // The process ended while it was being read.
    }
  }
  const below = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all.values()) {
      if (below.has(p.ppid) && !below.has(p.pid)) {
        below.add(p.pid);
        grew = true;
      }
    }
  }
  return [...all.values()].filter((p) => below.has(p.pid) && p.pid !== pid && path.basename(p.args[0]) === "workerd");
}

// listeningPorts returns the TCP ports on which process pid listens, read
// from /proc (Linux, IPv4).
async function listeningPorts(pid) {
  const inodes = new Set();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match) {
      inodes.add(match[1]);
    }
  }
  const ports = [];
  for (const line of (await readFile(`/proc/${pid}/net/tcp`, "utf8")).split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    // fields: sl, local address, remote address, state (0A is LISTEN), ..., inode
    if (fields.length > 9 && fields[3] === "0A" && inodes.has(fields[9])) {
      ports.push(parseInt(fields[1].split(":")[1], 16));
    }
  }
  return ports;
}

// isolateHeap returns the V8 heap usage {usedSize, totalSize} in bytes of
// the worker's isolate, read with Runtime.getHeapUsage from the DevTools
// inspector of the user worker's workerd (wrangler starts it on a random
// port of 127.0.0.1). It needs a global WebSocket (Node.js 20 with
// --experimental-websocket, or Node.js 22) and returns null without one.
export async function isolateHeap(worker) {
  if (typeof WebSocket === "undefined") {
    return null;
  }
  const user = (await workerdProcesses(worker.pid)).find((p) => p.args.some((a) => a.startsWith("--inspector-addr")));
  if (!user) {
    return null;
  }
  for (const port of await listeningPorts(user.pid)) {
    let targets;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(2000) });
      targets = await res.json();
    } catch {
      continue; // not the inspector
    }
    const target = Array.isArray(targets) && targets.find((t) => String(t.id).startsWith("core:user:"));
    if (!target) {
      continue;
    }
    const socket = new WebSocket(target.webSocketDebuggerUrl);
    try {
      await new Promise((resolve, reject) => {
        socket.addEventListener("open", resolve);
        socket.addEventListener("error", reject);
      });
      const reply = new Promise((resolve) => {
        socket.addEventListener("message", (event) => {
          const message = JSON.parse(event.data);
          if (message.id === 1) {
            resolve(message.result);
          }
        });
      });
      socket.send(JSON.stringify({ id: 1, method: "Runtime.getHeapUsage" }));
      return await Promise.race([reply, new Promise((resolve) => setTimeout(() => resolve(null), 5000))]);
    } finally {
      socket.close();
    }
  }
  return null;
}
