import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from 'fast-png';
import { paethFilterRows, vaePlanesToRgb } from '../../../src/engine/image/pixelKernels';
import { kernelModuleBytes } from '../../../src/engine/image/pixelKernelsSource';
import { PIXEL_KERNELS_WASM } from '../../../src/engine/image/pixelKernelsWasm';
import { encodePng } from '../../../src/engine/image/png';
import { lcg } from '../../fixtures/lcg';

test('the engine\'s WebAssembly bytes are exactly what pixelKernelsSource.ts assembles, and valid', () => {
  const assembled = Buffer.from(kernelModuleBytes()).toString('base64');
  assert.equal(PIXEL_KERNELS_WASM, assembled, `src/engine/image/pixelKernelsWasm.ts needs PIXEL_KERNELS_WASM = '${assembled}'`);
  assert.equal((globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(kernelModuleBytes()), true);
});

/** PNG spec 9.4, written plainly: every row filter type 4, each byte minus the Paeth predictor of a, b, c. */
function paethReference(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const stride = width * 3;
  const out = new Uint8Array(height * (stride + 1));
  const at = (y: number, i: number): number => (y < 0 || i < 0 ? 0 : rgb[y * stride + i]);
  for (let y = 0; y < height; y++) {
    out[y * (stride + 1)] = 4;
    for (let i = 0; i < stride; i++) {
      const a = at(y, i - 3);
      const b = at(y - 1, i);
      const c = at(y - 1, i - 3);
      const p = a + b - c;
      const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
      const predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      out[y * (stride + 1) + 1 + i] = (at(y, i) - predictor) & 0xff;
    }
  }
  return out;
}

function randomBytes(n: number, seed: number, smooth: boolean): Uint8Array {
  const next = lcg(seed);
  return Uint8Array.from({ length: n }, (_, i) => {
    const state = next();
    return smooth ? (128 + 100 * Math.sin(i / 50) + (state >>> 29)) & 0xff : state >>> 24;
  });
}

test('the Paeth filter equals the PNG spec\'s, row by row, for every shape of image', () => {
  const sizes: Array<[number, number]> = [[1, 1], [1, 9], [9, 1], [2, 2], [3, 5], [64, 64], [97, 13], [640, 8]];
  sizes.forEach(([width, height], k) => {
    for (const smooth of [false, true]) {
      const rgb = randomBytes(width * height * 3, 17 + k, smooth);
      assert.deepEqual(paethFilterRows(rgb, width, height), paethReference(rgb, width, height), `${width}x${height}`);
    }
  });
});

test('PNGs written through the kernels decode to the same pixels; large images leave the kernels usable', () => {
  for (const [width, height] of [[64, 64], [1600, 1200], [5, 3]]) {
    const rgb = randomBytes(width * height * 3, width, true);
    const decoded = decode(encodePng(rgb, width, height));
    assert.deepEqual([decoded.width, decoded.height, decoded.channels, decoded.depth], [width, height, 3, 8]);
    assert.deepEqual(Buffer.from(decoded.data as Uint8Array), Buffer.from(rgb), `${width}x${height}`);
  }
  // Past 32 MB of kernel memory (a 1500² VAE output needs 34 MB) the instance is dropped after the call; the next works.
  const big = 1500 * 1500;
  const mid = vaePlanesToRgb(new Float32Array(3 * big), 0, big);
  assert.equal(mid.length, 3 * big);
  assert.ok(mid.every((v) => v === 128));
  // Batch items are read from their own offset.
  const planes = new Float32Array(2 * 3 * 4).map((_, i) => (i < 12 ? -1 : 1));
  assert.deepEqual(Array.from(vaePlanesToRgb(planes, 0, 4)), new Array(12).fill(0));
  assert.deepEqual(Array.from(vaePlanesToRgb(planes, 12, 4)), new Array(12).fill(255));
});
