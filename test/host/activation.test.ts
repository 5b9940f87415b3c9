/**
 * The extension bundle activated in plain Node against a stub `vscode` (test/fixtures/vscodeStub.ts): cheap
 * activation without ONNX Runtime, the commands of package.json, the panel's message handling (malformed messages
 * included), a whole generation through the real engine process on a tiny random model, and "Illustrate Alt Text".
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildTestExtension } from '../fixtures/extensionBundle';
import { createContextParts, createVscodeStub, installVscodeStub, type StubPanel } from '../fixtures/vscodeStub';
import { readPngText } from '../../src/engine/image/png';
import type { PanelParams } from '../../src/protocol/webviewMessages';
import type { InlineDiffusionApi } from '../../src/extension';

const repo = path.resolve(__dirname, '../..');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inline-diffusion-ext-'));
const extensionDir = path.join(root, 'extension');
const workspace = path.join(root, 'workspace');
// The engine processes the host forks inherit this: their compile cache goes here, not to the user's cache folder.
const compileCache = path.join(root, 'compile-cache');
process.env.INLINE_DIFFUSION_COMPILE_CACHE = compileCache;
const stub = createVscodeStub({ workspaceFolder: workspace, config: { steps: 3, sampler: 'euler_a', threads: 1, executionProvider: 'cpu' } });
let uninstall: () => void = () => undefined;
let subscriptions: Array<{ dispose(): unknown }> = [];
let activationMs = 0;
let api: InlineDiffusionApi;

before(async () => {
  fs.mkdirSync(workspace, { recursive: true });
  await buildTestExtension(extensionDir);
  uninstall = installVscodeStub(stub.vscode);
  const t0 = performance.now();
  const extension = require(path.join(extensionDir, 'dist/extension.js')) as { activate(context: unknown): unknown };
  const context = { subscriptions, extensionUri: stub.vscode.Uri.file(extensionDir), ...createContextParts(path.join(root, 'storage')) };
  api = extension.activate(context) as InlineDiffusionApi;
  activationMs = performance.now() - t0;
  subscriptions = context.subscriptions;
});

after(async () => {
  for (const s of subscriptions.reverse()) await s.dispose();
  uninstall();
});

function panel(): StubPanel {
  const p = stub.panels[stub.panels.length - 1];
  assert.ok(p, 'expected a panel');
  return p;
}

function posted(type: string): Array<Record<string, unknown>> {
  return (panel().posted as Array<Record<string, unknown>>).filter((m) => m.type === type);
}

async function until(check: () => boolean, what: string | (() => string), timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('activation registers exactly package.json\'s commands, cheaply, without loading ONNX Runtime', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { contributes: { commands: Array<{ command: string }> } };
  assert.deepEqual([...stub.commands.keys()].sort(), manifest.contributes.commands.map((c) => c.command).sort());
  assert.deepEqual(Object.keys(require.cache).filter((k) => k.includes('onnxruntime')), []);
  console.log(`activation (require + activate, stub vscode): ${activationMs.toFixed(1)} ms`);
  assert.ok(activationMs < 500, `activation took ${activationMs} ms`);
});

test('Generate Image opens the panel with a strict CSP; malformed messages become inline notices', async () => {
  await stub.vscode.commands.executeCommand('inlineDiffusion.generateImage');
  assert.deepEqual([panel().viewType, panel().title], ['inlineDiffusion.generatePanel', 'Generate Image']);
  await until(() => panel().webview.html.includes('Content-Security-Policy'), 'the HTML');
  assert.match(panel().webview.html, /content="default-src &#39;none&#39;; /);
  panel().receive.fire({ type: 'ready' });
  await until(() => posted('setup').length > 0, 'the setup');
  const setup = posted('setup')[0].setup as { models: Array<{ nativeSize: number; problem: string | null }>; defaults: PanelParams };
  assert.deepEqual(setup.models.map((m) => [m.nativeSize, m.problem]), [[64, null]]);
  const before = posted('notice').length;
  for (const bad of [null, 42, 'x', { type: 'generate' }, { type: 'generate', params: { ...setup.defaults, steps: -1 } }, { type: 'open', imageId: '../x' }, { type: 'nope' }]) {
    panel().receive.fire(bad);
  }
  await until(() => posted('notice').length === before + 7, 'seven notices');
  assert.deepEqual(posted('notice').slice(before).map((n) => [n.level, n.field]),
    [['error', null], ['error', null], ['error', null], ['error', null], ['error', 'steps'], ['error', null], ['error', null]]);
});

test('a panel generation runs the engine process, streams previews, and auto-saves the PNG with its parameters', async () => {
  const setup = posted('setup')[0].setup as { defaults: PanelParams };
  panel().receive.fire({ type: 'generate', params: { ...setup.defaults, prompt: 'a red circle', randomSeed: false, seed: 7, batchCount: 2 } });
  await until(() => posted('jobEnded').length > 0, 'the job to end');
  assert.deepEqual(posted('jobEnded').map((m) => [m.outcome, m.message]), [['finished', null]]);
  const progress = posted('progress');
  assert.deepEqual(progress.map((p) => `${p.imageIndex}:${p.step}/${p.totalSteps}`), ['0:1/3', '0:2/3', '0:3/3', '1:1/3', '1:2/3', '1:3/3']);
  const preview = (progress[0].previews as Array<{ width: number; height: number; rgb: unknown }>)[0];
  assert.ok(preview.rgb instanceof Uint8Array && preview.rgb.length === preview.width * preview.height * 3);
  const images = posted('image').map((m) => m.image as { seed: number; src: string });
  assert.deepEqual(images.map((im) => [im.seed, im.src.startsWith('data:image/png;base64,')]), [[7, true], [8, true]]);
  await until(() => posted('saved').length === 2, 'two saves');
  const files = fs.readdirSync(path.join(workspace, 'images')).sort();
  assert.deepEqual(files, ['a-red-circle-7.png', 'a-red-circle-8.png']);
  const params = readPngText(fs.readFileSync(path.join(workspace, 'images', files[0]))).parameters;
  assert.match(params, /^a red circle\nSteps: 3, Sampler: Euler a, CFG scale: 7\.5, Seed: 7, Size: 64x64, /);
  // After its first generation the engine process saved V8's cache of its bundle, for the next engine to start from.
  await until(() => fs.existsSync(compileCache) && fs.readdirSync(compileCache).some((f) => /^engine-main\.js-[0-9a-f]{8}\.cache$/.test(f)), 'the engine\'s compile cache');
});

test('Illustrate Alt Text saves the image and rewrites the link relative to the document, in one edit', async () => {
  const file = path.join(workspace, 'docs', 'post.md');
  const text = '# Post\n\n![a blue square](todo.png "T") and ![other]()\n';
  const doc = stub.openEditor(file, text, text.indexOf('blue'));
  await stub.vscode.commands.executeCommand('inlineDiffusion.illustrateAltText');
  const match = /^# Post\n\n!\[a blue square\]\(\.\.\/images\/a-blue-square-(\d+)\.png "T"\) and !\[other\]\(\)\n$/.exec(doc.text);
  assert.ok(match, `unexpected document: ${doc.text}`);
  assert.equal(doc.version, 2);
  assert.ok(fs.existsSync(path.join(workspace, 'images', `a-blue-square-${match[1]}.png`)));
});

test('Illustrate Alt Text lands on the same image when the document changed during the generation', async () => {
  const file = path.join(workspace, 'notes.md');
  const text = 'intro\n![a green triangle]()\n';
  const doc = stub.openEditor(file, text, text.indexOf('green'));
  const running = stub.vscode.commands.executeCommand('inlineDiffusion.illustrateAltText');
  doc.text = `added line\n${doc.text}`;
  doc.version++;
  stub.changeDocument.fire({ document: doc, contentChanges: [{ rangeOffset: 0, rangeLength: 0, text: 'added line\n' }] });
  await running;
  assert.match(doc.text, /^added line\nintro\n!\[a green triangle\]\(images\/a-green-triangle-\d+\.png\)\n$/);
});

test('with the cursor outside any image and nothing selected, it says what to do', async () => {
  stub.openEditor(path.join(workspace, 'plain.md'), 'no images here', 3);
  const before = stub.messages.length;
  await stub.vscode.commands.executeCommand('inlineDiffusion.illustrateAltText');
  assert.deepEqual(stub.messages.slice(before), [['info', 'Illustrate Alt Text: put the cursor inside an image\'s alt text, ![like this](), or select the text to illustrate.']]);
});

test('an engine crash shows an error with Retry, and the retried generation works in a fresh engine', async () => {
  const setup = posted('setup')[0].setup as { defaults: PanelParams };
  const firstPid = api.generationHost.engine.pid;
  assert.ok(firstPid, 'the engine runs after the first generation');
  const killOnce = api.generationHost.service.onProgress(() => {
    killOnce.dispose();
    process.kill(api.generationHost.engine.pid ?? 0, 'SIGKILL');
  });
  stub.answers.push('Retry');
  const ends = posted('jobEnded').length;
  const before = stub.messages.length;
  // enough steps that the kill lands mid-run (a 3-step run on the tiny model may finish before the signal)
  panel().receive.fire({ type: 'generate', params: { ...setup.defaults, prompt: 'crash test', steps: 900, randomSeed: false, seed: 11 } });
  await until(() => posted('jobEnded').length === ends + 2,
    () => `the crashed job and its retry; messages: ${JSON.stringify(stub.messages.slice(before))}; ended: ${JSON.stringify(posted('jobEnded').slice(ends))}`);
  assert.deepEqual(posted('jobEnded').slice(ends).map((m) => m.outcome), ['failed', 'finished'], JSON.stringify(posted('jobEnded').slice(ends)));
  assert.match(stub.messages[before][1], /^Inline Diffusion: the engine stopped: the engine stopped unexpectedly \(signal SIGKILL\)/);
  assert.notEqual(api.generationHost.engine.pid, firstPid);
  await until(() => fs.existsSync(path.join(workspace, 'images', 'crash-test-11.png')), 'the retried image');
});

test('Cancel Image Generation stops the running generation', async () => {
  const setup = posted('setup')[0].setup as { defaults: PanelParams };
  const ends = posted('jobEnded').length;
  const progressBefore = posted('progress').length;
  const cancelOnce = api.generationHost.service.onProgress((p) => {
    if (p.step < 5) return;
    cancelOnce.dispose();
    void stub.vscode.commands.executeCommand('inlineDiffusion.cancel');
  });
  panel().receive.fire({ type: 'generate', params: { ...setup.defaults, prompt: 'long one', steps: 900, randomSeed: false, seed: 3 } });
  await until(() => posted('jobEnded').length === ends + 1, 'the cancelled job');
  assert.equal(posted('jobEnded')[ends].outcome, 'cancelled');
  assert.ok(posted('progress').length - progressBefore < 900);
  assert.equal(fs.existsSync(path.join(workspace, 'images', 'long-one-3.png')), false);
});

test('Reuse Parameters from Image loads an A1111 PNG\'s parameters into the panel', async () => {
  // written by PIL 9.4 with PngInfo.add_text('parameters', …), as A1111 saves (from png.test.ts's recordings)
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAAbHRFWHRwYXJhbWV0ZXJzAGEgY2F0Ck5lZ2F0aXZlIHByb21wdDogYmx1cnJ5ClN0ZXBzOiAyMCwgU2FtcGxlcjogRXVsZXIgYSwgQ0ZHIHNjYWxlOiA3LjAsIFNlZWQ6IDEsIFNpemU6IDUxMng1MTKX+fSQAAAADElEQVR4nGPgEpEDAABoAD1UCKP3AAAAAElFTkSuQmCC', 'base64');
  const file = path.join(workspace, 'a1111.png');
  fs.writeFileSync(file, png);
  await stub.vscode.commands.executeCommand('inlineDiffusion.reuseParameters', stub.vscode.Uri.file(file));
  const loaded = posted('loadParams').at(-1) as { params: PanelParams; note: string };
  assert.deepEqual({ ...loaded.params, model: '' }, {
    prompt: 'a cat', negativePrompt: 'blurry', sampler: 'euler_a', steps: 20, cfgScale: 7, seed: 1, randomSeed: false,
    width: 512, height: 512, batchCount: 1, model: '', clipSkip: 1,
  });
  assert.equal(loaded.note, 'Loaded from a1111.png.');
});

test('Insert into Markdown puts ![prompt](relative path) at the last markdown cursor, with the panel focused', async () => {
  const image = posted('image').map((m) => m.image as { imageId: string; seed: number }).find((im) => im.seed === 7);
  assert.ok(image);
  const doc = stub.openEditor(path.join(workspace, 'docs', 'insert.md'), 'Before.\n\nAfter.\n', 'Before.\n'.length);
  stub.state.activeTextEditor = undefined; // the panel has the focus now
  panel().receive.fire({ type: 'insert', imageId: image.imageId });
  await until(() => doc.text !== 'Before.\n\nAfter.\n', 'the insert');
  assert.equal(doc.text, 'Before.\n![a red circle](../images/a-red-circle-7.png)\nAfter.\n');
});
