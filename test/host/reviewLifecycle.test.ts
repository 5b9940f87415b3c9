/**
 * The review panel's lifecycle against the stub `vscode` and a fake generationHost (no engine): closing it stops the
 * generations it has not queued yet, Apply runs once however often it is clicked, candidates are sent once, and
 * Illustrate Document opens one review per document even when run twice at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { createVscodeStub, installVscodeStub, StubEmitter } from '../fixtures/vscodeStub';

const stub = createVscodeStub({ workspaceFolder: path.resolve('/ws') });
installVscodeStub(stub.vscode);
/* eslint-disable @typescript-eslint/no-require-imports */
const { DocumentReview } = require('../../src/review/documentReview') as typeof import('../../src/review/documentReview');
const { IllustrateDocumentCommand } = require('../../src/commands/illustrateDocument') as typeof import('../../src/commands/illustrateDocument');
const { scanDocument } = require('../../src/markdown/documentImages') as typeof import('../../src/markdown/documentImages');
/* eslint-enable @typescript-eslint/no-require-imports */
import type { GenerationHost } from '../../src/generation/generationHost';
import type { PanelParams } from '../../src/protocol/webviewMessages';

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A generationHost whose enqueue resolves after `enqueueMs`; it records what was queued and cancelled. */
function fakeGenerator(o: { enqueueMs?: number; modelInfoMs?: number } = {}) {
  const queued: number[] = [];
  const images = new StubEmitter<unknown>();
  const cancelled: number[] = [];
  const saved: string[] = [];
  let next = 1;
  const service = {
    onProgress: new StubEmitter<unknown>().event, onImage: images.event, onJobEnded: new StubEmitter<unknown>().event,
    cancel: (id: number) => { cancelled.push(id); },
    queue: [],
  };
  const generationHost = {
    service,
    results: undefined,
    enqueue: async (_params: PanelParams) => {
      await tick(o.enqueueMs ?? 0);
      const id = next++;
      queued.push(id);
      return { id, done: new Promise(() => undefined) };
    },
    findImage: async () => undefined,
    save: async (image: { imageId: string }) => { await tick(20); saved.push(image.imageId); return path.resolve('/ws/images', `${image.imageId}.png`); },
    displayPath: (f: string) => f,
    models: () => [{ id: 'm', label: 'M', dir: path.resolve('/models/m') }],
    modelInfo: async () => { await tick(o.modelInfoMs ?? 0); return { sampleSize: 8, vaeScaleFactor: 8 }; },
    settings: () => ({ candidates: 2, steps: 2, sampler: 'euler_a', cfgScale: 7, width: 0, height: 0, outputFolder: 'images' }),
  };
  return { generationHost: generationHost as unknown as GenerationHost, queued, cancelled, saved, images };
}

const BASE: PanelParams = { prompt: '', negativePrompt: '', sampler: 'euler_a', steps: 2, cfgScale: 7, seed: 1, randomSeed: false, width: 64, height: 64, batchCount: 2, model: 'm' };

function openReview(text: string, generationHost: GenerationHost) {
  const doc = stub.openEditor(path.resolve('/ws/doc.md'), text, 0);
  const panel = stub.vscode.window.createWebviewPanel('inlineDiffusion.reviewPanel', 'Illustrate doc.md');
  const scan = scanDocument(text, { documentDir: path.resolve('/ws'), exists: () => false, trusted: true });
  const review = new DocumentReview(panel as never, stub.vscode.Uri.file('/ext') as never, generationHost,
    { document: doc as never, scan, candidates: 2, base: BASE, notes: [] });
  return { doc, panel, review };
}

test('closing the review while it queues its rows stops the rest: nothing is queued after, and a job queued meanwhile is cancelled', async () => {
  const fake = fakeGenerator({ enqueueMs: 30 });
  const { panel, review } = openReview('![one]()\n![two]()\n![three]()\n![four]()\n', fake.generationHost);
  const started = review.start();
  await tick(10); // the first row's enqueue is under way
  panel.dispose();
  await started;
  await tick(100);
  assert.deepEqual(fake.queued, [1], 'only the enqueue already under way when it closed');
  assert.deepEqual(fake.cancelled, [1], 'and that job is cancelled as soon as it is queued');
});

/** A finished candidate of a job, as the generation service reports it. */
function candidate(jobId: number, imageId: string, seed: number) {
  return { imageId, jobId, source: 'document', savedPath: null, params: BASE, image: { seed, png: new Uint8Array([137, 80, 78, 71]), width: 8, height: 8 } };
}

test('Apply clicked twice at once saves and edits once', async () => {
  const fake = fakeGenerator();
  const { doc, panel, review } = openReview('![one]()\n', fake.generationHost);
  await review.start();
  fake.images.fire(candidate(1, 'img-a', 5));
  const edits: number[] = [];
  const applyEdit = stub.vscode.workspace.applyEdit;
  stub.vscode.workspace.applyEdit = async (e) => { edits.push(e.edits.length); return applyEdit(e); };
  try {
    panel.receive.fire({ type: 'apply' });
    panel.receive.fire({ type: 'apply' });
    await tick(100);
  } finally {
    stub.vscode.workspace.applyEdit = applyEdit;
  }
  assert.deepEqual(fake.saved, ['img-a']);
  assert.deepEqual(edits, [1]);
  assert.equal(doc.text, `![one](${'images/img-a.png'})\n`);
  assert.ok(review.isDisposed);
});

