import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { encode as encodeWithFastPng } from 'fast-png';
import { encode as encodeJpeg } from 'jpeg-js';
import { applyExifOrientation, decodeImage, detectImageFormat, MAX_SIDE, readImageFile, readImageHeader, readJpegOrientation } from '../../../src/engine/image/imageIo';
import { LIMITS } from '../../../src/engine/request';
import { encodePng } from '../../../src/engine/image/png';

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(zlib.crc32(body), 8 + data.length);
  return out;
}

/** A PNG from raw chunks: IHDR fields, then extra chunks, then one IDAT of the given filtered scanlines. */
function craftPng(width: number, height: number, depth: number, colorType: number, extra: Buffer[], scanlines: number[]): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = colorType;
  return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), ...extra,
    chunk('IDAT', zlib.deflateSync(Buffer.from(scanlines))), chunk('IEND', Buffer.alloc(0))]));
}

/** An APP1 Exif segment (big-endian TIFF) holding only IFD0 Orientation, spliced in after the SOI marker. */
function withOrientation(jpeg: Uint8Array, orientation: number): Uint8Array {
  const tiff = Buffer.from([0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0, 0, 0]);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff]), body]);
  return new Uint8Array(Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]));
}

test('decodes our own RGB PNG exactly', () => {
  const rgb = Uint8Array.from({ length: 5 * 3 * 3 }, (_, i) => (i * 47) & 255);
  assert.deepEqual(decodeImage(encodePng(rgb, 5, 3)), { width: 5, height: 3, rgb });
});

test('composites RGBA onto white as A1111 flatten (PIL paste with mask)', () => {
  // Recorded with PIL 9.4: Image.new('RGBA', size, '#ffffff').paste(img, mask=img).convert('RGB').
  const rgba = Uint8Array.of(200, 100, 0, 0, 200, 100, 0, 128, 200, 100, 0, 255, 10, 20, 30, 77, 0, 0, 0, 1, 255, 255, 255, 254);
  const png = encodeWithFastPng({ width: 6, height: 1, data: rgba, channels: 4, depth: 8 });
  assert.deepEqual(Array.from(decodeImage(png).rgb), [255, 255, 255, 227, 177, 127, 200, 100, 0, 181, 184, 187, 254, 254, 254, 255, 255, 255]);
});

test('decodes 16-bit, grey, grey+alpha, low-bit grey and palette PNGs to RGB', () => {
  const rgb16 = encodeWithFastPng({ width: 2, height: 1, data: Uint16Array.of(0xffff, 0x8000, 0x00ff, 0x1234, 0xabcd, 0), channels: 3, depth: 16 });
  assert.deepEqual(Array.from(decodeImage(rgb16).rgb), [255, 128, 0, 0x12, 0xab, 0]);
  const grey = encodeWithFastPng({ width: 2, height: 1, data: Uint8Array.of(7, 200), channels: 1, depth: 8 });
  assert.deepEqual(Array.from(decodeImage(grey).rgb), [7, 7, 7, 200, 200, 200]);
  const greyAlpha = encodeWithFastPng({ width: 2, height: 1, data: Uint8Array.of(0, 0, 0, 255), channels: 2, depth: 8 });
  assert.deepEqual(Array.from(decodeImage(greyAlpha).rgb), [255, 255, 255, 0, 0, 0]);
  // 2-bit grey, 4 pixels 0,1,2,3 → 0, 85, 170, 255.
  const grey2 = craftPng(4, 1, 2, 0, [], [0, 0b00011011]);
  assert.deepEqual(Array.from(decodeImage(grey2).rgb), [0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255]);
  // 2-bit palette [red, green, blue], tRNS makes index 1 transparent; pixels 0,1,2,1.
  const plte = chunk('PLTE', Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255]));
  const trns = chunk('tRNS', Buffer.from([255, 0]));
  const indexed = craftPng(4, 1, 2, 3, [plte, trns], [0, 0b00011001]);
  assert.deepEqual(Array.from(decodeImage(indexed).rgb), [255, 0, 0, 255, 255, 255, 0, 0, 255, 255, 255, 255]);
  // RGB with a tRNS colour key (0, 0, 0): black pixels are transparent.
  // (3+ pixels: fast-png 8 rejects a tRNS with more 16-bit values than the image has pixels.)
  const keyed = craftPng(3, 1, 8, 2, [chunk('tRNS', Buffer.from([0, 0, 0, 0, 0, 0]))], [0, 0, 0, 0, 9, 8, 7, 0, 0, 1]);
  assert.deepEqual(Array.from(decodeImage(keyed).rgb), [255, 255, 255, 9, 8, 7, 0, 0, 1]);
});

