import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import { decodeImage } from '../../../src/engine/image/imageIo';
import { encodePng, PNG_TEXT_LIMITS, readPngText } from '../../../src/engine/image/png';

// Issue 12 rows 3 and 9: PNG files anyone can send. Before the fix a 255 KB PNG whose zTXt inflates to 256 MB
// became a 268 MB string (+540 MB RSS), and a 560 KB init image declaring 12000×12000 was decoded (+1.1 GB, 4 s)
// before its size was refused.

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(zlib.crc32(body) >>> 0, 8 + data.length);
  return out;
}

/** `png` with extra chunks inserted right after IHDR. */
function withChunks(png: Uint8Array, ...chunks: Buffer[]): Buffer {
  const b = Buffer.from(png);
  const afterIhdr = 8 + 12 + 13;
  return Buffer.concat([b.subarray(0, afterIhdr), ...chunks, b.subarray(afterIhdr)]);
}

const small = encodePng(Uint8Array.of(1, 2, 3), 1, 1, {});
const ztxt = (keyword: string, text: Buffer): Buffer => chunk('zTXt', Buffer.concat([Buffer.from(`${keyword}\0\0`, 'latin1'), zlib.deflateSync(text)]));

test('the limits: 1 MiB of text in all, 64 KiB for parameters', () => {
  assert.deepEqual(PNG_TEXT_LIMITS, { totalBytes: 1 << 20, parametersBytes: 64 << 10 });
});

test('a zTXt chunk that inflates to 64 MB is refused, and zlib is never asked for more than the limit', (t) => {
  const bomb = withChunks(small, ztxt('Comment', Buffer.alloc(64 << 20, 0x61)));
  assert.ok(bomb.length < 100_000, `${bomb.length} bytes`);
  const realZlib = createRequire(__filename)('node:zlib') as typeof zlib;
  const inflate = t.mock.method(realZlib, 'inflateSync');
  assert.throws(() => readPngText(bomb), (e: Error) => /zTXt chunk "Comment" inflates to more than 1048576 bytes/.test(e.message));
  assert.ok(inflate.mock.calls.length >= 1);
  for (const call of inflate.mock.calls) {
    const options = call.arguments[1] as zlib.ZlibOptions | undefined;
    assert.ok(options?.maxOutputLength !== undefined && options.maxOutputLength <= (1 << 20) + 1, JSON.stringify(options));
  }
});

test('text chunks of more than 1 MiB in all are refused, however they are split', () => {
  const parts = Array.from({ length: 5 }, (_, i) => chunk('tEXt', Buffer.concat([Buffer.from(`k${i}\0`, 'latin1'), Buffer.alloc(300_000, 0x62)])));
  assert.throws(() => readPngText(withChunks(small, ...parts)), /text chunks hold more than 1048576 bytes in all/);
});

test('a parameters text over 64 KiB is refused with its size; one under it is read', () => {
  const big = chunk('tEXt', Buffer.concat([Buffer.from('parameters\0', 'latin1'), Buffer.alloc(70_000, 0x63)]));
  assert.throws(() => readPngText(withChunks(small, big)), /"parameters" text is 70000 bytes; at most 65536 are read \(AUTOMATIC1111's are under 10 KB\)/);
  const ok = chunk('tEXt', Buffer.concat([Buffer.from('parameters\0', 'latin1'), Buffer.alloc(60_000, 0x63)]));
  assert.equal(readPngText(withChunks(small, ok)).parameters.length, 60_000);
});

test('an init image declaring 12000×12000 is refused from its IHDR, before any pixel is inflated', () => {
  // a valid IHDR and an IDAT that is not even deflate data: refused for its size, so the pixels were never looked at
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(12000, 0);
  ihdr.writeUInt32BE(12000, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.from('not deflate')), chunk('IEND', Buffer.alloc(0))]);
  assert.throws(() => decodeImage(png, 'init.png'), (e: Error) => e.message === 'init.png: 12000×12000 is over the 100 megapixel limit for init images');
});
