/**
 * The review panel (Illustrate Document) and the gallery outlive a window reload: VS Code hands each panel back to
 * the serializer registered at activation, with the state its webview kept. The review comes back with its rows,
 * picks, skips, edited prompts and candidates (from the extension's storage, nothing generated again) and Apply
 * still writes the picked images; the gallery comes back listing. The bundle runs against the stub `vscode` with
 * the real engine process on a tiny model; a "reload" is a second activation on the same storage (as
 * panelReload.test.ts does). What VS Code itself does on a reload (calling the serializer with the saved state) is
 * the stub's part here.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildTestExtension } from '../fixtures/extensionBundle';
import { createContextParts, createVscodeStub, installVscodeStub, StubPanel } from '../fixtures/vscodeStub';
import type { ReviewState } from '../../src/protocol/reviewMessages';
import type { InlineDiffusionApi } from '../../src/extension';
import { matchSavedRows, parseSavedReview } from '../../src/review/savedReview';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inline-diffusion-review-reload-'));
const extensionDir = path.join(root, 'extension');
const workspace = path.join(root, 'workspace');
const storage = path.join(root, 'storage');
const stub = createVscodeStub({ workspaceFolder: workspace, config: { steps: 2, sampler: 'euler_a', threads: 1, executionProvider: 'cpu', candidates: 2 } });
let uninstall: () => void = () => undefined;
let window: { api: InlineDiffusionApi; subscriptions: Array<{ dispose(): unknown }> } | undefined;

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
});

after(async () => {
  await closeWindow();
  uninstall();
});

async function until(check: () => boolean, what: string | (() => string), timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function states(p: StubPanel): ReviewState[] {
  return (p.posted as Array<{ type: string; state?: ReviewState }>).filter((m) => m.type === 'state').map((m) => m.state!);
}
const idle = (p: StubPanel): boolean => {
  const s = states(p).at(-1);
  return s !== undefined && !s.busy && s.rows.every((r) => r.status === 'done' || r.status === 'skipped');
};

async function restore(viewType: string, state: unknown): Promise<StubPanel> {
  const serializer = stub.serializers.get(viewType);
  assert.ok(serializer, `expected a serializer for ${viewType}; have ${[...stub.serializers.keys()].join(', ')}`);
  const p = new StubPanel(viewType, 'restored');
  await serializer.deserializeWebviewPanel(p, state);
  return p;
}

test('saved review state is read back as far as it is one; rows are matched to the images by alt text, in order', () => {
  assert.equal(parseSavedReview(null), undefined);
  assert.equal(parseSavedReview({ uri: 'file:///a.md', rows: 'x' }), undefined);
  assert.equal(parseSavedReview({ uri: 'file:///a.md', rows: [{ alt: 1, prompt: 'p' }] }), undefined);
  const saved = parseSavedReview({
    uri: 'file:///a.md', style: 'ink', negative: 7, applied: false, extra: true,
    rows: [{ alt: 'a fox', prompt: 'a red fox', picked: 'h-1-1', skipped: true, candidates: [{ imageId: 'h-1-0', seed: 1 }, { imageId: 'h-1-1' }, { imageId: '../x' }] },
      { alt: 'a fox', prompt: 'a fox', picked: 'not-a-candidate', candidates: [] }],
  });
  assert.deepEqual(saved, {
    uri: 'file:///a.md', style: 'ink', negative: '', applied: false,
    rows: [{ alt: 'a fox', prompt: 'a red fox', picked: 'h-1-1', skipped: true, candidates: ['h-1-0', 'h-1-1'] },
      { alt: 'a fox', prompt: 'a fox', picked: null, skipped: false, candidates: [] }],
  });
  const rows = [{ alt: 'a fox', n: 1 }, { alt: 'an owl', n: 2 }, { alt: 'a fox', n: 3 }];
  assert.deepEqual(matchSavedRows(['a fox', 'a cat', 'a fox', 'a fox', 'an owl'], rows).map((r) => r?.n), [1, undefined, 3, undefined, 2]);
});

test('a review comes back after a reload with its rows, picks, skips, edited prompt and candidates; Apply writes the picked image', async () => {
  window = activateWindow();
  const file = path.join(workspace, 'reload.md');
  const text = '# Reload\n\n![a red circle]()\n\n![a blue square]()\n\n![a green star]()\n';
  const doc = stub.openEditor(file, text, 0);
  await stub.vscode.commands.executeCommand('inlineDiffusion.illustrateDocument');
  const first = stub.panels.filter((p) => p.viewType === 'inlineDiffusion.reviewPanel').at(-1)!;
  first.receive.fire({ type: 'ready' });
  await until(() => idle(first), 'the first review done');
  const s = states(first).at(-1)!;
  first.receive.fire({ type: 'pick', rowId: 0, imageId: s.rows[0].candidates[1].imageId });
  first.receive.fire({ type: 'skip', rowId: 1, skipped: true });
  await until(() => states(first).at(-1)!.rows[1].skipped && states(first).at(-1)!.rows[0].picked === s.rows[0].candidates[1].imageId, 'the pick and the skip');
  // what the webview kept (setState): the last state, with a prompt being edited in the third row
  const last = states(first).at(-1)!;
  const kept: ReviewState = { ...last, rows: last.rows.map((r, i) => (i === 2 ? { ...r, prompt: 'a green star, edited' } : r)) };
  await window.api.generationHost.results?.flush();
  await closeWindow();
  assert.equal(doc.text, text, 'nothing written before Apply');

  window = activateWindow();
  let made = 0;
  const counting = window.api.generationHost.service.onImage(() => { made++; });
  const p = await restore('inlineDiffusion.reviewPanel', kept);
  assert.equal(p.wasDisposed, false);
  assert.match(p.webview.html, /review\.js/);
  p.receive.fire({ type: 'ready' });
  await until(() => states(p).length > 0 && idle(p), () => `the restored review; ${JSON.stringify(states(p).at(-1))}`);
  const back = states(p).at(-1)!;
  assert.deepEqual(back.rows.map((r) => [r.alt, r.prompt, r.candidates.map((c) => c.imageId), r.picked, r.skipped]),
    kept.rows.map((r) => [r.alt, r.prompt, r.candidates.map((c) => c.imageId), r.picked, r.skipped]));
  assert.equal(back.rows[0].detail, 'restored after a reload');
  counting.dispose();
  assert.equal(made, 0, 'nothing generated again');
  const pictures = (p.posted as Array<{ type: string }>).filter((m) => m.type === 'candidate').length;
  assert.equal(pictures, 6, 'every candidate\'s picture sent to the new webview');
  p.receive.fire({ type: 'apply' });
  await until(() => stub.messages.some(([, m]) => m.startsWith('Inline Diffusion: Illustrated 2 images in reload.md')), () => JSON.stringify(stub.messages));
  const seed = s.rows[0].candidates[1].seed;
  assert.match(doc.text, new RegExp(`!\\[a red circle\\]\\(images/a-red-circle-${seed}\\.png\\)`));
  assert.match(doc.text, /!\[a blue square\]\(\)/, 'the skipped row stays');
  assert.ok(fs.existsSync(path.join(workspace, 'images', `a-red-circle-${seed}.png`)));
  assert.equal(p.wasDisposed, true, 'Apply closes the review');
});

test('a restored review whose rows have no candidates yet generates them; an applied, unreadable or duplicate one is closed', async () => {
  const file = path.join(workspace, 'fresh.md');
  stub.openEditor(file, '![an orange square]()\n![a new image]()\n', 0);
  const uri = stub.vscode.Uri.file(file).toString();
  const saved = { uri, style: 'flat', negative: 'blurry', applied: false, rows: [{ alt: 'an orange square', prompt: 'an orange square', picked: null, skipped: false, candidates: [{ imageId: 'gone-1-0' }] }] };
  const p = await restore('inlineDiffusion.reviewPanel', saved);
  p.receive.fire({ type: 'ready' });
  await until(() => states(p).length > 0 && idle(p) && states(p).at(-1)!.rows.every((r) => r.candidates.length === 2), 'both rows generated');
  assert.deepEqual([states(p).at(-1)!.style, states(p).at(-1)!.negative], ['flat', 'blurry']);
  const twice = await restore('inlineDiffusion.reviewPanel', saved);
  assert.equal(twice.wasDisposed, true, 'one review per document');
  for (const bad of [{ ...saved, applied: true }, { nope: 1 }, undefined, { ...saved, uri: stub.vscode.Uri.file(path.join(workspace, 'gone.md')).toString() }]) {
    const q = await restore('inlineDiffusion.reviewPanel', bad);
    assert.equal(q.wasDisposed, true, JSON.stringify(bad));
  }
  assert.ok(stub.messages.some(([level, m]) => level === 'warning' && /gone\.md was not restored: the document is gone/.test(m)), JSON.stringify(stub.messages));
  p.dispose();
});

test('the gallery comes back after a reload and lists the images; a second one is closed', async () => {
  const p = await restore('inlineDiffusion.gallery', { text: 'circle', model: '', sampler: '' });
  assert.match(p.webview.html, /gallery\.js/);
  p.receive.fire({ type: 'ready' });
  await until(() => (p.posted as Array<{ type: string; complete?: boolean }>).some((m) => m.type === 'items' && m.complete), 'the listed images');
  const items = (p.posted as Array<{ type: string; items?: Array<{ prompt: string }> }>).filter((m) => m.type === 'items').at(-1)!.items!;
  assert.ok(items.some((i) => i.prompt === 'a red circle'), JSON.stringify(items.map((i) => i.prompt)));
  const second = await restore('inlineDiffusion.gallery', {});
  assert.equal(second.wasDisposed, true);
  assert.equal(p.wasDisposed, false);
});
