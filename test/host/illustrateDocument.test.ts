/**
 * "Illustrate Document" in the extension bundle, activated against the stub `vscode` with the real engine on a tiny
 * model: the review panel's rows and candidates, pick / skip / regenerate, Apply as one edit on a changed document,
 * closing without Apply, and the review's message guard.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildTestExtension } from '../fixtures/extensionBundle';
import { createContextParts, createVscodeStub, installVscodeStub, type StubPanel } from '../fixtures/vscodeStub';
import { readPngText } from '../../src/engine/image';
import type { ReviewState } from '../../src/protocol/reviewMessages';
import type { InlineDiffusionApi } from '../../src/extension';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inline-diffusion-doc-'));
const extensionDir = path.join(root, 'extension');
const workspace = path.join(root, 'workspace');
process.env.INLINE_DIFFUSION_COMPILE_CACHE = path.join(root, 'compile-cache');
const stub = createVscodeStub({ workspaceFolder: workspace, config: { steps: 2, sampler: 'euler_a', threads: 1, executionProvider: 'cpu', candidates: 2 } });
let uninstall: () => void = () => undefined;
let subscriptions: Array<{ dispose(): unknown }> = [];
let api: InlineDiffusionApi;
const storage = path.join(root, 'storage');

before(async () => {
  fs.mkdirSync(workspace, { recursive: true });
  await buildTestExtension(extensionDir);
  uninstall = installVscodeStub(stub.vscode);
  const extension = require(path.join(extensionDir, 'dist/extension.js')) as { activate(context: unknown): unknown };
  const context = { subscriptions, extensionUri: stub.vscode.Uri.file(extensionDir), ...createContextParts(storage) };
  api = extension.activate(context) as InlineDiffusionApi;
  subscriptions = context.subscriptions;
});

after(async () => {
  for (const s of subscriptions.reverse()) await s.dispose();
  uninstall();
});

async function until(check: () => boolean, what: string | (() => string), timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function review(): StubPanel {
  const p = stub.panels.filter((x) => x.viewType === 'inlineDiffusion.reviewPanel').at(-1);
  assert.ok(p, 'expected a review panel');
  return p;
}

function lastState(p = review()): ReviewState {
  const states = (p.posted as Array<{ type: string; state?: ReviewState }>).filter((m) => m.type === 'state');
  assert.ok(states.length > 0, 'expected a state message');
  return states.at(-1)!.state!;
}

const allDone = (p = review()): boolean => {
  const states = (p.posted as Array<{ type: string; state?: ReviewState }>).filter((m) => m.type === 'state');
  const s = states.at(-1)?.state;
  return s !== undefined && !s.busy && s.rows.every((r) => r.status === 'done' || r.status === 'skipped');
};

const DOC = [
  '---', 'inline-diffusion: {style: flat colours, negative: blurry, seed: 100}', '---',
  '# Shapes', '', '![a red circle]()', '', '![a blue square][sq]', '', 'Text ![a green triangle](missing.png "t") end.', '',
  '![kept](https://example.com/x.png)', '', '[sq]: ', '',
].join('\n');

test('Illustrate Document: three rows of two candidates from the front matter, pick / skip, Apply rewrites the links in one edit', async () => {
  const file = path.join(workspace, 'docs', 'shapes.md');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const doc = stub.openEditor(file, DOC.replace('[sq]: \n', '[sq]: <>\n'), 0);
  await stub.vscode.commands.executeCommand('inlineDiffusion.illustrateDocument');
  const p = review();
  assert.equal(p.title, 'Illustrate shapes.md');
  assert.match(p.webview.html, /default-src &#39;none&#39;;/);
  p.receive.fire({ type: 'ready' });
  await until(() => allDone(p), () => `every row done; last state: ${JSON.stringify(lastState(p)).slice(0, 400)}`);
  const state = lastState(p);
  assert.deepEqual(state.rows.map((r) => [r.alt, r.candidates.map((c) => c.seed)]),
    [['a red circle', [100, 101]], ['a blue square', [102, 103]], ['a green triangle', [104, 105]]]);
  assert.deepEqual([state.style, state.negative, state.candidates], ['flat colours', 'blurry', 2]);
  // the document changes meanwhile: a line above everything, and the second image's text moved
  doc.text = doc.text.replace('# Shapes', '# Shapes\n\nA new intro line.');
  doc.version++;
  p.receive.fire({ type: 'pick', rowId: 0, imageId: state.rows[0].candidates[1].imageId });
  p.receive.fire({ type: 'skip', rowId: 1, skipped: true });
  const applyEdit = stub.vscode.workspace.applyEdit;
  const edits: number[] = [];
  stub.vscode.workspace.applyEdit = async (e) => { edits.push(e.edits.length); return applyEdit(e); };
  p.receive.fire({ type: 'apply' });
  await until(() => stub.messages.some(([, m]) => m.startsWith('Inline Diffusion: Illustrated')), () => JSON.stringify(stub.messages));
  assert.match(doc.text, /!\[a red circle\]\(\.\.\/images\/a-red-circle-flat-colours-101\.png\)/);
  assert.match(doc.text, /!\[a blue square\]\[sq\]/);
  assert.match(doc.text, /\[sq\]: <>/, 'the skipped row keeps its empty definition');
  assert.match(doc.text, /Text !\[a green triangle\]\(\.\.\/images\/a-green-triangle-flat-colours-104\.png "t"\) end\./);
  assert.match(doc.text, /A new intro line\./);
  stub.vscode.workspace.applyEdit = applyEdit;
  assert.deepEqual(edits, [2], 'one WorkspaceEdit (one undo step) for every link');
  const params = readPngText(fs.readFileSync(path.join(workspace, 'images', 'a-red-circle-flat-colours-101.png'))).parameters;
  assert.match(params, /^a red circle, flat colours\nNegative prompt: blurry\nSteps: 2, /);
  assert.ok(!fs.existsSync(path.join(workspace, 'images', 'a-blue-square-flat-colours-102.png')), 'a skipped row saves nothing');
});

test('closing the review without Apply writes nothing; a later review offers the kept candidates again', async () => {
  const file = path.join(workspace, 'later.md');
  const text = '![a yellow star]()\n';
  const doc = stub.openEditor(file, text, 0);
  await stub.vscode.commands.executeCommand('inlineDiffusion.illustrateDocument');
  const first = review();
  first.receive.fire({ type: 'ready' });
  await until(() => allDone(first), 'the first review done');
  const seeds = lastState(first).rows[0].candidates.map((c) => c.seed);
  first.dispose();
  assert.equal(doc.text, text);
  assert.deepEqual((fs.existsSync(path.join(workspace, 'images')) ? fs.readdirSync(path.join(workspace, 'images')) : []).filter((f) => f.startsWith('a-yellow-star')), []);
  await api.generationHost.results?.flush();
  await stub.vscode.commands.executeCommand('inlineDiffusion.illustrateDocument');
  const second = review();
  assert.notEqual(second, first);
  second.receive.fire({ type: 'ready' });
  await until(() => allDone(second), 'the second review');
  const row = lastState(second).rows[0];
  assert.deepEqual([row.candidates.map((c) => c.seed), row.detail], [seeds, 'kept from an earlier review']);
  second.receive.fire({ type: 'regenerate', rowId: 0, prompt: 'a small yellow star' });
  await until(() => allDone(second) && lastState(second).rows[0].candidates.length === 4, 'regenerated candidates');
  assert.equal(lastState(second).rows[0].prompt, 'a small yellow star');
  second.dispose();
});

test('Cancel stops the review\'s generations; malformed review messages become notices', async () => {
  const file = path.join(workspace, 'cancel.md');
  stub.openEditor(file, '![one]()\n![two]()\n![three]()\n', 0);
  stub.state.trusted = false;
  await stub.vscode.commands.executeCommand('inlineDiffusion.illustrateDocument');
  stub.state.trusted = true;
  const p = review();
  p.receive.fire({ type: 'ready' });
  p.receive.fire({ type: 'cancel' });
  await until(() => !lastState(p).busy, 'the review idle after Cancel');
  assert.ok(lastState(p).rows.some((r) => r.status === 'cancelled'), JSON.stringify(lastState(p).rows.map((r) => r.status)));
  const notices = (): unknown[] => (p.posted as Array<{ type: string; message?: string }>).filter((m) => m.type === 'notice' && m.message !== undefined && !m.message.startsWith('Cancelled')).map((m) => m.message);
  for (const bad of [null, { type: 'pick', rowId: 99, imageId: 'x' }, { type: 'regenerate', rowId: 0, prompt: '' }, { type: 'skip', rowId: 0 }, { type: 'nope' }]) p.receive.fire(bad);
  await until(() => notices().length === 5, () => JSON.stringify(notices()));
  assert.deepEqual(notices(), [
    'message: expected an object, got null',
    'pick: expected a row of this review, got 99',
    'regenerate: expected a prompt of 1 to 10000 characters, got ""',
    'skip: expected skipped true or false, got nothing (missing)',
    'message: unknown type "nope" (expected ready, pick, regenerate, skip, setStyle, apply or cancel)',
  ]);
  p.dispose();
});

test('a document without images that need a picture says so', async () => {
  stub.openEditor(path.join(workspace, 'none.md'), '![x](https://example.com/x.png)\n', 0);
  const before = stub.messages.length;
  await stub.vscode.commands.executeCommand('inlineDiffusion.illustrateDocument');
  assert.match(stub.messages[before]?.[1] ?? '', /^Illustrate Document: no image in none\.md needs a picture/);
});

test('the hover on a link to a generated PNG shows its parameters and trusts only its own commands; the Code Action offers Illustrate', async () => {
  const file = path.join(workspace, 'docs', 'hover.md');
  const text = '![a red circle](../images/a-red-circle-flat-colours-101.png) and ![a plan]()\n';
  const doc = stub.openEditor(file, text, 0);
  const hover = stub.providers.find(([kind]) => kind === 'hover')?.[2] as { provideHover(d: unknown, p: unknown): Promise<{ contents: { value: string; isTrusted: unknown } } | undefined> };
  const result = await hover.provideHover(doc, doc.positionAt(5));
  assert.ok(result, 'expected a hover');
  assert.match(result.contents.value, /\*\*a red circle, flat colours\*\*/);
  assert.match(result.contents.value, /Negative: blurry/);
  assert.match(result.contents.value, /Steps: 2 · Sampler: Euler a · CFG scale: 7\\\.5 · Seed: 101 · Size: 64x64/);
  assert.deepEqual(result.contents.isTrusted, { enabledCommands: ['inlineDiffusion.regenerateImage', 'inlineDiffusion.imageVariations', 'inlineDiffusion.openImageInPanel', 'inlineDiffusion.revealImage'] });
  assert.equal(await hover.provideHover(doc, doc.positionAt(text.indexOf('a plan'))), undefined, 'no file yet: no hover');

  const actions = stub.providers.find(([kind]) => kind === 'codeAction')?.[2] as { provideCodeActions(d: unknown, r: unknown): Array<{ title: string; command: { command: string } }> };
  const at = doc.positionAt(text.indexOf('a plan') + 2);
  assert.deepEqual(actions.provideCodeActions(doc, new stub.vscode.Range(at, at)).map((a) => [a.title, a.command.command]),
    [['Illustrate “a plan”', 'inlineDiffusion.illustrateAltText']]);

  // Regenerate from the hover: the same parameters with a new seed, the link pointed at the new file in one edit
  const link = /command:inlineDiffusion\.regenerateImage\?([^ )]+)/.exec(result.contents.value);
  assert.ok(link);
  const args = JSON.parse(decodeURIComponent(link[1])) as unknown[];
  await stub.vscode.commands.executeCommand('inlineDiffusion.regenerateImage', ...args);
  const m = /^!\[a red circle\]\(\.\.\/images\/a-red-circle-flat-colours-(\d+)\.png\) and/.exec(doc.text);
  assert.ok(m && m[1] !== '101', doc.text);
  const params = readPngText(fs.readFileSync(path.join(workspace, 'images', `a-red-circle-flat-colours-${m[1]}.png`))).parameters;
  assert.match(params, new RegExp(`^a red circle, flat colours\\nNegative prompt: blurry\\nSteps: 2, Sampler: Euler a, CFG scale: 7\\.5, Seed: ${m[1]},`));
});

