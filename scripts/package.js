#!/usr/bin/env node
// npm run package: a .vsix for one platform (default: this machine's); npm run package:all: one for every target
// onnxruntime-node ships binaries for (TARGETS). Offline, with @vscode/vsce's API:
//  1. esbuild production bundles (node esbuild.js --production), once;
//  2. per target, an ignore file = .vscodeignore + the developers' README.md + onnxruntime-node's binaries of every
//     other platform/arch (node_modules/onnxruntime-node/bin/napi-v*/<platform>/<arch>/) + files of its own that
//     nothing loads (UNUSED_BINARIES);
//  3. vsce's createVSIX with that ignore file, target, MARKETPLACE.md as the package's README (its Marketplace page)
//     and CHANGELOG.md; without a repository in package.json, allowMissingRepository and no link rewriting (the page's
//     screenshots are then relative links to media/marketplace/, shown by VS Code's extension view; the Marketplace
//     website needs absolute ones, which vsce writes by itself once package.json names a public repository); without
//     a LICENSE file, skipLicense.
// The file list of step 3 comes from packagePlan(target) + listPackageFiles(target), which the packaging itself uses;
// test/scripts/packaging.test.ts checks it per target without building anything.
// Prints what went in by top folder, then `vsix: <path>` and its size.
// Usage: node scripts/package.js [--all | target...]; environment: VSCE_TARGET (one target), VSIX_OUT (its path).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

/** The targets onnxruntime-node 1.30 ships binaries for. darwin-x64 has had none since ONNX Runtime 1.24. */
const TARGETS = ['linux-x64', 'linux-arm64', 'win32-x64', 'win32-arm64', 'darwin-arm64'];

/**
 * Files of a target's own binary folder that nothing loads: macOS's libonnxruntime.1.30.0.dylib is a byte-identical
 * copy of libonnxruntime.1.dylib (a symlink in ONNX Runtime's archive, a file once npm unpacks it); the binding links
 * @rpath/libonnxruntime.1.dylib, which is also that library's own install name. Patterns below the target's folder.
 */
const UNUSED_BINARIES = { 'darwin-arm64': ['libonnxruntime.1.*.*.dylib'] };

/** The package's README (its Marketplace page and VS Code's extension view) and changelog. */
const README_PATH = 'MARKETPLACE.md';
const CHANGELOG_PATH = 'CHANGELOG.md';

function manifest() {
  return JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
}

/** onnxruntime-node's binary folders: [{ dir: 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64', target }]. */
function ortBinaryFolders() {
  const rel = 'node_modules/onnxruntime-node/bin';
  const bin = path.join(root, rel);
  const folders = [];
  for (const napi of fs.existsSync(bin) ? fs.readdirSync(bin) : []) {
    for (const platform of fs.readdirSync(path.join(bin, napi))) {
      for (const arch of fs.readdirSync(path.join(bin, napi, platform))) {
        folders.push({ dir: `${rel}/${napi}/${platform}/${arch}`, target: `${platform}-${arch}` });
      }
    }
  }
  return folders;
}

/** The folder name of the embedded model (DEFAULT_MODEL_NAME in src/…/defaultModel.ts). */
function embeddedModelName() {
  const find = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) { const r = find(p); if (r) return r; } else if (e.name === 'defaultModel.ts') return p;
    }
    return undefined;
  };
  const file = find(path.join(root, 'src'));
  const name = file && (/DEFAULT_MODEL_NAME = '([^']+)'/.exec(fs.readFileSync(file, 'utf8')) || [])[1];
  if (!name) throw new Error('expected DEFAULT_MODEL_NAME in src/**/defaultModel.ts');
  return name;
}

/**
 * Everything that decides what goes into `target`'s package: the ignore file's text and vsce's options (both
 * listing and packaging use exactly these). Throws for a target without onnxruntime-node binaries.
 */
