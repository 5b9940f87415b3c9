/**
 * MT19937, the 32-bit Mersenne Twister (Matsumoto & Nishimura, 1998), seeded as torch's
 * `at::mt19937` is: `manual_seed(seed)` keeps only the low 32 bits of the 64-bit seed.
 */
import { toUint32Seed } from './seed';

const STATE_SIZE = 624;
const SHIFT_SIZE = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

export class Mt19937 {
  private readonly state = new Uint32Array(STATE_SIZE);
  private index = STATE_SIZE;

  constructor(seed: number | bigint) {
    const s = this.state;
    s[0] = toUint32Seed(seed);
    for (let j = 1; j < STATE_SIZE; j++) {
      const prev = s[j - 1] ^ (s[j - 1] >>> 30);
      s[j] = Math.imul(1812433253, prev) + j;
    }
  }

  /** The next tempered 32-bit output, as a non-negative number. */
  nextUint32(): number {
    if (this.index >= STATE_SIZE) this.twist();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const s = this.state;
    const mix = (k: number, next: number, far: number): number => {
      const y = (s[k] & UPPER_MASK) | (s[next] & LOWER_MASK);
      return s[far] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    };
    let k = 0;
    for (; k < STATE_SIZE - SHIFT_SIZE; k++) s[k] = mix(k, k + 1, k + SHIFT_SIZE);
    for (; k < STATE_SIZE - 1; k++) s[k] = mix(k, k + 1, k + SHIFT_SIZE - STATE_SIZE);
    s[k] = mix(k, 0, SHIFT_SIZE - 1);
    this.index = 0;
  }
}
