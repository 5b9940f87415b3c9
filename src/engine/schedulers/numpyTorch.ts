/**
 * numpy's and torch's arithmetic where diffusers' numbers depend on it, reproduced exactly: numpy in double,
 * torch float32 buffers with `f32` (Math.fround) after each float32 operation.
 */

export const f32 = Math.fround;

/** numpy's `round` (half to even). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** `np.linspace(start, stop, n)` in double: `i·step + start`, the last value exactly `stop`. */
export function numpyLinspace(start: number, stop: number, n: number): number[] {
  const div = n - 1;
  const delta = stop - start;
  const step = delta / div;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(div > 0 ? (step === 0 ? (i / div) * delta : i * step) + start : i * delta + start);
  if (n > 1) out[n - 1] = stop;
  return out;
}

/** `np.arange(start, stop, step)` for doubles: length ceil((stop−start)/step), values start + i·((start+step)−start). */
export function numpyArange(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  const out: number[] = [];
  for (let i = 0; i < length; i++) out.push(start + i * delta);
  return out;
}

/**
 * `torch.linspace(start, end, steps, dtype=torch.float32)` on the CPU, bit for bit as torch 1.13's AVX2 kernel:
 * the first half counts up from `start`, the second half down from `end`. Each vector of 8 starts from one fused
 * multiply-add (start + step·idx, rounded once) and adds k·step (rounded) to it; the tail after the last pair of
 * vectors is element by element (fused). step·idx is exact in double here, so one rounding reproduces the FMA.
 */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const s = f32(start);
  const e = f32(end);
  const step = f32(f32(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const fused = (idx: number): number => (idx < halfway ? f32(s + step * idx) : f32(e - step * (steps - idx - 1)));
  let i = 0;
  for (; i + 16 <= steps; i += 16) {
    for (let v = i; v < i + 16; v += 8) {
      const base = fused(v);
      for (let k = 0; k < 8; k++) out[v + k] = f32(base + f32(k * step));
    }
  }
  for (; i < steps; i++) out[i] = fused(i);
  return out;
}

/** `torch.cumprod` of a float32 tensor on the CPU: the product accumulates in double, each element stored as float32. */
export function cumprodF32(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  let acc = 1;
  for (let i = 0; i < values.length; i++) {
    acc *= values[i];
    out[i] = acc;
  }
  return out;
}

/** `np.interp(x, xp, fp)` (xp increasing): linear interpolation in double, clamped to fp's ends. */
export function interp(x: ArrayLike<number>, xp: ArrayLike<number>, fp: ArrayLike<number>): number[] {
  const n = xp.length;
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (Number.isNaN(v)) out.push(v);
    else if (v >= xp[n - 1]) out.push(fp[n - 1]);
    else if (v < xp[0]) out.push(fp[0]);
    else {
      let lo = 0;
      let hi = n - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (xp[mid] <= v) lo = mid;
        else hi = mid;
      }
      if (xp[lo] === v) out.push(fp[lo]);
      else {
        const slope = (fp[lo + 1] - fp[lo]) / (xp[lo + 1] - xp[lo]);
        let r = slope * (v - xp[lo]) + fp[lo];
        if (Number.isNaN(r)) r = slope * (v - xp[lo + 1]) + fp[lo + 1];
        out.push(r);
      }
    }
  }
  return out;
}