function packagePlan(target) {
  const folders = ortBinaryFolders();
  const own = folders.filter((f) => f.target === target);
  if (own.length === 0) {
    throw new Error(`no package for ${target}: onnxruntime-node has binaries for ${[...new Set(folders.map((f) => f.target))].join(', ')} only`);
  }
  const ignore = [
    fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8').trimEnd(),
    '# scripts/package.js: the developers\' README (the package has MARKETPLACE.md as its README)',
    'README.md',
    `# scripts/package.js: onnxruntime-node binaries of other targets than ${target}`,
    ...folders.filter((f) => f.target !== target).map((f) => `${f.dir}/**`),
    ...(UNUSED_BINARIES[target] ?? []).flatMap((p) => own.map((f) => `${f.dir}/${p}`)),
  ];
  const m = manifest();
  const options = {
    cwd: root,
    target,
    readmePath: README_PATH,
    changelogPath: CHANGELOG_PATH,
    useYarn: false,
    dependencies: true,
    // Without a repository URL vsce cannot make README's relative links absolute (and stops at the first).
    ...(m.repository ? {} : { allowMissingRepository: true, rewriteRelativeLinks: false }),
    ...(fs.readdirSync(root).some((f) => /^licen[cs]e(\.md|\.txt)?$/i.test(f)) ? {} : { skipLicense: true }),
  };
  return { ignoreText: `${ignore.join('\n')}\n`, options };
}

function vsce() {
  return require(path.join(root, 'node_modules', '@vscode', 'vsce'));
}

/** Runs fn(vsce options with ignoreFile) with target's ignore file written to a temporary folder. */
async function withPlan(target, fn) {
  const plan = packagePlan(target);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vsce-'));
  try {
    const ignoreFile = path.join(dir, '.vscodeignore');
    fs.writeFileSync(ignoreFile, plan.ignoreText);
    return await fn({ ...plan.options, ignoreFile });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The files (repository-relative, '/'-separated) vsce puts into target's package, as the packaging computes them. */
function listPackageFiles(target) {
  return withPlan(target, (options) => vsce().listFiles({ ...options, packageManager: vsce().PackageManager.Npm }));
}

function printFiles(target, files) {
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
}

/** Runs fn with vsce's console output (its file tree, its warning about node_modules' files) held back unless it fails. */
async function quietly(fn) {
  const held = [];
  const saved = { log: console.log, info: console.info, warn: console.warn };
  console.log = console.info = console.warn = (...args) => { held.push(args.join(' ')); };
  try {
    return await fn();
  } catch (error) {
    process.stderr.write(`${held.join('\n')}\n`);
    throw error;
  } finally {
    Object.assign(console, saved);
  }
}

/** Builds target's .vsix at out; returns its size in bytes. */
async function buildPackage(target, out) {
  const t0 = Date.now();
  const files = await listPackageFiles(target);
  printFiles(target, files);
  await quietly(() => withPlan(target, (options) => vsce().createVSIX({ ...options, packagePath: out })));
  const size = fs.statSync(out).size;
  console.log(`packaged ${target} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${(size / 1e6).toFixed(1)} MB (${size} bytes)`);
  console.log(`vsix: ${out}`);
  return size;
}

async function main(argv) {
  const m = manifest();
  const targets = argv.includes('--all') ? TARGETS
    : argv.length > 0 ? argv
      : [process.env.VSCE_TARGET || `${process.platform}-${process.arch}`];
  if (process.env.VSIX_OUT && targets.length > 1) throw new Error('VSIX_OUT names one package; give one target');
  const model = embeddedModelName();
  if (!fs.existsSync(path.join(root, 'models', model, 'model_index.json'))) {
    console.warn(`warning: the embedded model models/${model}/ has no model_index.json yet: the .vsix will lack it`);
  }
  for (const t of targets) packagePlan(t); // every target known before building anything
  const r = spawnSync(process.execPath, ['esbuild.js', '--production'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`expected 'node esbuild.js --production' to succeed; exit ${r.status}`);
  const sizes = [];
  for (const target of targets) {
    const out = path.resolve(root, process.env.VSIX_OUT || `${m.name}-${target}-${m.version}.vsix`);
    sizes.push([target, out, await buildPackage(target, out)]);
  }
  if (sizes.length > 1) {
    console.log('\npackages:');
    for (const [target, out, size] of sizes) console.log(`  ${target.padEnd(13)} ${(size / 1e6).toFixed(1).padStart(6)} MB  ${path.relative(root, out)}`);
  }
}

module.exports = { TARGETS, UNUSED_BINARIES, README_PATH, CHANGELOG_PATH, ortBinaryFolders, embeddedModelName, packagePlan, listPackageFiles };

if (require.main === module) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(String(error && error.message ? error.message : error));
    process.exit(1);
  });
}
