#!/usr/bin/env node
// npm run package: a .vsix for one platform (default: this machine's), with @vscode/vsce, offline.
//  1. esbuild production bundles (node esbuild.js --production);
//  2. an ignore file = .vscodeignore + onnxruntime-node's binaries of every other platform/arch
//     (node_modules/onnxruntime-node/bin/napi-v*/<platform>/<arch>/), passed with --ignoreFile;
//  3. vsce package --target <platform-arch>; --allow-missing-repository + --no-rewrite-relative-links / --skip-license
//     only while package.json has no repository / the repository no LICENSE file (vsce would otherwise stop).
// Prints what went in by top folder, then `vsix: <path>` and its size. Options: VSCE_TARGET (e.g. win32-x64), VSIX_OUT.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const target = process.env.VSCE_TARGET || `${process.platform}-${process.arch}`;
const out = path.resolve(root, process.env.VSIX_OUT || `${manifest.name}-${target}-${manifest.version}.vsix`);
const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');

function run(cmd, args, quiet) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: quiet ? 'pipe' : 'inherit', maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    throw new Error(`expected '${[cmd, ...args].join(' ')}' to succeed; exit ${r.status}${quiet ? `:\n${r.stdout}${r.stderr}` : ''}`);
  }
  return r.stdout;
}

/** onnxruntime-node binary folders of other targets, as ignore patterns. */
function otherPlatformBinaries() {
  const bin = path.join(root, 'node_modules', 'onnxruntime-node', 'bin');
  const patterns = [];
  let kept = 0;
  for (const napi of fs.existsSync(bin) ? fs.readdirSync(bin) : []) {
    for (const platform of fs.readdirSync(path.join(bin, napi))) {
      for (const arch of fs.readdirSync(path.join(bin, napi, platform))) {
        if (`${platform}-${arch}` === target) kept++;
        else patterns.push(`node_modules/onnxruntime-node/bin/${napi}/${platform}/${arch}/**`);
      }
    }
  }
  if (kept === 0) throw new Error(`expected onnxruntime-node binaries for ${target} in ${bin}; found only: ${patterns.join(', ')}`);
  return patterns;
}

function main() {
  const t0 = Date.now();
  run(process.execPath, ['esbuild.js', '--production']);
  const modelName = (/DEFAULT_MODEL_NAME = '([^']+)'/.exec(fs.readFileSync(path.join(root, 'src', 'engine', 'model', 'defaultModel.ts'), 'utf8')) || [])[1];
  if (!modelName || !fs.existsSync(path.join(root, 'models', modelName, 'model_index.json'))) {
    console.warn(`warning: the embedded model models/${modelName}/ has no model_index.json yet: the .vsix will lack it`);
  }
  const ignoreFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vsce-')), '.vscodeignore');
  fs.writeFileSync(ignoreFile, `${fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8')}\n${otherPlatformBinaries().join('\n')}\n`);
  const flags = ['--target', target, '--ignoreFile', ignoreFile];
  // Without a repository URL vsce cannot rewrite README's relative links (and stops at any, even inside code spans).
  if (!manifest.repository) flags.push('--allow-missing-repository', '--no-rewrite-relative-links');
  if (!fs.readdirSync(root).some((f) => /^licen[cs]e(\.md|\.txt)?$/i.test(f))) flags.push('--skip-license');

  const files = run(process.execPath, [vsce, 'ls', '--ignoreFile', ignoreFile], true)
    .split('\n').filter(Boolean);
  const byTop = new Map();
  for (const f of files) {
    const parts = f.split('/');
    const top = parts[0] === 'node_modules' ? `node_modules/${parts[1]}` : parts.length > 1 ? `${parts[0]}/${parts.length > 2 ? parts[1] + '/' : ''}` : f;
    const size = fs.statSync(path.join(root, f)).size;
    const entry = byTop.get(top) || { files: 0, bytes: 0 };
    byTop.set(top, { files: entry.files + 1, bytes: entry.bytes + size });
  }
  console.log(`${files.length} files for ${target}:`);
  const line = (bytes, n, what) => console.log(`  ${(bytes / 1e6).toFixed(2).padStart(8)} MB ${String(n).padStart(5)} files  ${what}`);
  const small = { folders: 0, files: 0, bytes: 0 };
  for (const [top, { files: n, bytes }] of [...byTop].sort((a, b) => b[1].bytes - a[1].bytes)) {
    if (top.startsWith('node_modules/') && !top.startsWith('node_modules/onnxruntime') && bytes < 200e3) {
      small.folders++; small.files += n; small.bytes += bytes;
    } else line(bytes, n, top);
  }
  if (small.folders) line(small.bytes, small.files, `${small.folders} small dependency folders`);
  run(process.execPath, [vsce, 'package', ...flags, '--out', out], true);
  fs.rmSync(path.dirname(ignoreFile), { recursive: true, force: true });
  const size = fs.statSync(out).size;
  console.log(`packaged in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${(size / 1e6).toFixed(1)} MB (${size} bytes)`);
  console.log(`vsix: ${out}`);
}

try {
  main();
} catch (error) {
  console.error(String(error && error.message ? error.message : error));
  process.exit(1);
}
