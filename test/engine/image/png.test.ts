import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { decode as decodeWithFastPng, encode as encodeWithFastPng } from 'fast-png';
import { crc32Table, encodePng, readPngText } from '../../../src/engine/image/png';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A deterministic image with smooth areas, edges and noise (an LCG, not the code under test). */
function makeImage(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  let state = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      state = (state * 1103515245 + 12345) >>> 0;
      const noise = (state >>> 24) & 15;
      const i = (y * width + x) * 3;
      rgb[i] = (x * 255 / Math.max(1, width - 1) + noise) & 255;
      rgb[i + 1] = x > width / 2 ? 200 : (y * 7) & 255;
      rgb[i + 2] = (x ^ y) & 255;
    }
  }
  return rgb;
}

/** Chunks of a PNG as [type, data], read with plain DataView (independent of the module). */
function listChunks(png: Uint8Array): Array<[string, Uint8Array]> {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: Array<[string, Uint8Array]> = [];
  for (let at = 8; at < png.length;) {
    const length = view.getUint32(at);
    chunks.push([Buffer.from(png.subarray(at + 4, at + 8)).toString('latin1'), png.subarray(at + 8, at + 8 + length)]);
    at += 12 + length;
  }
  return chunks;
}

/** One chunk built by hand: length, type, data, zlib.crc32(type + data). */
function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(zlib.crc32(body), 8 + data.length);
  return out;
}

