/**
 * torch's CPU `randn` (torch 1.13, `torch.Generator().manual_seed(seed)`), number for number:
 * - fewer than 16 numbers: `at::normal_distribution<double>` per element — Box–Muller in double on two
 *   53-bit uniforms, returning r·cos θ and caching r·sin θ in the generator for the next such element;
 * - 16 or more: `normal_fill` — float32 uniforms from 24-bit draws, then blocks of 16 (u1 = 1 − first 8,
 *   u2 = next 8); a last partial block redraws 16 uniforms over the last 16 slots.
 * The 16-wide transform is x86-64's AVX2 kernel (bit-exact) or the portable scalar kernel.
 */
import type { Rng } from './types';
import { logAvx2, sincosAvx2 } from './avx2Math';
import { Mt19937 } from './mt19937';

/** Which `normal_fill_16` torch ran: `avx2` (x86-64 with AVX2, the default) or `scalar` (portable). */
export type TorchKernel = 'avx2' | 'scalar';

export interface TorchGeneratorOptions {
  readonly kernel?: TorchKernel;
}

const TWO_PI_F32 = Math.fround(2 * Math.PI);
const TWO_POW_M24 = 2 ** -24;
const TWO_POW_M53 = 2 ** -53;
const BLOCK = 16;
const HALF = 8;

export class TorchGenerator implements Rng {
  private readonly engine: Mt19937;
  private readonly kernel: TorchKernel;
  /** torch's `next_double_normal_sample`: the r·sin θ left over from the last double Box–Muller. */
  private cachedNormal: number | undefined = undefined;
  private readonly sincos = new Float64Array(2);

  constructor(seed: number | bigint, options: TorchGeneratorOptions = {}) {
    this.engine = new Mt19937(seed);
    this.kernel = options.kernel ?? 'avx2';
    if (this.kernel !== 'avx2' && this.kernel !== 'scalar') {
      throw new Error(`Expected kernel 'avx2' or 'scalar', got '${String(this.kernel)}'`);
    }
  }

  randn(count: number): Float32Array {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`Expected a non-negative integer count, got ${count}`);
    }
    const out = new Float32Array(count);
    if (count < BLOCK) {
      for (let i = 0; i < count; i++) out[i] = this.nextDoubleNormal();
      return out;
    }
    this.fillUniform(out, 0, count);
    for (let i = 0; i + BLOCK <= count; i += BLOCK) this.transformBlock(out, i);
    if (count % BLOCK !== 0) {
      this.fillUniform(out, count - BLOCK, count);
      this.transformBlock(out, count - BLOCK);
    }
    return out;
  }

  /** `uniform_real_distribution<float>(0, 1)`: the low 24 bits of one 32-bit draw, times 2^-24. */
  private fillUniform(data: Float32Array, start: number, end: number): void {
    const engine = this.engine;
    for (let i = start; i < end; i++) data[i] = (engine.nextUint32() & 0xffffff) * TWO_POW_M24;
  }

  /** `uniform_real_distribution<double>(0, 1)`: 53 bits of `random64()` (first draw high), times 2^-53. */
  private nextUniformDouble(): number {
    const hi = this.engine.nextUint32();
    const lo = this.engine.nextUint32();
    return ((hi & 0x1fffff) * 2 ** 32 + lo) * TWO_POW_M53;
  }

  /** `at::normal_distribution<double>(0, 1)` with the generator's cached second value. */
  private nextDoubleNormal(): number {
    if (this.cachedNormal !== undefined) {
      const cached = this.cachedNormal;
      this.cachedNormal = undefined;
      return cached;
    }
    const u1 = this.nextUniformDouble();
    const u2 = this.nextUniformDouble();
    const r = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = 2 * Math.PI * u1;
    this.cachedNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Box–Muller over data[i..i+16): u1 = 1 − data[i+k], u2 = data[i+8+k], k < 8. */
  private transformBlock(data: Float32Array, i: number): void {
    const fround = Math.fround;
    const sc = this.sincos;
    const isAvx2 = this.kernel === 'avx2';
    for (let k = 0; k < HALF; k++) {
      const u1 = fround(1 - data[i + k]);
      const u2 = data[i + HALF + k];
      if (isAvx2) {
        const radius = fround(Math.sqrt(fround(-2 * logAvx2(u1))));
        sincosAvx2(fround(TWO_PI_F32 * u2), sc);
        // + 0 as the kernel's fma(n, std = 1, mean = 0) does: it turns −0 into +0
        data[i + k] = fround(radius * sc[1]) + 0;
        data[i + HALF + k] = fround(radius * sc[0]) + 0;
      } else {
        const radius = fround(Math.sqrt(fround(-2 * fround(Math.log(u1)))));
        const theta = fround(2 * Math.PI * u2);
        data[i + k] = fround(radius * fround(Math.cos(theta))) + 0;
        data[i + HALF + k] = fround(radius * fround(Math.sin(theta))) + 0;
      }
    }
  }
}