test('the gallery lists the output folder newest first, sends thumbnails, inserts into markdown, deletes to the trash after asking, follows the folder', async () => {
  const mdFile = path.join(workspace, 'docs', 'gallery.md');
  stub.openEditor(mdFile, 'Pictures: \n', 'Pictures: '.length);
  await stub.vscode.commands.executeCommand('inlineDiffusion.openGallery');
  const p = stub.panels.filter((x) => x.viewType === 'inlineDiffusion.gallery').at(-1);
  assert.ok(p);
  assert.equal(p.title, 'Image Gallery');
  p.receive.fire({ type: 'ready' });
  type Items = { type: 'items'; items: Array<{ path: string; prompt: string; mtimeMs: number }> };
  const lastItems = (): Items | undefined => (p.posted as Items[]).filter((m) => m.type === 'items').at(-1);
  await until(() => lastItems() !== undefined, 'the items');
  const items = lastItems()!.items;
  const onDisk = fs.readdirSync(path.join(workspace, 'images')).filter((f) => f.endsWith('.png'));
  assert.deepEqual(items.map((i) => path.basename(i.path)).sort(), onDisk.sort());
  assert.deepEqual(items.map((i) => i.mtimeMs), [...items.map((i) => i.mtimeMs)].sort((a, b) => b - a), 'newest first');
  const fox = items.find((i) => i.prompt === 'a red circle, flat colours');
  assert.ok(fox, JSON.stringify(items.map((i) => i.prompt)));

  p.receive.fire({ type: 'thumbs', paths: [fox.path] });
  await until(() => (p.posted as Array<{ type: string; src?: string }>).some((m) => m.type === 'thumb' && m.src?.startsWith('data:image/png;base64,')), 'a thumbnail');

  p.receive.fire({ type: 'action', action: 'insert', path: fox.path });
  const doc = await stub.vscode.workspace.openTextDocument(stub.vscode.Uri.file(mdFile));
  await until(() => doc.getText().includes('!['), 'the inserted link');
  assert.equal(doc.getText(), `Pictures: ![a red circle, flat colours](../images/${path.basename(fox.path)})\n`);

  const victim = items[items.length - 1].path;
  stub.answers.push(''); // the confirmation dismissed: nothing is deleted
  p.receive.fire({ type: 'action', action: 'delete', path: victim });
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(fs.existsSync(victim));
  stub.answers.push('Move to Trash');
  p.receive.fire({ type: 'action', action: 'delete', path: victim });
  await until(() => stub.trashed.length === 1, 'the deletion');
  assert.deepEqual(stub.trashed, [[victim, true]]);
  await until(() => !lastItems()!.items.some((i) => i.path === victim), 'the list without the deleted image');

  const added = path.join(workspace, 'images', 'dropped-in.png');
  fs.copyFileSync(fox.path, added);
  stub.watcher.created.fire(stub.vscode.Uri.file(added));
  await until(() => lastItems()!.items.some((i) => i.path === added), 'the new file listed after the watcher fired');

  const before = p.posted.length;
  p.receive.fire({ type: 'action', action: 'reveal', path: '/etc/passwd' });
  await until(() => p.posted.length > before, 'a notice');
  assert.deepEqual(p.posted.at(-1), { type: 'notice', level: 'error', message: 'action: expected a listed image, got "/etc/passwd"' });
  p.dispose();
});

test('the alt-text progress notification closes once the image is written, after a last "saving" report', async () => {
  const file = path.join(workspace, 'progress.md');
  const text = '![a purple star]()\n';
  stub.openEditor(file, text, 4);
  const withProgress = stub.vscode.window.withProgress;
  const closedWith: string[][] = [];
  stub.vscode.window.withProgress = (async (o: never, task: never) => {
    const result = await withProgress(o, task);
    closedWith.push(fs.readdirSync(path.join(workspace, 'images')).filter((f) => f.startsWith('a-purple-star-')));
    return result;
  }) as typeof withProgress;
  const before = stub.progressReports.length;
  try {
    await stub.vscode.commands.executeCommand('inlineDiffusion.illustrateAltText');
  } finally {
    stub.vscode.window.withProgress = withProgress;
  }
  assert.equal(closedWith.length, 1);
  assert.equal(closedWith[0].length, 1, 'the PNG was written when the notification closed');
  assert.equal(stub.progressReports.slice(before).at(-1)?.message, 'saving the image…');
});
