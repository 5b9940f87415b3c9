/**
 * float32 log and sincos exactly as torch 1.13's x86-64 AVX2 `normal_fill_16_AVX2` computes them:
 * Cephes polynomials from `avx_mathfun.h` (Pommier's sse_mathfun ported to AVX), with the fused
 * multiply-adds that GCC contracted in the shipped kernel (read from the disassembly of
 * libtorch_cpu.so 1.13; the reference vectors confirm it). One lane at a time, in float32.
 */

const fround = Math.fround;

// Cephes constants, as the C source writes them (double literals stored as float).
const LOG_P = [
  7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
  -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(fround);
const LOG_Q1 = fround(-2.12194440e-4);
const LOG_Q2 = fround(0.693359375);
const SQRTHF = fround(0.707106781186547524);
const MIN_NORM_POS = 1.1754943508222875e-38; // 2^-126, the smallest normal float
const FOPI = fround(1.27323954473516); // 4/π
const MINUS_DP1 = fround(-0.78515625);
const MINUS_DP2 = fround(-2.4187564849853515625e-4);
const MINUS_DP3 = fround(-3.77489497744594108e-8);
const SIN_P0 = fround(-1.9515295891e-4);
const SIN_P1 = fround(8.3321608736e-3);
const SIN_P2 = fround(-1.6666654611e-1);
const COS_P0 = fround(2.443315711809948e-5);
const COS_P1 = fround(-1.388731625493765e-3);
const COS_P2 = fround(4.166664568298827e-2);

const bitsF32 = new Float32Array(1);
const bitsI32 = new Int32Array(bitsF32.buffer);

/**
 * a·b + c rounded once to float32, for float32 a, b, c (as `vfmadd` does).
 * a·b is exact in double; p + c rounded to double and then to float is right except when the double
 * sum lands exactly halfway between two floats: then the sum's rounding error (TwoSum) breaks the tie.
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = fround(s);
  const d = s - r;
  if (d === 0) return r;
  const across = r + 2 * d; // the float on the other side, when s is a midpoint
  if (fround(across) !== across) return r;
  const pVirtual = s - c;
  const err = (p - pVirtual) + (c - (s - pVirtual));
  if (err === 0) return r; // a true tie: fround already rounded it to even
  return (err > 0) === (across > r) ? across : r;
}

/** Natural log of a float32 x > 0, as `log256_ps` (one lane). */
export function logAvx2(value: number): number {
  bitsF32[0] = value > MIN_NORM_POS ? value : MIN_NORM_POS;
  const bits = bitsI32[0];
  let e = (bits >>> 23) - 127 + 1; // small integer: exact as float
  bitsI32[0] = (bits & ~0x7f800000) | 0x3f000000; // mantissa in [0.5, 1)
  let x = bitsF32[0];
  // if (x < SQRTHF) { e -= 1; x = x + x - 1 } else { x = x - 1 }
  if (x < SQRTHF) {
    e -= 1;
    x = fround(x + fround(x - 1));
  } else {
    x = fround(x - 1);
  }
  const z = fround(x * x);
  let y = LOG_P[0];
  for (let k = 1; k < 9; k++) y = fmaF32(y, x, LOG_P[k]);
  y = fround(x * y);
  y = fmaF32(y, z, fround(e * LOG_Q1));
  y = fmaF32(-z, 0.5, y);
  x = fround(x + y);
  return fmaF32(e, LOG_Q2, x);
}

/** sin and cos of a float32 angle ≥ 0, as `sincos256_ps` (one lane); writes [sin, cos] into out. */
export function sincosAvx2(angle: number, out: Float64Array): void {
  // 1. Octant j (rounded up to even) and the extended-precision reduction x = angle − j·π/4.
  let j = Math.trunc(fround(angle * FOPI));
  j = (j + 1) & ~1;
  let x = fmaF32(j, MINUS_DP1, angle);
  x = fmaF32(j, MINUS_DP2, x);
  x = fmaF32(j, MINUS_DP3, x);
  const z = fround(x * x);
  // 2. Cosine polynomial: 1 − z/2 + z²·(p0·z² + p1·z + p2).
  let yc = fmaF32(z, COS_P0, COS_P1);
  yc = fmaF32(z, yc, COS_P2);
  yc = fround(z * yc);
  yc = fmaF32(yc, z, -fround(z * 0.5));
  yc = fround(yc + 1);
  // 3. Sine polynomial: x + x·z·(p0·z² + p1·z + p2).
  let ys = fmaF32(z, SIN_P0, SIN_P1);
  ys = fmaF32(z, ys, SIN_P2);
  ys = fround(z * ys);
  ys = fmaF32(ys, x, x);
  // 4. Pick the polynomial and the sign for each function from the octant.
  const isSinPoly = (j & 2) === 0;
  const sin = isSinPoly ? ys : yc;
  const cos = isSinPoly ? yc : ys;
  out[0] = (j & 4) !== 0 ? -sin : sin;
  out[1] = ((j - 2) & 4) === 0 ? -cos : cos;
}