test('decodes a JPEG and turns it upright by its EXIF orientation', () => {
  // 16×8: left half red, right half blue (solid 8×8 blocks survive JPEG almost exactly).
  const rgba = new Uint8Array(16 * 8 * 4);
  for (let p = 0; p < 128; p++) rgba.set(p % 16 < 8 ? [255, 0, 0, 255] : [0, 0, 255, 255], p * 4);
  const jpeg = new Uint8Array(encodeJpeg({ width: 16, height: 8, data: rgba }, 100).data);
  const isRed = (rgb: Uint8Array, p: number): boolean => rgb[p * 3] > 200 && rgb[p * 3 + 2] < 60;
  const isBlue = (rgb: Uint8Array, p: number): boolean => rgb[p * 3] < 60 && rgb[p * 3 + 2] > 200;

  const plain = decodeImage(jpeg);
  assert.deepEqual([plain.width, plain.height, isRed(plain.rgb, 0), isBlue(plain.rgb, 15)], [16, 8, true, true]);
  const rotated = withOrientation(jpeg, 6);
  assert.equal(readJpegOrientation(rotated), 6);
  // Rotated 90° clockwise: 8×16, the red (left) half is now on top.
  const upright = decodeImage(rotated);
  assert.deepEqual([upright.width, upright.height, isRed(upright.rgb, 0), isBlue(upright.rgb, 8 * 15 + 7)], [8, 16, true, true]);
});

test('applies EXIF orientations 1-8 as PIL ImageOps.exif_transpose', () => {
  // Recorded with PIL 9.4 on a 3×2 image whose red channel is x + 10·y.
  const expected: Record<number, [number, number, number[]]> = {
    1: [3, 2, [0, 1, 2, 10, 11, 12]], 2: [3, 2, [2, 1, 0, 12, 11, 10]], 3: [3, 2, [12, 11, 10, 2, 1, 0]],
    4: [3, 2, [10, 11, 12, 0, 1, 2]], 5: [2, 3, [0, 10, 1, 11, 2, 12]], 6: [2, 3, [10, 0, 11, 1, 12, 2]],
    7: [2, 3, [12, 2, 11, 1, 10, 0]], 8: [2, 3, [2, 12, 1, 11, 0, 10]],
  };
  const rgb = new Uint8Array(18);
  for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) rgb.set([x + 10 * y, 100 + x, 200 + y], (y * 3 + x) * 3);
  for (let k = 1; k <= 8; k++) {
    const out = applyExifOrientation({ width: 3, height: 2, rgb }, k);
    assert.deepEqual([out.width, out.height, Array.from(out.rgb.filter((_, i) => i % 3 === 0))], expected[k], `orientation ${k}`);
  }
});

test('names unsupported formats and broken files', () => {
  const bmp = Buffer.concat([Buffer.from('BM', 'latin1'), Buffer.alloc(60)]);
  const webp = Buffer.concat([Buffer.from('RIFF\x10\0\0\0WEBPVP8 ', 'latin1'), Buffer.alloc(20)]);
  assert.deepEqual([bmp, webp].map((b) => detectImageFormat(b)), ['bmp', 'webp']);
  assert.throws(() => decodeImage(bmp, 'cat.bmp'), /^Error: cat.bmp: a BMP image, an unsupported format; use a PNG or JPEG image$/);
  assert.throws(() => decodeImage(webp, 'cat.webp'), /cat.webp: a WebP image, an unsupported format; use a PNG or JPEG image/);
  assert.throws(() => decodeImage(Buffer.from('hello world'), 'x.png'), /x.png: not a PNG or JPEG image \(first bytes: 68 65 6c 6c 6f 20 77 6f\); use a PNG or JPEG image/);
  assert.throws(() => decodeImage(new Uint8Array(0), 'empty.png'), /empty.png: not a PNG or JPEG image \(first bytes: none, the file is empty\)/);
  const png = encodePng(new Uint8Array(12), 2, 2);
  const corrupt = png.slice();
  corrupt[20] ^= 0xff; // inside IHDR
  assert.throws(() => decodeImage(corrupt, 'bad.png'), /bad.png: corrupt or unsupported PNG: .*CRC/i);
  const jpeg = new Uint8Array(encodeJpeg({ width: 8, height: 8, data: new Uint8Array(256) }, 90).data);
  assert.throws(() => decodeImage(jpeg.subarray(0, 30), 'cut.jpg'), /cut.jpg: corrupt or unsupported JPEG: /);
});

