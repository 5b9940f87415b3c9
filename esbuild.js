// Bundles the three rooms: the extension host, the engine process (+ the CLI that runs the engine in-process),
// and the webview. onnxruntime-node stays external: loading its JS twice in one process aborts it (REFERENCE.md).
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** Node bundles: [entry, outfile, extra options]. */
const nodeEntries = [
  ['src/extension.ts', 'dist/extension.js', { external: ['vscode', 'onnxruntime-node'] }],
  // the host's work, required by dist/extension.js on first use (src/hostLoader.ts): activation loads only the above
  ['src/hostLazy.ts', 'dist/host-lazy.js', { external: ['vscode', 'onnxruntime-node'] }],
  // The engine process and the CLI: each a small loader (src/launch/) that runs its bundle through V8's code cache.
  // The bundles are always whitespace-minified (names kept, for stack traces): without comments they are ASCII,
  // which V8 holds in half the memory and reads ~1 ms faster on every start.
  ['src/engine/main.ts', 'dist/engine-main.js', { external: ['onnxruntime-node'], minifyWhitespace: true, minifySyntax: true }],
  ['src/launch/engine.ts', 'dist/engine.js', {}],
  ['src/cli.ts', 'dist/cli-main.js', { external: ['onnxruntime-node'], minifyWhitespace: true, minifySyntax: true }],
  ['src/launch/cli.ts', 'dist/cli.js', { banner: { js: '#!/usr/bin/env node' } }],
];
const webEntries = [
  ['webview/main.ts', 'dist/webview/main.js'], ['webview/main.css', 'dist/webview/main.css'],
  ['webview/review/main.ts', 'dist/webview/review.js'], ['webview/review/review.css', 'dist/webview/review.css'],
  ['webview/gallery/main.ts', 'dist/webview/gallery.js'], ['webview/gallery/gallery.css', 'dist/webview/gallery.css'],
];

async function main() {
  const contexts = [];
  for (const [entry, outfile, extra] of nodeEntries) {
    if (!fs.existsSync(entry)) continue; // the extension host lands with its own issue
    contexts.push(await esbuild.context({
      entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs',
      sourcemap: !production, minify: production, logLevel: 'warning', ...extra,
    }));
  }
  for (const [entry, outfile] of webEntries) {
    if (!fs.existsSync(entry)) continue;
    contexts.push(await esbuild.context({
      entryPoints: [entry], outfile, bundle: true, platform: 'browser', target: 'es2022', format: 'iife',
      sourcemap: !production, minify: production, logLevel: 'warning',
    }));
  }
  if (watch) {
    await Promise.all(contexts.map((c) => c.watch()));
    return;
  }
  for (const c of contexts) {
    await c.rebuild();
    await c.dispose();
  }
  const cli = path.join(__dirname, 'dist', 'cli.js');
  if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
