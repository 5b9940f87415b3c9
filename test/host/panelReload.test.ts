/**
 * Results outlive a window reload: with auto-save off, the extension keeps each unsaved image in its storage; a
 * second activation (the reloaded window) restores the panel through the serializer, and Save / Open / Insert on
 * the ids the webview's state still holds work; Discard forgets one. The bundle runs against the stub `vscode`
 * with the real engine process on a tiny random model (as host.activation.test.ts does).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildTestExtension } from '../fixtures/extensionBundle';
import { createContextParts, createVscodeStub, installVscodeStub, StubPanel } from '../fixtures/vscodeStub';
import type { ImageResult, PanelParams } from '../../src/protocol/webviewMessages';
import type { InlineDiffusionApi } from '../../src/extension';
import { firstLine } from '../../src/common/firstLine';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inline-diffusion-reload-'));
const extensionDir = path.join(root, 'extension');
const workspace = path.join(root, 'workspace');
const storage = path.join(root, 'storage');
const stub = createVscodeStub({ workspaceFolder: workspace, config: { steps: 2, sampler: 'euler_a', threads: 1, executionProvider: 'cpu', autoSave: false } });
const opened: string[] = [];
let uninstall: () => void = () => undefined;
let window: { api: InlineDiffusionApi; subscriptions: Array<{ dispose(): unknown }> } | undefined;

/** Activates the bundle as a (re)loaded window does: a fresh module, the same storage folders. */
function activateWindow(): { api: InlineDiffusionApi; subscriptions: Array<{ dispose(): unknown }> } {
  const file = path.join(extensionDir, 'dist/extension.js');
  delete require.cache[require.resolve(file)];
  const extension = require(file) as { activate(context: unknown): unknown };
  const subscriptions: Array<{ dispose(): unknown }> = [];
  const context = { subscriptions, extensionUri: stub.vscode.Uri.file(extensionDir), storageUri: stub.vscode.Uri.file(path.join(storage, 'ws')), ...createContextParts(path.join(storage, 'global')) };
  return { api: extension.activate(context) as InlineDiffusionApi, subscriptions };
}

async function closeWindow(): Promise<void> {
  for (const s of (window?.subscriptions ?? []).reverse()) await s.dispose();
  window = undefined;
}

before(async () => {
  fs.mkdirSync(workspace, { recursive: true });
  await buildTestExtension(extensionDir);
  uninstall = installVscodeStub(stub.vscode);
  stub.commands.set('vscode.open', (uri: unknown) => { opened.push((uri as { fsPath: string }).fsPath); });
});

after(async () => {
  await closeWindow();
  uninstall();
});

function posted(p: StubPanel, type: string): Array<Record<string, unknown>> {
  return (p.posted as Array<Record<string, unknown>>).filter((m) => m.type === type);
}

async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The panel as VS Code restores it after a reload: the serializer gets a fresh webview panel. */
async function restoredPanel(): Promise<StubPanel> {
  const p = new StubPanel('inlineDiffusion.generatePanel', 'Generate Image');
  await window!.api.panels.deserializeWebviewPanel(p as never);
  p.receive.fire({ type: 'ready' });
  await until(() => posted(p, 'setup').length > 0, 'the setup');
  return p;
}