test('reads an image file and says which file could not be read', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imageIo-'));
  try {
    const file = path.join(dir, 'init.png');
    fs.writeFileSync(file, encodePng(Uint8Array.of(1, 2, 3), 1, 1));
    assert.deepEqual(readImageFile(file), { width: 1, height: 1, rgb: Uint8Array.of(1, 2, 3) });
    assert.throws(() => readImageFile(path.join(dir, 'missing.png')), /cannot read image file .*missing.png: ENOENT/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('reads a PNG\'s and a JPEG\'s header without decoding: size, depth, colour, frames, orientation', () => {
  const grey16 = craftPng(3, 2, 16, 0, [], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(readImageHeader(grey16), { format: 'png', width: 3, height: 2, bitDepth: 16, color: 'grey', frames: 1, orientation: 1 });
  const actl = Buffer.alloc(8);
  actl.writeUInt32BE(5, 0);
  const apng = craftPng(1, 1, 8, 6, [chunk('acTL', actl)], [0, 1, 2, 3, 255]);
  assert.equal(readImageHeader(apng).frames, 5);
  assert.equal(readImageHeader(apng).color, 'rgba');
  // an animated PNG decodes to its default image (PIL's frame 0, what A1111 reads)
  assert.deepEqual(decodeImage(apng), { width: 1, height: 1, rgb: Uint8Array.of(1, 2, 3) });
  const jpeg = withOrientation(new Uint8Array(encodeJpeg({ width: 16, height: 8, data: new Uint8Array(16 * 8 * 4) }, 90).data), 6);
  assert.deepEqual(readImageHeader(jpeg), { format: 'jpeg', width: 16, height: 8, bitDepth: 8, color: 'rgb', frames: 1, orientation: 6 });
  assert.throws(() => readImageHeader(Buffer.from('GIF89a......'), 'anim.gif'), /anim.gif: a GIF image, an unsupported format; use a PNG or JPEG image/);
  assert.throws(() => readImageHeader(jpeg.subarray(0, 20), 'cut.jpg'), /cut.jpg: corrupt or unsupported JPEG: no frame header/);
});

/** The JPEG with its SOF0 size rewritten: a small file that declares a huge image. */
function withDeclaredSize(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const out = Buffer.from(jpeg);
  for (let at = 2; at + 9 < out.length;) {
    if (out[at + 1] === 0xc0) {
      out.writeUInt16BE(height, at + 5);
      out.writeUInt16BE(width, at + 7);
      return new Uint8Array(out);
    }
    at += 2 + out.readUInt16BE(at + 2);
  }
  throw new Error('no SOF0');
}

test('refuses images over the limits from their header, before decoding (a small file may declare gigapixels)', () => {
  assert.equal(MAX_SIDE, LIMITS.initImageSideMax);
  const jpeg = new Uint8Array(encodeJpeg({ width: 8, height: 8, data: new Uint8Array(256) }, 90).data);
  const huge = withDeclaredSize(jpeg, 60_000, 60_000);
  assert.deepEqual([readImageHeader(huge).width, readImageHeader(huge).height], [60_000, 60_000]);
  const started = performance.now();
  assert.throws(() => decodeImage(huge, 'huge.jpg'), /^Error: huge.jpg: 60000×60000 is over the 100 megapixel limit for init images$/);
  assert.throws(() => decodeImage(withDeclaredSize(jpeg, 20_000, 100), 'long.jpg'), /long.jpg: 20000×100 has a side over the 16384 pixel limit/);
  const tallPng = craftPng(1, 20_000, 8, 0, [], [0, 0]);
  assert.throws(() => decodeImage(tallPng, 'tall.png'), /tall.png: 1×20000 has a side over the 16384 pixel limit/);
  assert.ok(performance.now() - started < 2000, 'refused from the header, not after decoding');
});
