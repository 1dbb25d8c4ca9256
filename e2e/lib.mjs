// Helpers for the browser tests and the measurement script: building, the
// development server, the native classifier and headless Chromium.

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const webDir = path.join(repoRoot, 'www');

// Chromium from Debian (apt-get install chromium). Playwright's own browser
// downloads are not used.
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Flags that give getUserMedia a synthetic camera and grant access without
// a prompt.
export const fakeCameraArgs = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

const execFileAsync = promisify(execFile);

// sharedDir returns the folder of reference fixtures: $D2V_SHARED, else the
// folder "shared" beside the repository. It throws when images/ is missing.
export function sharedDir() {
  const dir = process.env.D2V_SHARED || path.join(repoRoot, '..', 'shared');
  if (!fs.existsSync(path.join(dir, 'images'))) {
    throw new Error(`reference fixtures not found: ${path.join(dir, 'images')} does not exist (set D2V_SHARED to the folder that holds golden/ and images/)`);
  }
  return dir;
}

// goEnv returns the environment for go commands. GOTOOLCHAIN defaults to
// the release that go.mod requires (its toolchain line, else its go line),
// so that a machine whose go.env sets GOTOOLCHAIN=local still builds.
export function goEnv() {
  const env = { ...process.env };
  if (!env.GOTOOLCHAIN) {
    const goMod = fs.readFileSync(path.join(repoRoot, 'go.mod'), 'utf8');
    const toolchain = goMod.match(/^toolchain\s+(\S+)/m);
    const release = goMod.match(/^go\s+(\d+\.\d+\.\d+)\s*$/m);
    if (toolchain) {
      env.GOTOOLCHAIN = toolchain[1];
    } else if (release) {
      env.GOTOOLCHAIN = `go${release[1]}`;
    }
  }
  return env;
}

// run executes a program and returns its standard output. A failure throws
// with the command line and its standard error.
export async function run(file, args, options = {}) {
  try {
    const { stdout } = await execFileAsync(file, args, { cwd: repoRoot, env: goEnv(), maxBuffer: 64 << 20, ...options });
    return stdout;
  } catch (err) {
    throw new Error(`${file} ${args.join(' ')} failed: ${err.stderr || err.message}`);
  }
}

// build runs `make web` and compiles the server, the native classifier and
// the test image writer into binDir.
export async function build(binDir) {
  await run('make', ['--no-print-directory', 'web']);
  await run('go', ['build', '-o', binDir + path.sep, './tools/serve', './tools/classify', './e2e/testimages']);
}

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// startServer starts tools/serve on a free loopback port and resolves once
// it has logged its URL.
export function startServer(binDir, dir = webDir) {
  const child = spawn(path.join(binDir, 'serve'), ['-addr', '127.0.0.1:0', '-dir', dir], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tools/serve logged no URL within 15 s:\n${log}`)), 15000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const match = log.match(/msg=serving .*url=(http:\/\/127\.0\.0\.1:\d+\/)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`tools/serve exited early (code ${code}, signal ${signal}):\n${log}`));
    });
  });
  return url.then((address) => ({
    url: address,
    log: () => log,
    // stop sends SIGTERM and resolves with the exit status once the server
    // has shut down.
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
      }
      return exited;
    },
  }));
}

// classifyNative runs tools/classify on image files and returns a Map from
// file path to {top, logits}.
export async function classifyNative(binDir, modelDir, files) {
  const stdout = await run(path.join(binDir, 'classify'), ['-model', modelDir, '-json', '-top', '5', ...files]);
  const results = new Map();
  for (const line of stdout.split('\n').filter(Boolean)) {
    const result = JSON.parse(line);
    results.set(result.file, result);
  }
  return results;
}

// launchBrowser starts headless Chromium with a fresh profile folder, so that
// no service worker or cache survives from an earlier run.
export async function launchBrowser({ extraArgs = [], viewport = { width: 1280, height: 900 } } = {}) {
  const { chromium } = await import('playwright-core');
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}: install Debian's chromium package or set CHROMIUM_PATH`);
  }
  const profile = tempDir('d2v-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [...chromiumArgs, ...extraArgs],
    viewport,
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// waitForModel waits until the page has loaded a model or shown a load
// error, and throws with the page's errors in the second case.
export async function waitForModel(page, timeout = 120000) {
  await page.waitForFunction(() => window.d2vPage && (window.d2vPage.ready || window.d2vPage.errors.length > 0 || document.body.dataset.state === 'unsupported'), null, { timeout });
  const state = await page.evaluate(() => ({ ready: window.d2vPage.ready, errors: window.d2vPage.errors }));
  if (!state.ready) {
    throw new Error(`the page did not load its model: ${state.errors.join('; ')}`);
  }
}

// classifyAndWait runs trigger (an action that gives the page an image) and
// waits for the page's next result or error. It returns {result} or {error}.
export async function classifyAndWait(page, trigger, timeout = 120000) {
  const before = await page.evaluate(() => ({ results: window.d2vPage.results.length, errors: window.d2vPage.errors.length }));
  await trigger();
  await page.waitForFunction(
    (b) => window.d2vPage.results.length > b.results || window.d2vPage.errors.length > b.errors,
    before,
    { timeout },
  );
  return page.evaluate((b) => {
    if (window.d2vPage.errors.length > b.errors) {
      return { error: window.d2vPage.errors.at(-1) };
    }
    return { result: window.d2vPage.results[b.results] };
  }, before);
}

export function mimeType(file) {
  const ext = path.extname(file).toLowerCase();
  return { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp' }[ext] || 'application/octet-stream';
}
