import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { encode as encodeJpeg } from 'jpeg-js';
import { encodePng } from '../../src/engine/image/png';
import { INPUT_IMAGE_MAX_BYTES, INPUT_PREVIEW_SIZE, InputImageStore, inputImageFromBytes } from '../../src/generation/inputImage';

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(zlib.crc32(body), 8 + data.length);
  return out;
}

/** A PNG of `width`×`height` with the given depth, colour type, extra chunks before IDAT, and filtered scanlines. */
function png(width: number, height: number, depth: number, colorType: number, scanlines: number[], extra: Buffer[] = []): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = colorType;
  return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), ...extra,
    chunk('IDAT', zlib.deflateSync(Buffer.from(scanlines))), chunk('IEND', Buffer.alloc(0))]));
}

test('an RGB PNG: its pixels, its size, a preview PNG, a stable id and no notes', () => {
  const bytes = encodePng(Uint8Array.of(255, 0, 0, 0, 255, 0), 2, 1);
  const input = inputImageFromBytes(bytes, 'two.png', 'file');
  assert.deepEqual(input.image, { width: 2, height: 1, rgb: Uint8Array.of(255, 0, 0, 0, 255, 0) });
  assert.deepEqual({ ...input.info, preview: input.info.preview.slice(0, 22) },
    { id: input.info.id, name: 'two.png', width: 2, height: 1, preview: 'data:image/png;base64,', source: 'file', notes: [] });
  assert.match(input.info.id, /^[0-9a-f]{16}$/);
  assert.equal(inputImageFromBytes(bytes, 'again.png', 'paste').info.id, input.info.id);
});

test('RGBA and grey+alpha are composited onto white, 16-bit read as 8, an APNG gives its first frame: each with a note', () => {
  const rgba = inputImageFromBytes(png(1, 1, 8, 6, [0, 0, 0, 0, 0]), 'clear.png', 'file');
  assert.deepEqual(Array.from(rgba.image.rgb), [255, 255, 255]);
  assert.deepEqual(rgba.info.notes, ['transparent parts filled with white (A1111\'s img2img background)']);
  const greyAlpha = inputImageFromBytes(png(1, 1, 8, 4, [0, 0, 128]), 'ga.png', 'file');
  assert.deepEqual(Array.from(greyAlpha.image.rgb), [127, 127, 127]);
  const grey16 = inputImageFromBytes(png(2, 1, 16, 0, [0, 0x80, 0x00, 0xff, 0xff]), 'deep.png', 'file');
  assert.deepEqual(Array.from(grey16.image.rgb), [128, 128, 128, 255, 255, 255]);
  assert.deepEqual(grey16.info.notes, ['16 bits a sample, read as 8']);
  const actl = Buffer.alloc(8);
  actl.writeUInt32BE(3, 0);
  const apng = inputImageFromBytes(png(1, 1, 8, 2, [0, 9, 8, 7], [chunk('acTL', actl)]), 'anim.png', 'file');
  assert.deepEqual(Array.from(apng.image.rgb), [9, 8, 7]);
  assert.deepEqual(apng.info.notes, ['an animated PNG of 3 frames: its first frame is used (as A1111 does)']);
  const greyKey = inputImageFromBytes(png(2, 1, 8, 0, [0, 7, 9], [chunk('tRNS', Buffer.from([0, 7]))]), 'key.png', 'file');
  assert.deepEqual([Array.from(greyKey.image.rgb), greyKey.info.notes.length], [[255, 255, 255, 9, 9, 9], 1]);
  // fast-png refuses an RGB colour key (tRNS of 6 bytes): a one-line message, not a crash
  assert.throws(() => inputImageFromBytes(png(1, 1, 8, 2, [0, 1, 2, 3], [chunk('tRNS', Buffer.from([0, 1, 0, 2, 0, 3]))]), 'rgbkey.png', 'file'),
    /^Error: rgbkey.png: corrupt or unsupported PNG: /);
});

test('a JPEG with EXIF orientation 6 is turned upright (as A1111\'s exif_transpose) and says so', () => {
  const jpeg = Buffer.from(encodeJpeg({ width: 16, height: 8, data: new Uint8Array(16 * 8 * 4).fill(200) }, 90).data);
  const tiff = Buffer.from([0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0]);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff]), body]);
  const rotated = inputImageFromBytes(new Uint8Array(Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)])), 'phone.jpg', 'file');
  assert.deepEqual([rotated.image.width, rotated.image.height, rotated.info.width, rotated.info.height], [8, 16, 8, 16]);
  assert.deepEqual(rotated.info.notes, ['turned upright by its EXIF orientation']);
});

test('not an image, too many bytes, or too large a header: one-line errors, before any decoding', () => {
  assert.throws(() => inputImageFromBytes(Buffer.from('hello'), 'notes.txt', 'paste'), /^Error: notes.txt: not a PNG or JPEG image \(first bytes: 68 65 6c 6c 6f\); use a PNG or JPEG image$/);
  assert.throws(() => inputImageFromBytes(Buffer.from('GIF89a\x01\x00\x01\x00'), 'anim.gif', 'file'), /anim.gif: a GIF image, an unsupported format; use a PNG or JPEG image/);
  assert.throws(() => inputImageFromBytes(new Uint8Array(INPUT_IMAGE_MAX_BYTES + 1), 'big.png', 'paste'), /^Error: big.png: 64 MB is over the 64 MB limit for input images$/);
  // a tiny file declaring 30000×30000: refused from its IHDR (inflating it would take gigabytes)
  const started = performance.now();
  assert.throws(() => inputImageFromBytes(png(30_000, 30_000, 8, 2, [0]), 'bomb.png', 'file'),
    /^Error: bomb.png: 30000×30000 is too large for an input image \(at most 16384 pixels a side and 100 megapixels\)$/);
  assert.throws(() => inputImageFromBytes(png(20_000, 2, 8, 2, [0]), 'wide.png', 'file'), /wide.png: 20000×2 is too large/);
  assert.ok(performance.now() - started < 1000);
  const cut = encodePng(new Uint8Array(300), 10, 10).subarray(0, 40);
  assert.throws(() => inputImageFromBytes(cut, 'cut.png', 'file'), /cut.png: corrupt or unsupported PNG/);
});

test('the preview is at most INPUT_PREVIEW_SIZE a side, the aspect kept', () => {
  const w = 1200;
  const h = 300;
  const input = inputImageFromBytes(encodePng(new Uint8Array(w * h * 3).fill(90), w, h), 'wide.png', 'file');
  const preview = Buffer.from(input.info.preview.split(',')[1], 'base64');
  assert.deepEqual([preview.readUInt32BE(16), preview.readUInt32BE(20)], [INPUT_PREVIEW_SIZE, 128]);
  assert.deepEqual([input.info.width, input.info.height], [w, h]);
});

test('the store keeps the newest input images by id', () => {
  const store = new InputImageStore(2);
  const make = (v: number): ReturnType<typeof inputImageFromBytes> => inputImageFromBytes(encodePng(Uint8Array.of(v, v, v), 1, 1), `${v}.png`, 'file');
  const [a, b, c] = [make(1), make(2), make(3)];
  store.add(a);
  store.add(b);
  store.add(a); // again: it becomes the newest
  store.add(c);
  assert.deepEqual([store.get(a.info.id)?.info.name, store.get(b.info.id), store.get(c.info.id)?.info.name, store.latest?.info.name], ['1.png', undefined, '3.png', '3.png']);
});
