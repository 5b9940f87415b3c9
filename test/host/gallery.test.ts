import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeImage, encodePng, readPngText } from '../../src/engine/image';
import { GalleryIndex } from '../../src/gallery/galleryIndex';
import { parseFromGallery } from '../../src/gallery/galleryMessageGuards';
import { decodePngRgbQuick } from '../../src/gallery/pngDecodeRgb';
import { ThumbnailCache } from '../../src/gallery/thumbnails';
import { shrinkToFit } from '../../src/common/shrinkToFit';
import { distinct, filterItems, indexPrompts } from '../../webview/gallery/filter';

function png(prompt: string | null, model = 'sd15', sampler = 'Euler a', size = 8): Uint8Array {
  const text = prompt === null ? undefined : { parameters: `${prompt}\nSteps: 20, Sampler: ${sampler}, CFG scale: 7, Seed: 5, Size: ${size}x${size}, Model: ${model}` };
  return encodePng(new Uint8Array(size * size * 3).fill(90), size, size, text);
}

function folder(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gallery-'));
}

test('lists the PNGs of the output folders newest first with their parameters; reads only new or changed files again', async () => {
  const dir = folder();
  const images = path.join(dir, 'images');
  fs.mkdirSync(path.join(images, 'sub'), { recursive: true });
  const write = (name: string, bytes: Uint8Array, ageS: number): void => {
    fs.writeFileSync(path.join(images, name), bytes);
    const t = new Date(Date.now() - ageS * 1000);
    fs.utimesSync(path.join(images, name), t, t);
  };
  write('old.png', png('an old fox'), 300);
  write('sub/new.png', png('a new owl', 'sdxl', 'DPM++ 2M'), 10);
  write('plain.png', png(null), 100);
  write('broken.png', new Uint8Array([1, 2, 3]), 50);
  write('notes.txt', new Uint8Array([1]), 1);
  const cacheFile = path.join(dir, 'storage', 'index.json');
  const index = new GalleryIndex(cacheFile, (f) => path.relative(dir, f));
  const first = await index.scan([images, path.join(dir, 'missing')]);
  assert.deepEqual(first.items.map((i) => [i.label, i.prompt, i.model, i.sampler, i.seed, i.width]), [
    [path.join('images', 'sub', 'new.png'), 'a new owl', 'sdxl', 'DPM++ 2M', '5', 8],
    [path.join('images', 'broken.png'), '', '', '', '', 0],
    [path.join('images', 'plain.png'), '', '', '', '', 8],
    [path.join('images', 'old.png'), 'an old fox', 'sd15', 'Euler a', '5', 8],
  ]);
  assert.equal(first.read, 4);
  const pages: string[][] = [];
  await new GalleryIndex(undefined).scan([images], (page) => pages.push(page.map((i) => path.basename(i.path))), 2);
  assert.deepEqual(pages, [['new.png', 'broken.png']], 'the newest page is handed over before the older files are read');
  assert.equal((await index.scan([images])).read, 0, 'unchanged files come from the cache');
  write('old.png', png('a changed fox'), 1);
  const again = await new GalleryIndex(cacheFile).scan([images]);
  assert.equal(again.read, 1, 'a new window reads only the changed file (the cache file kept the rest)');
  assert.equal(again.items[0].prompt, 'a changed fox');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('thumbnails fit 192 px, keep the aspect ratio, are cached, and are remade when the file changes', () => {
  const dir = folder();
  const file = path.join(dir, 'wide.png');
  fs.writeFileSync(file, encodePng(new Uint8Array(400 * 100 * 3).fill(200), 400, 100));
  const cache = new ThumbnailCache(path.join(dir, 'thumbs'));
  const thumb = decodeImage(cache.thumbnail(file));
  assert.deepEqual([thumb.width, thumb.height, thumb.rgb[0]], [192, 48, 200]);
  assert.equal(fs.readdirSync(path.join(dir, 'thumbs')).length, 1);
  cache.thumbnail(file);
  assert.equal(fs.readdirSync(path.join(dir, 'thumbs')).length, 1, 'served from the cache');
  fs.writeFileSync(file, encodePng(new Uint8Array(10 * 10 * 3), 10, 10));
  fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
  assert.deepEqual(readPngText(cache.thumbnail(file)), {}, 'a small image is not enlarged');
  assert.equal(fs.readdirSync(path.join(dir, 'thumbs')).length, 2);
  fs.writeFileSync(file, 'not an image');
  fs.utimesSync(file, new Date(), new Date(Date.now() + 9000));
  assert.throws(() => cache.thumbnail(file), /not a PNG or JPEG image/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('shrinking averages each box of pixels', () => {
  const rgb = new Uint8Array([0, 0, 0, 255, 255, 255, 255, 255, 255, 0, 0, 0]);
  assert.deepEqual(shrinkToFit({ width: 2, height: 2, rgb }, 1), { width: 1, height: 1, rgb: new Uint8Array([128, 128, 128]) });
});

test('the filter matches every prompt word, a model and a sampler', () => {
  const item = (prompt: string, model: string, sampler: string) => ({ path: `/${prompt}`, label: prompt.replace(/ /g, '-'), mtimeMs: 0, width: 8, height: 8, prompt, model, sampler, seed: '1' });
  const items = [item('a Red fox', 'sd15', 'Euler a'), item('a red owl', 'sdxl', 'Euler a'), item('a blue fox', 'sd15', 'DDIM')];
  const prompts = indexPrompts(items);
  assert.deepEqual(filterItems(items, prompts, { text: 'red', model: '', sampler: '' }), [0, 1]);
  assert.deepEqual(filterItems(items, prompts, { text: 'FOX red', model: '', sampler: '' }), [0]);
  assert.deepEqual(filterItems(items, prompts, { text: '', model: 'sd15', sampler: 'DDIM' }), [2]);
  assert.deepEqual(filterItems(items, prompts, { text: ' ', model: '', sampler: '' }), [0, 1, 2]);
  assert.deepEqual([distinct(items, 'model'), distinct(items, 'sampler')], [['sd15', 'sdxl'], ['DDIM', 'Euler a']]);
});

test('gallery messages name only listed images', () => {
  const listed = (p: string): boolean => p === '/ws/images/a.png';
  assert.deepEqual(parseFromGallery({ type: 'action', action: 'delete', path: '/ws/images/a.png' }, listed),
    { ok: true, message: { type: 'action', action: 'delete', path: '/ws/images/a.png' } });
  assert.deepEqual(parseFromGallery({ type: 'action', action: 'useAsInput', path: '/ws/images/a.png' }, listed),
    { ok: true, message: { type: 'action', action: 'useAsInput', path: '/ws/images/a.png' } });
  assert.deepEqual(parseFromGallery({ type: 'thumbs', paths: ['/ws/images/a.png'] }, listed), { ok: true, message: { type: 'thumbs', paths: ['/ws/images/a.png'] } });
  const problems = [
    { type: 'action', action: 'delete', path: '/etc/passwd' }, { type: 'action', action: 'format', path: '/ws/images/a.png' },
    { type: 'thumbs', paths: ['/ws/images/a.png', '../x.png'] }, { type: 'thumbs', paths: new Array(201).fill('/ws/images/a.png') },
    { type: 'nope' }, 'ready',
  ].map((m) => { const r = parseFromGallery(m, listed); return r.ok ? 'accepted' : r.problem; });
  assert.deepEqual(problems, [
    'action: expected a listed image, got "/etc/passwd"',
    'action: expected one of reuse, useAsInput, insert, reveal, copyPath, delete, got "format"',
    'thumbs: expected listed images, got "../x.png"',
    'thumbs: expected a list of at most 200 listed images, got an array of 201',
    'message: unknown type "nope" (expected ready, thumbs or action)',
    'message: expected an object, got "ready"',
  ]);
});

test('the quick PNG decoder matches the engine\'s decoder on every filter, with grey, alpha and RGB; it declines what it does not handle', async () => {
  const { encode } = await import('fast-png');
  const w = 13;
  const h = 7;
  const cases: Array<[number, Uint8Array]> = [1, 2, 3, 4].map((channels) => {
    const data = new Uint8Array(w * h * channels);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37 + (i % 5) * 101) & 255;
    return [channels, data];
  });
  for (const [channels, data] of cases) {
    const png = encode({ width: w, height: h, data, channels, depth: 8 });
    assert.deepEqual(decodePngRgbQuick(png), decodeImage(png), `${channels} channels`);
  }
  const rgb = new Uint8Array(w * h * 3).map((_, i) => (i * 7) & 255);
  const ours = encodePng(rgb, w, h, { parameters: 'x' }); // the engine's writer picks filters per row
  assert.deepEqual(decodePngRgbQuick(ours), { width: w, height: h, rgb });
  const sixteen = encode({ width: 2, height: 2, data: new Uint16Array(12), channels: 3, depth: 16 });
  assert.equal(decodePngRgbQuick(sixteen), undefined);
  assert.equal(decodePngRgbQuick(new Uint8Array([1, 2, 3])), undefined);
});

/** A PNG of the given header whose IDAT holds `raw` deflated (chunks with their CRCs). */
function craftedPng(width: number, height: number, colourType: number, raw: Uint8Array): Uint8Array {
  const zlib = require('node:zlib') as typeof import('node:zlib');
  const chunk = (type: string, data: Uint8Array): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(zlib.crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colourType;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw, { level: 9 })), chunk('IEND', new Uint8Array(0))]);
}

test('a thumbnail of a small file that inflates far past its declared size is refused without inflating it all; over 16 MP is refused', () => {
  const dir = folder();
  const cache = new ThumbnailCache(path.join(dir, 'thumbs'));
  const bomb = path.join(dir, 'bomb.png');
  // 64×64 RGB needs 64·(64·3+1) = 12,352 bytes; this IDAT inflates to 64 MiB from a file of about 64 KB
  fs.writeFileSync(bomb, craftedPng(64, 64, 2, new Uint8Array(64 * 1024 * 1024)));
  assert.ok(fs.statSync(bomb).size < 200_000);
  assert.throws(() => decodePngRgbQuick(fs.readFileSync(bomb)), /inflates past the 64×64 it declares/);
  assert.throws(() => cache.thumbnail(bomb), /^Error: bomb\.png: its image data inflates past the 64×64 it declares$/);
  const palette = path.join(dir, 'palette.png'); // a colour type the quick decoder leaves to the engine's: checked first
  fs.writeFileSync(palette, craftedPng(64, 64, 3, new Uint8Array(64 * 1024 * 1024)));
  assert.throws(() => cache.thumbnail(palette), /palette\.png: its image data inflates past the 64×64 it declares/);
  const huge = path.join(dir, 'huge.png');
  fs.writeFileSync(huge, craftedPng(5000, 5000, 2, new Uint8Array(10)));
  assert.throws(() => cache.thumbnail(huge), /huge\.png: 5000×5000 is over the 16 megapixel limit for thumbnails/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the scan does not block the extension host: it returns to the event loop right after the first page and between batches', async () => {
  const dir = folder();
  const bytes = png('a fox');
  for (let i = 0; i < 350; i++) fs.writeFileSync(path.join(dir, `${String(i).padStart(3, '0')}.png`), bytes);
  let afterFirstPage = false;
  let turns = 0;
  let counting = true;
  const count = (): void => { if (counting) { turns++; setImmediate(count); } };
  setImmediate(count);
  const scanned = new GalleryIndex(undefined).scan([dir], () => setImmediate(() => { afterFirstPage = true; }), 24);
  const result = await scanned;
  counting = false;
  assert.equal(result.items.length, 350);
  assert.ok(afterFirstPage, 'what the first page triggers runs before the scan ends');
  assert.ok(turns >= 4, `the event loop turned ${turns} times during the scan`);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the gallery sums up a sampler with its schedule type as the hover does: "DPM++ 2M (Karras)"', async () => {
  const dir = folder();
  const infotext = 'a fox\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 5, Size: 8x8, Model: sd15';
  fs.writeFileSync(path.join(dir, 'k.png'), encodePng(new Uint8Array(8 * 8 * 3), 8, 8, { parameters: infotext }));
  const { items } = await new GalleryIndex(undefined).scan([dir]);
  assert.equal(items[0].sampler, 'DPM++ 2M (Karras)');
  const { hoverContent } = await import('../../src/markdown/imageHover');
  const hover = hoverContent({ file: path.join(dir, 'k.png'), imageUri: 'file:///k.png', width: 8, height: 8, text: { parameters: infotext }, document: 'file:///a.md', offset: 0 });
  assert.match(hover?.markdown ?? '', /Sampler: DPM\\\+\\\+ 2M \\\(Karras\\\)/);
  fs.rmSync(dir, { recursive: true, force: true });
});
