/**
 * float32 ⇄ IEEE 754 binary16 conversion over whole arrays (ONNX Runtime takes and may return float16 as the bit
 * patterns in a Uint16Array; newer runtimes may return a Float16Array). float32 → float16 rounds to nearest, ties
 * to even, with subnormals, ±Inf and NaN (payload kept, quiet bit set); float16 → float32 is exact (table lookup).
 */

let halfToFloatTable: Float32Array | undefined;

/** The 65,536 float32 values of every float16 bit pattern, built on first use (256 KiB). */
function getHalfTable(): Float32Array {
  if (halfToFloatTable !== undefined) return halfToFloatTable;
  const table = new Float32Array(65536);
  const bits = new Uint32Array(table.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0x1f) {
      bits[h] = sign | 0x7f800000 | (mant << 13);
    } else if (exp === 0) {
      table[h] = (sign !== 0 ? -mant : mant) * 2 ** -24;
    } else {
      bits[h] = sign | ((exp + 112) << 23) | (mant << 13);
    }
  }
  halfToFloatTable = table;
  return table;
}

/** float32 bit pattern → float16 bit pattern, round to nearest even. */
function floatBitsToHalf(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const a = u & 0x7fffffff;
  if (a >= 0x7f800000) {
    // Inf stays Inf; NaN keeps its top payload bits and is made quiet so it cannot turn into Inf.
    return a === 0x7f800000 ? sign | 0x7c00 : sign | 0x7e00 | ((a >>> 13) & 0x3ff);
  }
  if (a >= 0x477ff000) return sign | 0x7c00; // ≥ 65520 rounds past 65504 to Inf
  if (a >= 0x38800000) {
    // Normal half: rebias the exponent (127 → 15) and round off 13 mantissa bits.
    let h = (a - 0x38000000) >>> 13;
    const rem = a & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++;
    return sign | h;
  }
  if (a <= 0x33000000) return sign; // ≤ 2^-25: zero (2^-25 itself ties to even 0)
  // Subnormal half: value = mant · 2^(e−150); in units of 2^-24 that is mant >> (126 − e).
  const e = a >>> 23;
  const mant = (a & 0x7fffff) | 0x800000;
  const shift = 126 - e;
  let h = mant >>> shift;
  const rem = mant & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rem > halfway || (rem === halfway && (h & 1) !== 0)) h++;
  return sign | h;
}

/** Float32Array → float16 bit patterns (what ONNX Runtime takes as a 'float16' tensor). */
export function float32ToFloat16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < bits.length; i++) out[i] = floatBitsToHalf(bits[i]);
  return out;
}

/** float16 bit patterns → Float32Array (exact). */
export function float16ToFloat32(src: Uint16Array): Float32Array {
  const table = getHalfTable();
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]];
  return out;
}

/** The global Float16Array constructor where the runtime has one (Node ≥ 24 / flags), else undefined. */
function float16ArrayCtor(): (abstract new (...args: never[]) => ArrayBufferView) | undefined {
  const ctor: unknown = (globalThis as Record<string, unknown>).Float16Array;
  return typeof ctor === 'function' ? (ctor as abstract new (...args: never[]) => ArrayBufferView) : undefined;
}

/**
 * Any float tensor payload ONNX Runtime returns → Float32Array, converting once: Float32Array as is,
 * Uint16Array as float16 bits, Float16Array through its bits, Float64Array narrowed.
 */
export function toFloat32(data: unknown, what = 'tensor'): Float32Array {
  if (data instanceof Float32Array) return data;
  if (data instanceof Uint16Array) return float16ToFloat32(data);
  const f16 = float16ArrayCtor();
  if (f16 !== undefined && data instanceof f16) {
    const view = data as ArrayBufferView;
    return float16ToFloat32(new Uint16Array(view.buffer, view.byteOffset, view.byteLength / 2));
  }
  if (data instanceof Float64Array) return Float32Array.from(data);
  const kind = typeof data === 'object' && data !== null ? data.constructor.name : typeof data;
  throw new TypeError(`${what}: expected float data (Float32Array, Uint16Array float16 bits or Float16Array), got ${kind}`);
}
