/**
 * AUTOMATIC1111's "RNG: NV" (`modules/rng_philox.py`): what `torch.randn` gives on a CUDA device,
 * computed on the CPU. Philox4x32-10 (Salmon et al., 2011) with key = the 64-bit seed (low word first)
 * and, for element i of a call, counter = [offset, 0, i, 0]; one Box–Muller output per element from
 * the first two words, in double, then stored as float32. Each call advances offset by one.
 */
import type { Rng } from './types';
import { toBigIntSeed } from './seed';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const ROUNDS = 10;

// A1111's float32 constants: 2^-32 and 2^-32·2π, as numpy float32 arrays (the products run in double).
const TWO_POW32_INV = Math.fround(2.3283064e-10);
const TWO_POW32_INV_2PI = Math.fround(2.3283064e-10 * 6.2831855);

/** High 32 bits of a·b for uint32 a, b (the low half is Math.imul): a·b = (a·bHi)·2^16 + a·bLo, each part exact. */
function mulHi(a: number, b: number): number {
  const partLo = a * (b & 0xffff);
  const partHi = a * (b >>> 16);
  return Math.floor((partHi + Math.floor(partLo / 65536)) / 65536);
}

/**
 * Philox4x32-10 (Random123's `philox4x32`): ten rounds on counter (c0, c1, c2, c3) with key (k0, k1),
 * the key bumped by the Weyl constants between rounds. Writes the four output words into out.
 */
export function philox4x32Into(out: Uint32Array, c0: number, c1: number, c2: number, c3: number, k0: number, k1: number): void {
  for (let round = 0; round < ROUNDS; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulHi(c0, M0);
    const lo0 = Math.imul(c0, M0) >>> 0;
    const hi2 = mulHi(c2, M1);
    const lo2 = Math.imul(c2, M1) >>> 0;
    c0 = (hi2 ^ c1 ^ k0) >>> 0;
    c1 = lo2;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

export class PhiloxGenerator implements Rng {
  private readonly keyLo: number;
  private readonly keyHi: number;
  /** Number of randn calls so far: the first counter word of the next call. */
  private offset = 0;
  private readonly words = new Uint32Array(4);

  constructor(seed: number | bigint) {
    const key = toBigIntSeed(seed);
    this.keyLo = Number(key & 0xffffffffn);
    this.keyHi = Number(key >> 32n);
  }

  randn(count: number): Float32Array {
    if (!Number.isSafeInteger(count) || count < 0 || count > 2 ** 32) {
      throw new RangeError(`Expected an integer count in [0, 2^32], got ${count}`);
    }
    const out = new Float32Array(count);
    const offset = this.offset >>> 0; // numpy keeps it in a uint32 counter word
    this.offset++;
    const words = this.words;
    for (let i = 0; i < count; i++) {
      philox4x32Into(words, offset, 0, i >>> 0, 0, this.keyLo, this.keyHi);
      out[i] = boxMullerFirst(words[0], words[1]); // words 2 and 3 are discarded
    }
    return out;
  }
}

/** A1111's `box_muller`: u, v uniform in (0, 1) and (0, 2π) from two words; returns √(−2 ln u)·sin v. */
function boxMullerFirst(x: number, y: number): number {
  const u = x * TWO_POW32_INV + TWO_POW32_INV / 2;
  const v = y * TWO_POW32_INV_2PI + TWO_POW32_INV_2PI / 2;
  return Math.sqrt(-2.0 * Math.log(u)) * Math.sin(v);
}