test('unsaved results survive a window reload: Save, Open and Insert work on the restored ids; Discard forgets one', async () => {
  window = activateWindow();
  await stub.vscode.commands.executeCommand('inlineDiffusion.generateImage');
  const first = stub.panels[stub.panels.length - 1];
  first.receive.fire({ type: 'ready' });
  await until(() => posted(first, 'setup').length > 0, 'the setup');
  const defaults = (posted(first, 'setup')[0].setup as { defaults: PanelParams }).defaults;
  first.receive.fire({ type: 'generate', params: { ...defaults, prompt: 'a red circle', randomSeed: false, seed: 7, batchCount: 3 } });
  await until(() => posted(first, 'jobEnded').length > 0, 'the job to end');
  const images = posted(first, 'image').map((m) => m.image as ImageResult);
  assert.deepEqual(images.map((im) => [im.seed, im.savedPath]), [[7, null], [8, null], [9, null]]);
  assert.equal(fs.existsSync(path.join(workspace, 'images')), false, 'auto-save is off: nothing saved yet');
  await window.api.generationHost.results?.flush();
  const pngs = images.map((im) => Buffer.from(im.src.slice('data:image/png;base64,'.length), 'base64'));

  await closeWindow(); // the reload: the extension host and its memory are gone
  window = activateWindow();
  const p = await restoredPanel();

  // the webview's saved state may be older than the last results: the host hands its kept ones over again
  await until(() => posted(p, 'image').length === 3, 'the kept results');
  assert.deepEqual(posted(p, 'image').map((m) => [(m.image as ImageResult).imageId, (m.image as ImageResult).src]), images.map((im) => [im.imageId, im.src]));
  p.receive.fire({ type: 'save', imageId: images[0].imageId });
  await until(() => posted(p, 'saved').length === 1, 'the save');
  assert.deepEqual(posted(p, 'saved')[0], { type: 'saved', imageId: images[0].imageId, savedPath: path.join('images', 'a-red-circle-7.png') });
  assert.deepEqual(fs.readFileSync(path.join(workspace, 'images', 'a-red-circle-7.png')), pngs[0]);

  p.receive.fire({ type: 'open', imageId: images[1].imageId }); // Open saves first, then opens the file
  await until(() => opened.length === 1, 'the open');
  assert.deepEqual(opened, [path.join(workspace, 'images', 'a-red-circle-8.png')]);
  assert.deepEqual(fs.readFileSync(opened[0]), pngs[1]);

  // A history entry shows its image again with its buttons (an older job's unsaved image can be saved that way).
  p.receive.fire({ type: 'show', imageId: images[2].imageId });
  await until(() => posted(p, 'image').length === 4, 'the shown image');
  assert.deepEqual([(posted(p, 'image')[3].image as ImageResult).imageId, (posted(p, 'image')[3].image as ImageResult).savedPath,
    (posted(p, 'image')[3].image as ImageResult).src], [images[2].imageId, null, images[2].src]);
  p.receive.fire({ type: 'show', imageId: images[0].imageId });
  await until(() => posted(p, 'image').length === 5, 'the shown saved image');
  assert.equal((posted(p, 'image')[4].image as ImageResult).savedPath, path.join('images', 'a-red-circle-7.png'));

  p.receive.fire({ type: 'discard', imageId: images[2].imageId });
  await window.api.generationHost.results?.flush();
  p.receive.fire({ type: 'show', imageId: images[2].imageId });
  await until(() => posted(p, 'notice').some((m) => /no longer kept by the extension/.test(String(m.message))), 'the notice for a discarded image');
  assert.equal(posted(p, 'image').length, 5);

  await closeWindow(); // a second reload: saved results refer to their files
  window = activateWindow();
  const q = await restoredPanel();
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(posted(q, 'image'), [], 'nothing unsaved is left to hand over');
  const doc = stub.openEditor(path.join(workspace, 'docs', 'post.md'), 'Intro.\n\nEnd.\n', 'Intro.\n'.length);
  stub.state.activeTextEditor = undefined; // the panel has the focus
  q.receive.fire({ type: 'insert', imageId: images[0].imageId });
  await until(() => doc.text !== 'Intro.\n\nEnd.\n', 'the insert');
  assert.equal(doc.text, 'Intro.\n![a red circle](../images/a-red-circle-7.png)\nEnd.\n');
  await until(() => posted(q, 'notice').length === 1, 'the insert notice');
  q.receive.fire({ type: 'save', imageId: images[2].imageId });
  await until(() => posted(q, 'notice').length === 2, 'a notice');
  assert.match(String(posted(q, 'notice')[1].message), /^That image is no longer kept by the extension \(it was discarded/);
  assert.deepEqual(fs.readdirSync(path.join(workspace, 'images')).sort(), ['a-red-circle-7.png', 'a-red-circle-8.png']);
  const kept = fs.readdirSync(path.join(storage, 'ws', 'results')).sort();
  assert.deepEqual(kept, [`${images[0].imageId}.json`, `${images[1].imageId}.json`], 'no PNG copies left once saved or discarded');
});

test('a save while the panel is hidden (its webview destroyed) reaches the webview when it is back', async () => {
  const q = window!.api.panels.panel!.panel as unknown as StubPanel; // the panel restored after the second reload
  const defaults = (posted(q, 'setup')[0].setup as { defaults: PanelParams }).defaults;
  const endsBefore = posted(q, 'jobEnded').length;
  q.receive.fire({ type: 'generate', params: { ...defaults, prompt: 'hidden save', randomSeed: false, seed: 21, batchCount: 1 } });
  await until(() => posted(q, 'jobEnded').length > endsBefore, 'the job to end');
  const image = posted(q, 'image').map((m) => m.image as ImageResult).find((im) => im.seed === 21);
  assert.ok(image);
  q.viewState.fire({ webviewPanel: { visible: false } as unknown as StubPanel });
  const savesBefore = posted(q, 'saved').length;
  const held = await window!.api.generationHost.findImage(image.imageId);
  assert.ok(held);
  await window!.api.generationHost.save(held); // as an illustration or a command would, with the webview gone
  assert.equal(posted(q, 'saved').length, savesBefore, 'nothing posted to a destroyed webview');
  q.receive.fire({ type: 'ready' });
  await until(() => posted(q, 'saved').length === savesBefore + 1, 'the save handed over');
  assert.deepEqual(posted(q, 'saved')[savesBefore], { type: 'saved', imageId: image.imageId, savedPath: path.join('images', 'hidden-save-21.png') });
});

test('an engine error reaches the panel as one line, never a stack', () => {
  const error = new Error('unet/model.onnx: not an ONNX model\n    at loadModel (engine.js:10:5)\n    at run (engine.js:20:1)');
  assert.equal(firstLine(error.message), 'unet/model.onnx: not an ONNX model');
  assert.equal(firstLine('\n  \nError: x'), 'Error: x');
  assert.equal(firstLine('y'.repeat(400)), `${'y'.repeat(299)}…`);
});
