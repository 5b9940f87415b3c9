/**
 * npm run package:all — each target's file list, computed by the function the packaging itself uses
 * (scripts/package.js: packagePlan + vsce's listFiles), without building a package: exactly its own ONNX Runtime
 * binaries and no other platform's, the manifest's main and the bundles it loads, the webview assets, the embedded
 * model, the Marketplace README and the changelog; darwin-x64 has no package. Needs the bundles (npm run build).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

interface PackagingScript {
  readonly TARGETS: readonly string[];
  readonly README_PATH: string;
  readonly CHANGELOG_PATH: string;
  embeddedModelName(): string;
  packagePlan(target: string): { ignoreText: string; options: Record<string, unknown> };
  listPackageFiles(target: string): Promise<string[]>;
}

const repo = path.resolve(__dirname, '../..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const packaging = require(path.join(repo, 'scripts', 'package.js')) as PackagingScript;
const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { main: string };
const ortBin = 'node_modules/onnxruntime-node/bin/napi-v6';
const marketplaceImages = [...fs.readFileSync(path.join(repo, packaging.README_PATH), 'utf8').replace(/`[^`\n]*`/g, '').matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);

/** The ONNX Runtime files each target needs: the binding, the runtime it links, and DirectML's on Windows. */
const nativeFiles: Record<string, readonly string[]> = {
  'linux-x64': ['libonnxruntime.so.1', 'onnxruntime_binding.node'],
  'linux-arm64': ['libonnxruntime.so.1', 'onnxruntime_binding.node'],
  'win32-x64': ['DirectML.dll', 'dxcompiler.dll', 'dxil.dll', 'onnxruntime.dll', 'onnxruntime_binding.node'],
  'win32-arm64': ['DirectML.dll', 'dxcompiler.dll', 'dxil.dll', 'onnxruntime.dll', 'onnxruntime_binding.node'],
  'darwin-arm64': ['libonnxruntime.1.dylib', 'onnxruntime_binding.node'],
};
const isNative = (f: string): boolean => /\.(node|dll|dylib)$|\.so(\.\d+)*$/.test(f);

function filesUnder(dir: string): string[] {
  return fs.readdirSync(path.join(repo, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(repo, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
}

test('the packaged targets are the five onnxruntime-node ships binaries for', () => {
  assert.deepEqual([...packaging.TARGETS].sort(), Object.keys(nativeFiles).sort());
});

test('darwin-x64 has no package: onnxruntime-node has no binaries for it', () => {
  assert.throws(() => packaging.packagePlan('darwin-x64'), /no package for darwin-x64: onnxruntime-node has binaries for .*linux-x64/);
});

/** The files the manifest's walkthroughs show (each step's markdown or image), and every page of media/walkthrough/. */
const walkthroughFiles = [...new Set([
  ...[...JSON.stringify((manifest as { contributes?: { walkthroughs?: unknown } }).contributes?.walkthroughs ?? [])
    .matchAll(/"(?:markdown|image|svg)":"([^"]+)"/g)].map((m) => path.posix.normalize(m[1])),
  ...filesUnder('media/walkthrough').filter((f) => f.endsWith('.md')),
])];

test('the walkthrough\'s pages are known: four markdown files', () => {
  assert.deepEqual(walkthroughFiles.filter((f) => f.endsWith('.md')).sort(),
    ['media/walkthrough/download.md', 'media/walkthrough/generate.md', 'media/walkthrough/gpu.md', 'media/walkthrough/illustrate.md']);
});

for (const target of Object.keys(nativeFiles)) {
  test(`${target}: its own ONNX Runtime binaries only, main, webview assets, embedded model, README and changelog`, async () => {
    const files = await packaging.listPackageFiles(target);
    const [platform, arch] = target.split('-');
    assert.deepEqual(files.filter(isNative).sort(), nativeFiles[target].map((f) => `${ortBin}/${platform}/${arch}/${f}`).sort());

    const main = path.posix.normalize(manifest.main);
    assert.ok(fs.existsSync(path.join(repo, main)), `expected ${main}: run npm run build first`);
    const model = `models/${packaging.embeddedModelName()}`;
    const required = [
      'package.json', main, 'dist/host-lazy.js', 'dist/engine.js', 'dist/engine-main.js',
      'dist/webview/main.js', 'dist/webview/main.css', 'media/icon.png',
      // the review panel's and the gallery's webviews, and the walkthrough's pages (every one package.json names)
      'dist/webview/review.js', 'dist/webview/review.css', 'dist/webview/gallery.js', 'dist/webview/gallery.css',
      ...walkthroughFiles,
      ...filesUnder(model), // every file of the embedded model, model_index.json and each model.onnx among them
      packaging.README_PATH, packaging.CHANGELOG_PATH, 'node_modules/onnxruntime-node/package.json',
      ...marketplaceImages, // the page's screenshots, shown by VS Code's extension view from the package
    ];
    assert.ok(filesUnder(model).includes(`${model}/unet/model.onnx`));
    assert.deepEqual(required.filter((f) => !files.includes(f)), [], `missing from the ${target} package`);
    const unwanted = files.filter((f) => /^(src|test|webview|scripts|bench|models\/train)\//.test(f) || f === 'README.md' || f.endsWith('.map'));
    assert.deepEqual(unwanted, [], `sources, tests, source maps or the developers' README in the ${target} package`);
  });
}
