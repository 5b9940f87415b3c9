import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveOutputFolder, saveImageInto } from '../../src/generation/imageFiles';
import { encodePng, readPngText } from '../../src/engine/image/png';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'inline-diffusion-host-'));
}

test('the output folder is in the document\'s workspace folder, else the first one, else none (a dialog asks)', () => {
  assert.deepEqual([
    resolveOutputFolder('images', '/ws/b', '/ws/a'),
    resolveOutputFolder('images', undefined, '/ws/a'),
    resolveOutputFolder('images', undefined, undefined),
    resolveOutputFolder('docs/img', '/ws/b', '/ws/a'),
    resolveOutputFolder('/abs/out', undefined, undefined),
    resolveOutputFolder('  ', '/ws/b', undefined),
  ], [path.join('/ws/b', 'images'), path.join('/ws/a', 'images'), undefined, path.join('/ws/b', 'docs/img'), '/abs/out', path.join('/ws/b', 'images')]);
});

test('names files from the prompt and seed, never overwrites, and keeps the PNG bytes as the engine made them', () => {
  const dir = path.join(tempDir(), 'images'); // created on first save
  const png = encodePng(Uint8Array.of(1, 2, 3), 1, 1, { parameters: 'A Red Fox!\nSteps: 20, Sampler: Euler a, Seed: 42' });
  const names = [1, 2, 3].map(() => path.basename(saveImageInto(dir, 'A Red Fox, in SNOW!', 42, png)));
  assert.deepEqual(names, ['a-red-fox-in-snow-42.png', 'a-red-fox-in-snow-42-1.png', 'a-red-fox-in-snow-42-2.png']);
  assert.deepEqual(names.map((n) => Buffer.compare(fs.readFileSync(path.join(dir, n)), Buffer.from(png))), [0, 0, 0]);
  assert.deepEqual(readPngText(fs.readFileSync(path.join(dir, names[0]))), { parameters: 'A Red Fox!\nSteps: 20, Sampler: Euler a, Seed: 42' });
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

test('an empty or symbol-only prompt is named "image"; long prompts are cut at 60 characters', () => {
  const dir = tempDir();
  const png = encodePng(new Uint8Array(3), 1, 1);
  assert.equal(path.basename(saveImageInto(dir, '', 7, png)), 'image-7.png');
  assert.equal(path.basename(saveImageInto(dir, '🦊 !!', 7, png)), 'image-7-1.png');
  const long = path.basename(saveImageInto(dir, 'word '.repeat(30), 1, png));
  assert.equal(long, `${'word-'.repeat(12).slice(0, 59)}-1.png`);
});

test('a file that appears between the check and the write is not overwritten', () => {
  const dir = tempDir();
  const png = encodePng(new Uint8Array(3), 1, 1);
  const taken = path.join(dir, 'fox-1.png');
  fs.writeFileSync(taken, 'someone else');
  assert.equal(path.basename(saveImageInto(dir, 'fox', 1, png)), 'fox-1-1.png');
  assert.equal(fs.readFileSync(taken, 'utf8'), 'someone else');
});