test('Illustrate Document run twice at once opens one review for the document', async () => {
  const fake = fakeGenerator({ modelInfoMs: 30 });
  stub.openEditor(path.resolve('/ws/twice.md'), '![one]()\n', 0);
  const command = new IllustrateDocumentCommand(fake.generationHost, stub.vscode.Uri.file('/ext') as never);
  const before = stub.panels.length;
  await Promise.all([command.execute(), command.execute()]);
  assert.equal(stub.panels.length - before, 1, 'one panel');
  assert.equal(command.openReviews.length, 1);
  command.dispose();
});

test('Regenerate from a hover works on an image with empty alt text: the image\'s own prompt is used', async () => {
  const { IllustrateAltTextCommand } = require('../../src/commands/illustrateAltText') as typeof import('../../src/commands/illustrateAltText');
  const { RegenerateImageCommand } = require('../../src/commands/regenerateImage') as typeof import('../../src/commands/regenerateImage');
  const { encodePng } = require('../../src/engine/image') as typeof import('../../src/engine/image');
  const fs = require('node:fs') as typeof import('node:fs');
  const os = require('node:os') as typeof import('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'regen-'));
  const png = path.join(dir, 'fox.png');
  fs.writeFileSync(png, encodePng(new Uint8Array(8 * 8 * 3), 8, 8, { parameters: 'a red fox\nSteps: 2, Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 8x8, Model: m' }));
  const fake = fakeGenerator();
  const queued: PanelParams[] = [];
  const generationHost = Object.assign(fake.generationHost, {
    panelSetup: async () => ({ defaults: BASE, limits: { batchCountMax: 8 } }),
    enqueue: async (p: PanelParams) => { queued.push(p); throw new Error('stop here'); },
  });
  const text = 'Intro ![](fox.png) end\n';
  const doc = stub.openEditor(path.join(dir, 'a.md'), text, 0);
  const command = new RegenerateImageCommand(generationHost, new IllustrateAltTextCommand(generationHost));
  const before = stub.messages.length;
  await command.execute({ file: png, document: doc.uri.toString(), offset: text.indexOf('!') });
  assert.deepEqual(queued.map((p) => p.prompt), ['a red fox'], JSON.stringify(stub.messages.slice(before)));
  assert.deepEqual(stub.messages.slice(before), [['error', 'Inline Diffusion: stop here']]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('each candidate\'s picture is sent once, in its own message; states name candidates by id only', async () => {
  const fake = fakeGenerator();
  const { panel, review } = openReview('![one]()\n![two]()\n', fake.generationHost);
  panel.receive.fire({ type: 'ready' });
  await review.start();
  fake.images.fire(candidate(1, 'img-a', 5));
  fake.images.fire(candidate(1, 'img-b', 6));
  fake.images.fire(candidate(2, 'img-c', 7));
  panel.receive.fire({ type: 'pick', rowId: 0, imageId: 'img-b' });
  await tick(10);
  const posted = panel.posted as Array<{ type: string; imageId?: string; src?: string }>;
  const pictures = posted.filter((m) => m.type === 'candidate').map((m) => m.imageId);
  assert.deepEqual(pictures, ['img-a', 'img-b', 'img-c']);
  assert.ok(posted.filter((m) => m.type === 'state').length >= 4);
  assert.ok(!posted.some((m) => m.type === 'state' && JSON.stringify(m).includes('data:image/png')), 'no picture inside a state');
  const first = (id: string): number => posted.findIndex((m) => m.type === 'candidate' && m.imageId === id);
  const firstState = (id: string): number => posted.findIndex((m) => m.type === 'state' && JSON.stringify(m).includes(id));
  assert.ok(first('img-c') < firstState('img-c'), 'the picture comes before the first state naming it');
  panel.dispose();
});

test('in an untrusted workspace the hover does not read a linked PNG outside the workspace folders', async () => {
  const { ImageLinkHoverProvider } = require('../../src/markdown/markdownProviders') as typeof import('../../src/markdown/markdownProviders');
  const fs = require('node:fs') as typeof import('node:fs');
  const os = require('node:os') as typeof import('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hover-'));
  const outside = path.join(dir, 'fox.png');
  fs.writeFileSync(outside, 'x');
  const asked: string[] = [];
  const provider = new ImageLinkHoverProvider(async (file) => { asked.push(file); return undefined; });
  const doc = stub.openEditor(path.resolve('/ws/hover.md'), `![fox](file://${outside})\n`, 0);
  try {
    stub.state.trusted = false;
    await provider.provideHover(doc as never, doc.positionAt(3) as never);
    assert.deepEqual(asked, []);
    stub.state.trusted = true;
    await provider.provideHover(doc as never, doc.positionAt(3) as never);
    assert.deepEqual(asked, [outside]);
  } finally {
    stub.state.trusted = true;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the gallery watches each output folder itself, an absolute one outside the workspace included', () => {
  const { GalleryPanel } = require('../../src/gallery/galleryPanel') as typeof import('../../src/gallery/galleryPanel');
  const never = (): { dispose(): void } => ({ dispose(): void {} });
  const outside = path.resolve('/elsewhere/pictures');
  const generationHost = { settings: () => ({ outputFolder: outside }), displayPath: (f: string) => f, onDidSave: never, onDidChangeSettings: never };
  const before = stub.watchPatterns.length;
  const panel = stub.vscode.window.createWebviewPanel('inlineDiffusion.gallery', 'Image Gallery');
  const gallery = new GalleryPanel(panel as never, stub.vscode.Uri.file('/ext') as never, generationHost as never, {} as never, path.resolve('/storage'));
  const patterns = stub.watchPatterns.slice(before) as Array<{ base?: { fsPath: string }; pattern?: string }>;
  assert.deepEqual(patterns.map((p) => [p.base?.fsPath, p.pattern]), [[outside, '**/*.png']]);
  gallery.dispose();
});