/** A 2×1 RGB PNG as PIL writes A1111's: IHDR, then the given text chunks, IDAT (filter 0), IEND. */
function craftPng(textChunks: Buffer[]): Uint8Array {
  const ihdr = Buffer.from([0, 0, 0, 2, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
  const idat = zlib.deflateSync(Buffer.from([0, 255, 0, 0, 0, 0, 255]));
  return new Uint8Array(Buffer.concat([Buffer.from(SIGNATURE), chunk('IHDR', ihdr), ...textChunks,
    chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]));
}

const INFOTEXT = 'a cat\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7.0, Seed: 1, Size: 512x512';

test('round-trips pixels through an independent decoder (fast-png)', () => {
  for (const [width, height] of [[1, 1], [37, 23], [3, 64], [256, 128]]) {
    const rgb = makeImage(width, height);
    const decoded = decodeWithFastPng(encodePng(rgb, width, height));
    assert.deepEqual(
      { width: decoded.width, height: decoded.height, depth: decoded.depth, channels: decoded.channels, data: Array.from(decoded.data) },
      { width, height, depth: 8, channels: 3, data: Array.from(rgb) },
      `${width}×${height}`);
  }
});

test('writes IHDR, text, IDAT, IEND with a zlib stream of filtered rows', () => {
  const rgb = makeImage(5, 4);
  const png = encodePng(rgb, 5, 4, { parameters: INFOTEXT });
  assert.deepEqual(Array.from(png.subarray(0, 8)), SIGNATURE);
  const chunks = listChunks(png);
  assert.deepEqual(chunks.map(([type]) => type), ['IHDR', 'tEXt', 'IDAT', 'IEND']);
  assert.deepEqual(Array.from(chunks[0][1]), [0, 0, 0, 5, 0, 0, 0, 4, 8, 2, 0, 0, 0]);
  const raw = zlib.inflateSync(chunks[2][1]);
  assert.equal(raw.length, 4 * (1 + 5 * 3));
  for (let y = 0; y < 4; y++) assert.ok(raw[y * 16] <= 4, `row ${y} filter type ${raw[y * 16]}`);
});

test('stores Latin-1 text as tEXt that fast-png reads back', () => {
  const text = 'caf\u00e9 \u00ff, 7:5';
  const png = encodePng(makeImage(2, 2), 2, 2, { parameters: text, Software: 'x' });
  const tEXt = listChunks(png).filter(([type]) => type === 'tEXt').map(([, data]) => Buffer.from(data).toString('latin1'));
  assert.deepEqual(tEXt, [`parameters\0${text}`, 'Software\0x']);
  assert.deepEqual(decodeWithFastPng(png).text, { parameters: text, Software: 'x' });
  assert.deepEqual(readPngText(png), { parameters: text, Software: 'x' });
});

test('stores non-Latin-1 text as uncompressed iTXt in UTF-8', () => {
  const text = '一只猫 😀\nSteps: 1';
  const png = encodePng(makeImage(2, 2), 2, 2, { parameters: text });
  const iTXt = listChunks(png).filter(([type]) => type === 'iTXt').map(([, data]) => Array.from(data));
  assert.deepEqual(iTXt, [[...Buffer.from('parameters\0\0\0\0\0', 'latin1'), ...Buffer.from(text, 'utf8')]]);
  assert.deepEqual(readPngText(png), { parameters: text });
});

test('reads a hand-made A1111 PNG (tEXt parameters) and a fast-png one', () => {
  const a1111 = craftPng([chunk('tEXt', Buffer.from(`parameters\0${INFOTEXT}`, 'latin1'))]);
  assert.deepEqual(readPngText(a1111), { parameters: INFOTEXT });
  const fast = encodeWithFastPng({ width: 1, height: 1, data: new Uint8Array(3), channels: 3, depth: 8, text: { parameters: INFOTEXT } });
  assert.deepEqual(readPngText(fast), { parameters: INFOTEXT });
});

/** 1×1 (10, 20, 30) PNGs written by PIL 9.4 with PngInfo.add_text('parameters', …), as A1111 saves. */
const PIL_LATIN1_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAAbHRFWHRwYXJhbWV0ZXJzAGEgY2F0Ck5lZ2F0aXZlIHByb21wdDogYmx1cnJ5ClN0ZXBzOiAyMCwgU2FtcGxlcjogRXVsZXIgYSwgQ0ZHIHNjYWxlOiA3LjAsIFNlZWQ6IDEsIFNpemU6IDUxMng1MTKX+fSQAAAADElEQVR4nGPgEpEDAABoAD1UCKP3AAAAAElFTkSuQmCC';
const PIL_UNICODE_TEXT = '一只猫 😀\nSteps: 20, Sampler: Euler a, Seed: 1';
const PIL_UNICODE_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAAQmlUWHRwYXJhbWV0ZXJzAAAAAADkuIDlj6rnjKsg8J+YgApTdGVwczogMjAsIFNhbXBsZXI6IEV1bGVyIGEsIFNlZWQ6IDEUsJIhAAAADElEQVR4nGPgEpEDAABoAD1UCKP3AAAAAElFTkSuQmCC';

test('reads PNGs written by PIL for A1111 (tEXt and iTXt)', () => {
  assert.deepEqual(readPngText(Buffer.from(PIL_LATIN1_PNG, 'base64')), { parameters: INFOTEXT });
  assert.deepEqual(readPngText(Buffer.from(PIL_UNICODE_PNG, 'base64')), { parameters: PIL_UNICODE_TEXT });
});

test('writes text chunks byte for byte as PIL add_text does', () => {
  for (const [base64, text] of [[PIL_LATIN1_PNG, INFOTEXT], [PIL_UNICODE_PNG, PIL_UNICODE_TEXT]]) {
    const textChunks = (png: Uint8Array): Array<[string, number[]]> =>
      listChunks(png).filter(([type]) => type.endsWith('Xt')).map(([type, data]) => [type, Array.from(data)]);
    const ours = encodePng(Uint8Array.of(10, 20, 30), 1, 1, { parameters: text });
    assert.deepEqual(textChunks(ours), textChunks(new Uint8Array(Buffer.from(base64, 'base64'))));
    assert.deepEqual(Array.from(decodeWithFastPng(ours).data), [10, 20, 30]);
  }
});

test('reads zTXt and compressed iTXt', () => {
  const zTXt = chunk('zTXt', Buffer.concat([Buffer.from('Comment\0\0', 'latin1'), zlib.deflateSync(Buffer.from('Ol\u00e9', 'latin1'))]));
  // keyword NUL, compressed 1, method 0, language "ja" NUL, translated keyword (UTF-8) NUL, deflated UTF-8 text.
  const iTXt = chunk('iTXt', Buffer.concat([Buffer.from('parameters\0\x01\0ja\0', 'latin1'), Buffer.from('パラメータ\0', 'utf8'),
    zlib.deflateSync(Buffer.from('猫, Steps: 1', 'utf8'))]));
  assert.deepEqual(readPngText(craftPng([zTXt, iTXt])), { Comment: 'Ol\u00e9', parameters: '猫, Steps: 1' });
});

test('reads a PNG without text as {}', () => {
  assert.deepEqual(readPngText(craftPng([])), {});
});

test('says what is wrong with a broken PNG', () => {
  const good = craftPng([chunk('tEXt', Buffer.from('parameters\0x', 'latin1'))]);
  assert.throws(() => readPngText(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0)), /not a PNG: expected the signature 89 50 4e 47 0d 0a 1a 0a, got ff d8 ff e0/);
  const corrupt = good.slice();
  corrupt[8 + 25 + 12] ^= 1; // a byte inside the tEXt data
  assert.throws(() => readPngText(corrupt), /corrupt PNG: chunk tEXt at byte 33 has CRC 0x[0-9a-f]{8}, but its bytes give 0x[0-9a-f]{8}/);
  assert.throws(() => readPngText(good.subarray(0, 50)), /truncated PNG: chunk tEXt at byte 33 declares 12 data bytes/);
  assert.throws(() => readPngText(good.subarray(0, good.length - 12)), /truncated PNG: expected a chunk header at byte \d+ \(or an IEND chunk before\)/);
  const noNul = craftPng([chunk('tEXt', Buffer.from('parameters', 'latin1'))]);
  assert.throws(() => readPngText(noNul), /tEXt keyword is not terminated by a NUL byte/);
  const badZ = craftPng([chunk('zTXt', Buffer.from('k\0\0not zlib', 'latin1'))]);
  assert.throws(() => readPngText(badZ), /zTXt chunk holds compressed text that zlib cannot inflate/);
});

test('rejects bad sizes, pixel counts, keywords and NUL in text', () => {
  assert.throws(() => encodePng(new Uint8Array(12), 2, 3), /expected 2×3×3 = 18 RGB bytes, got 12/);
  assert.throws(() => encodePng(new Uint8Array(0), 0, 1), /PNG width must be an integer in 1\.\.2147483647, got 0/);
  const rgb = new Uint8Array(3);
  for (const keyword of ['', 'k'.repeat(80), ' lead', 'two  spaces', 'caf\u00e9\u0100', 'tab\t']) {
    assert.throws(() => encodePng(rgb, 1, 1, { [keyword]: 'x' }), /PNG text keyword must be 1-79 printable Latin-1 characters/, JSON.stringify(keyword));
  }
  assert.doesNotThrow(() => encodePng(rgb, 1, 1, { ['k'.repeat(79)]: 'x', 'caf\u00e9 ok': 'y' }));
  assert.throws(() => encodePng(rgb, 1, 1, { parameters: 'a\0b' }), /contains a NUL character/);
});

test('the table CRC-32 matches zlib.crc32', () => {
  const data = makeImage(50, 50);
  assert.equal(crc32Table(data), zlib.crc32(data));
  assert.equal(crc32Table(new Uint8Array(0)), 0);
  assert.equal(crc32Table(Buffer.from('123456789')), 0xcbf43926);
});

test('encodes a 512×512 image fast enough', (t) => {
  const rgb = makeImage(512, 512);
  encodePng(rgb, 512, 512);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    encodePng(rgb, 512, 512, { parameters: INFOTEXT });
    times.push(performance.now() - start);
  }
  const best = Math.min(...times);
  t.diagnostic(`encodePng 512×512: best ${best.toFixed(1)} ms of 5`);
  // ~30–40 ms on one free core; generous so a loaded test machine does not fail it.
  assert.ok(best < 250, `encodePng 512×512 took ${best.toFixed(1)} ms`);
});
