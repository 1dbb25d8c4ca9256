// Runs the Go benchmarks of package kernels inside headless Chromium, where
// the browser build runs, instead of under Node: the two embed different V8
// versions, which compile the same WebAssembly SIMD code differently.
//
//	node e2e/bench-kernels.mjs                          # SIMD build, every benchmark
//	node e2e/bench-kernels.mjs --build scalar           # without GOEXPERIMENT=simd
//	node e2e/bench-kernels.mjs --bench 'MatMulInt8' --benchtime 3s
//
// The test binary is built with `go test -c` for GOOS=js GOARCH=wasm, served
// with Go's wasm_exec.js by tools/serve from 127.0.0.1, and run on the page's
// main thread. Its output is printed unchanged, in `go test -bench` format.
// The script exits with status 1 when a benchmark fails or the test binary
// exits with a non-zero status, such as for an invalid -benchtime.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { goEnv, launchBrowser, run, startServer, tempDir } from './lib.mjs';

const { values: options } = parseArgs({
  options: {
    build: { type: 'string', default: 'simd' },
    bench: { type: 'string', default: '.' },
    benchtime: { type: 'string', default: '2s' },
    count: { type: 'string', default: '1' },
  },
});
if (!['simd', 'scalar'].includes(options.build)) {
  throw new Error(`--build must be simd or scalar, got ${options.build}`);
}

const args = ['kernels.test', '-test.run=^$', `-test.bench=${options.bench}`, `-test.benchtime=${options.benchtime}`, `-test.count=${options.count}`];
const site = tempDir('d2v-bench-kernels-');
let failed = false;
try {
  const goroot = (await run('go', ['env', 'GOROOT'])).trim();
  fs.copyFileSync(path.join(goroot, 'lib', 'wasm', 'wasm_exec.js'), path.join(site, 'wasm_exec.js'));
  console.error(`building the kernels test binary (${options.build})…`);
  await run('go', ['test', '-c', '-o', path.join(site, 'kernels.test.wasm'), './kernels'], {
    env: { ...goEnv(), GOOS: 'js', GOARCH: 'wasm', GOEXPERIMENT: options.build === 'simd' ? 'simd' : '' },
  });
  await run('go', ['build', '-o', site + path.sep, './tools/serve']);

  // The empty icon keeps Chromium from requesting /favicon.ico, whose 404
  // would show up in the output.
  fs.writeFileSync(path.join(site, 'index.html'), `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>kernels benchmarks</title>
<script src="wasm_exec.js"></script>
<script>
window.benchDone = (async () => {
  const go = new Go();
  go.argv = ${JSON.stringify(args)};
  const { instance } = await WebAssembly.instantiateStreaming(fetch('kernels.test.wasm'), go.importObject);
  await go.run(instance);
})();
</script>
`);

  const server = await startServer(site, site);
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    page.on('console', (message) => {
      const text = message.text();
      // wasm_exec.js reports a non-zero exit status as "exit code: N".
      if (/^(FAIL|--- FAIL|panic|exit code:)/.test(text)) {
        failed = true;
      }
      console.log(text);
    });
    await page.goto(server.url);
    await page.evaluate(() => window.benchDone, null, { timeout: 0 });
  } finally {
    await browser.close();
    await server.stop();
  }
} finally {
  fs.rmSync(site, { recursive: true, force: true });
}
if (failed) {
  process.exitCode = 1;
}
