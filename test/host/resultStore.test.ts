import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PanelParams } from '../../src/protocol/webviewMessages';
import type { FinishedImage } from '../../src/generation/generationService';
import { ResultStore, type ResultStoreLimits } from '../../src/generation/resultStore';

const params: PanelParams = {
  prompt: 'a red fox', negativePrompt: '', sampler: 'euler_a', steps: 20, cfgScale: 7.5, seed: 5, randomSeed: false,
  width: 64, height: 64, batchCount: 1, model: '/m',
};
const LIMITS: ResultStoreLimits = { maxUnsaved: 3, maxUnsavedBytes: 1000, maxSaved: 2, maxAgeMs: 10_000 };

function image(id: string, bytes = 10, seed = 5): FinishedImage {
  const png = new Uint8Array(bytes).map((_, i) => (i * 7 + seed) & 255);
  return { imageId: id, jobId: 1, source: 'panel', params: { ...params, seed }, savedPath: null, image: { seed, width: 64, height: 64, png, infotext: `a red fox\nSeed: ${seed}` } };
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'inline-diffusion-results-'));
}

test('an unsaved image outlives the store (a window reload): a new store on the folder finds its PNG bytes and parameters', async () => {
  const dir = tempDir();
  await new ResultStore(dir, LIMITS).keep(image('s1-1-0', 10, 42));
  const found = await new ResultStore(dir, LIMITS).find('s1-1-0');
  assert.deepEqual(found, image('s1-1-0', 10, 42));
  assert.deepEqual(fs.readdirSync(dir).sort(), ['s1-1-0.json', 's1-1-0.png']);
});

test('once saved, the PNG copy is removed and the image refers to its file, also after a reload', async () => {
  const dir = tempDir();
  const store = new ResultStore(dir, LIMITS);
  const im = image('s1-1-0');
  await store.keep(im);
  await store.markSaved(im, '/ws/images/a-red-fox-5.png');
  assert.deepEqual(fs.readdirSync(dir), ['s1-1-0.json']);
  const found = await new ResultStore(dir, LIMITS).find('s1-1-0');
  assert.deepEqual([found?.savedPath, found?.image.png.length, found?.params.seed], ['/ws/images/a-red-fox-5.png', 0, 5]);
});

test('an image saved before it was kept (auto-save) is remembered by its path only', async () => {
  const dir = tempDir();
  const store = new ResultStore(dir, LIMITS);
  await store.markSaved(image('s1-2-0'), '/ws/images/x.png');
  assert.deepEqual((await store.list()).map((r) => [r.imageId, r.savedPath, r.bytes]), [['s1-2-0', '/ws/images/x.png', 0]]);
  assert.deepEqual(fs.readdirSync(dir), ['s1-2-0.json']);
});

test('Save right after the image arrives waits for its write: nothing is left behind', async () => {
  const dir = tempDir();
  const store = new ResultStore(dir, LIMITS);
  const im = image('s1-3-0');
  void store.keep(im);
  await store.markSaved(im, '/ws/images/y.png');
  assert.deepEqual(fs.readdirSync(dir), ['s1-3-0.json']);
});

test('discard removes the copy; unknown and malformed ids are refused without touching files', async () => {
  const dir = tempDir();
  const store = new ResultStore(dir, LIMITS);
  await store.keep(image('s1-1-0'));
  assert.deepEqual([await store.discard('s1-1-0'), await store.discard('s1-1-0'), await store.discard('../x')], [true, false, false]);
  assert.deepEqual([fs.readdirSync(dir), await store.find('s1-1-0'), await store.find('../../etc/passwd')], [[], undefined, undefined]);
  await assert.rejects(store.keep(image('../evil')), /expected an image id of letters, digits and '-', got "\.\.\/evil"/);
});

test('bounded: the oldest unsaved go past the count or byte limit (reported), the oldest saved past theirs, all past the age limit', async () => {
  const dir = tempDir();
  let now = 1_000_000;
  const dropped: string[] = [];
  const store = new ResultStore(dir, LIMITS, () => now, (r, why) => dropped.push(`${r.imageId}: ${why}`));
  for (const id of ['a-1-0', 'a-2-0', 'a-3-0', 'a-4-0']) { await store.keep(image(id, 100)); now += 1; }
  assert.deepEqual((await store.list()).map((r) => r.imageId), ['a-2-0', 'a-3-0', 'a-4-0']);
  await store.keep(image('a-5-0', 900)); now += 1; // 3 × 100 + 900 bytes: over 1000 until two are gone
  assert.deepEqual((await store.list()).map((r) => r.imageId), ['a-4-0', 'a-5-0']);
  for (const id of ['b-1-0', 'b-2-0', 'b-3-0']) { await store.markSaved(image(id), `/ws/${id}.png`); now += 1; }
  assert.deepEqual((await store.list()).map((r) => r.imageId), ['a-4-0', 'a-5-0', 'b-2-0', 'b-3-0']);
  now += 10_001;
  await store.keep(image('c-1-0'));
  assert.deepEqual((await store.list()).map((r) => r.imageId), ['c-1-0']);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['c-1-0.json', 'c-1-0.png']);
  assert.deepEqual(dropped, [
    'a-1-0: past the limit of unsaved results kept', 'a-2-0: past the limit of unsaved results kept',
    'a-3-0: past the limit of unsaved results kept', 'a-4-0: older than the age limit', 'a-5-0: older than the age limit',
  ]);
});

test('opening the folder cleans up: unreadable metadata, PNGs without metadata, interrupted writes', async () => {
  const dir = tempDir();
  await new ResultStore(dir, LIMITS).keep(image('ok-1-0'));
  fs.writeFileSync(path.join(dir, 'bad-1-0.json'), '{ not json');
  fs.writeFileSync(path.join(dir, 'lost-1-0.png'), 'x');
  fs.writeFileSync(path.join(dir, 'ok-1-1.png.123.tmp'), 'x');
  const store = new ResultStore(dir, LIMITS);
  assert.deepEqual((await store.list()).map((r) => r.imageId), ['ok-1-0']);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['ok-1-0.json', 'ok-1-0.png']);
});
