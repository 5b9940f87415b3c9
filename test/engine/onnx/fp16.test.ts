import assert from 'node:assert/strict';
import { test } from 'node:test';
import { float16ToFloat32, float32ToFloat16, toFloat32 } from '../../../src/engine/onnx/fp16';

/** IEEE 754 binary16 decoded with plain double arithmetic (independent of the table in fp16.ts). */
function decodeHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function bitsOf(values: number[]): number[] {
  return Array.from(float32ToFloat16(Float32Array.from(values)));
}

test('encodes the IEEE 754 binary16 landmarks', () => {
  const cases: Array<[number, number]> = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
    [65519, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00], [-1e6, 0xfc00], [Infinity, 0x7c00], [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [1.5 * 2 ** -25, 0x0001], [2 ** -26, 0x0000],
    [-(2 ** -24), 0x8001], [1023 * 2 ** -24, 0x03ff], [0.1, 0x2e66], [1 / 3, 0x3555], [-0.18215, 0xb1d4],
    // ties to even: 1 + 2^-11 lies halfway between 0x3c00 and 0x3c01 → 0x3c00; 1 + 3·2^-11 → 0x3c02.
    [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [2049, 0x6800], [2051, 0x6802],
    // subnormal ties: 2.5·2^-24 → 2·2^-24; 3.5·2^-24 → 4·2^-24.
    [2.5 * 2 ** -24, 0x0002], [3.5 * 2 ** -24, 0x0004],
    // rounding carries into the exponent: just below 2 rounds up to 2; the largest subnormal rounds up to 2^-14.
    [2 - 2 ** -12, 0x4000], [(1023.5 + 0.25) * 2 ** -24, 0x0400],
  ];
  assert.deepEqual(bitsOf(cases.map((c) => c[0])).map((h) => h.toString(16)), cases.map((c) => c[1].toString(16)));
});

test('NaN stays NaN with the quiet bit set, sign kept', () => {
  const nanBits = new Uint32Array([0x7fc00000, 0x7f800001, 0xffc00000, 0x7fffe000]);
  const halves = Array.from(float32ToFloat16(new Float32Array(nanBits.buffer)));
  assert.deepEqual(halves.map((h) => [(h & 0x7c00) === 0x7c00, (h & 0x200) !== 0, (h & 0x8000) !== 0]),
    [[true, true, false], [true, true, false], [true, true, true], [true, true, false]]);
  assert.ok(Number.isNaN(float16ToFloat32(Uint16Array.from(halves))[1]));
});

test('decodes every one of the 65,536 half bit patterns exactly', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const f = float16ToFloat32(all);
  let mismatches = 0;
  for (let h = 0; h < 65536; h++) {
    const want = decodeHalf(h);
    if (Number.isNaN(want) ? !Number.isNaN(f[h]) : !Object.is(f[h], want)) mismatches++;
  }
  assert.equal(mismatches, 0);
});

test('every finite half round-trips, and every midpoint between neighbours ties to the even one', () => {
  let bad = 0;
  const values: number[] = [];
  const expected: number[] = [];
  for (let h = 0; h < 0x7c00; h++) {
    values.push(decodeHalf(h), -decodeHalf(h));
    expected.push(h, h | 0x8000);
    if (h < 0x7bff) {
      values.push((decodeHalf(h) + decodeHalf(h + 1)) / 2); // exact in float32: one more mantissa bit
      expected.push(h % 2 === 0 ? h : h + 1);
    }
  }
  const got = float32ToFloat16(Float32Array.from(values));
  for (let i = 0; i < values.length; i++) if (got[i] !== expected[i]) bad++;
  assert.equal(bad, 0);
});

test('toFloat32 passes Float32Array through and converts float16 bits once', () => {
  const f = new Float32Array([1, 2]);
  assert.equal(toFloat32(f), f);
  assert.deepEqual(Array.from(toFloat32(new Uint16Array([0x3c00, 0xc000, 0x7c00]))), [1, -2, Infinity]);
  assert.deepEqual(Array.from(toFloat32(new Float64Array([0.5]))), [0.5]);
  assert.throws(() => toFloat32(new Int32Array(1), 'unet out_sample'), /unet out_sample: expected float data.*got Int32Array/);
});

const Float16Ctor = (globalThis as Record<string, unknown>).Float16Array as (new (values: number[]) => ArrayBufferView) | undefined;
test('toFloat32 reads Float16Array outputs (runtimes that have it)', { skip: Float16Ctor === undefined && 'no Float16Array in this Node' }, () => {
  const ctor = Float16Ctor as new (values: number[]) => ArrayBufferView;
  assert.deepEqual(Array.from(toFloat32(new ctor([1, -0.5, 65504]))), [1, -0.5, 65504]);
});
