/**
 * torch.nn.functional.interpolate(x, size=(outH, outW), mode, antialias, align_corners=False) on float32 N×C×H×W
 * tensors, as torch's CPU kernels compute it (aten/src/ATen/native/cpu/UpSampleKernel.cpp, UpSample.h): A1111's
 * latent upscalers for hires. fix ("Latent" = bilinear, "Latent (bicubic antialiased)" = bicubic with antialias, …).
 * - nearest: src = min(floor(dst · s), in − 1) with s = in / out in float32 (out = 2·in: dst >> 1);
 * - nearest-exact: src = min(floor((dst + 0.5) · s), in − 1);
 * - bilinear / bicubic: src = s · (dst + 0.5) − 0.5 (bilinear clamps it at 0), two / four taps (bicubic: A = −0.75,
 *   indices clamped to the edge), the height's weights applied to the width's sums;
 * - antialias: PIL-style separable filters (triangle; cubic with a = −0.5) of support 1 / 2 source pixels, widened
 *   by the scale when shrinking, weights normalised to 1; width first, then height, through a float32 buffer.
 */

export type InterpolateMode = 'nearest' | 'nearest-exact' | 'bilinear' | 'bicubic';

export interface InterpolateOptions {
  readonly mode: InterpolateMode;
  readonly antialias?: boolean;
}

const f = Math.fround;

/** torch's area_pixel_compute_scale without align_corners or a scale factor: (float)in / out. */
function scaleOf(inSize: number, outSize: number): number {
  return f(inSize / outSize);
}

/** Per output index: the source indices (taps) and their weights along one axis. */
interface AxisTaps {
  readonly taps: number;
  readonly index: Int32Array;
  readonly weight: Float32Array;
}

function nearestAxis(inSize: number, outSize: number, exact: boolean): AxisTaps {
  const index = new Int32Array(outSize);
  const weight = new Float32Array(outSize).fill(1);
  const s = scaleOf(inSize, outSize);
  for (let i = 0; i < outSize; i++) {
    if (!exact && outSize === inSize) index[i] = i;
    else if (!exact && outSize === 2 * inSize) index[i] = i >> 1;
    else index[i] = Math.min(Math.floor(f((exact ? i + 0.5 : i) * s)), inSize - 1);
  }
  return { taps: 1, index, weight };
}

function linearAxis(inSize: number, outSize: number): AxisTaps {
  const index = new Int32Array(outSize * 2);
  const weight = new Float32Array(outSize * 2);
  const s = scaleOf(inSize, outSize);
  for (let i = 0; i < outSize; i++) {
    let src = f(f(s * f(i + 0.5)) - 0.5);
    if (src < 0) src = 0;
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const lambda = Math.min(Math.max(f(src - i0), 0), 1);
    index[2 * i] = i0;
    index[2 * i + 1] = i0 + (i0 < inSize - 1 ? 1 : 0);
    weight[2 * i] = f(1 - lambda);
    weight[2 * i + 1] = lambda;
  }
  return { taps: 2, index, weight };
}

const CUBIC_A = -0.75;
const cubic1 = (x: number, a: number): number => f(f(f(f(f(f(a + 2) * x) - f(a + 3)) * x) * x) + 1);
const cubic2 = (x: number, a: number): number => f(f(f(f(f(f(f(a * x) - f(5 * a)) * x) + f(8 * a)) * x)) - f(4 * a));

function cubicAxis(inSize: number, outSize: number): AxisTaps {
  const index = new Int32Array(outSize * 4);
  const weight = new Float32Array(outSize * 4);
  const s = scaleOf(inSize, outSize);
  for (let i = 0; i < outSize; i++) {
    const src = f(f(s * f(i + 0.5)) - 0.5);
    const i0 = Math.floor(src);
    const t = f(src - i0);
    const coeffs = [cubic2(f(t + 1), CUBIC_A), cubic1(t, CUBIC_A), cubic1(f(1 - t), CUBIC_A), cubic2(f(f(1 - t) + 1), CUBIC_A)];
    for (let j = 0; j < 4; j++) {
      index[4 * i + j] = Math.max(Math.min(i0 - 1 + j, inSize - 1), 0);
      weight[4 * i + j] = coeffs[j];
    }
  }
  return { taps: 4, index, weight };
}

/** torch's _compute_indices_min_size_weights_aa: PIL's filters, normalised; unused taps get weight 0. */
function antialiasAxis(inSize: number, outSize: number, cubic: boolean): AxisTaps {
  const s = scaleOf(inSize, outSize);
  const interpSize = cubic ? 4 : 2;
  const support = s >= 1 ? interpSize * 0.5 * s : interpSize * 0.5;
  const taps = Math.ceil(support) * 2 + 1;
  const index = new Int32Array(outSize * taps);
  const weight = new Float32Array(outSize * taps);
  const invscale = s >= 1 ? f(1 / s) : 1;
  const filter = (x: number): number => {
    const ax = Math.abs(f(x));
    if (!cubic) return ax < 1 ? f(1 - ax) : 0;
    if (ax < 1) return cubic1(ax, -0.5);
    if (ax < 2) return cubic2(ax, -0.5);
    return 0;
  };
  for (let i = 0; i < outSize; i++) {
    const center = f(s * (i + 0.5));
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xsize = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    const w = new Float32Array(xsize);
    for (let j = 0; j < xsize; j++) {
      w[j] = filter((j + xmin - center + 0.5) * invscale);
      total = f(total + w[j]);
    }
    for (let j = 0; j < taps; j++) {
      index[i * taps + j] = Math.min(xmin + j, inSize - 1);
      weight[i * taps + j] = j < xsize ? (total !== 0 ? f(w[j] / total) : w[j]) : 0;
    }
  }
  return { taps, index, weight };
}

function axisTaps(inSize: number, outSize: number, options: InterpolateOptions): AxisTaps {
  switch (options.mode) {
    case 'nearest': return nearestAxis(inSize, outSize, false);
    case 'nearest-exact': return nearestAxis(inSize, outSize, true);
    case 'bilinear': return options.antialias ? antialiasAxis(inSize, outSize, false) : linearAxis(inSize, outSize);
    case 'bicubic': return options.antialias ? antialiasAxis(inSize, outSize, true) : cubicAxis(inSize, outSize);
  }
}

/** One axis resampled: `length` rows of `inSize` values → rows of `outSize` (stride: the distance between values). */
function resampleAxis(src: Float32Array, dst: Float32Array, planes: number, inSize: number, outSize: number, inner: number, axis: AxisTaps): void {
  const { taps, index, weight } = axis;
  for (let p = 0; p < planes; p++) {
    for (let o = 0; o < outSize; o++) {
      for (let k = 0; k < inner; k++) {
        let acc = f(src[(p * inSize + index[o * taps]) * inner + k] * weight[o * taps]);
        for (let j = 1; j < taps; j++) acc = f(acc + f(src[(p * inSize + index[o * taps + j]) * inner + k] * weight[o * taps + j]));
        dst[(p * outSize + o) * inner + k] = acc;
      }
    }
  }
}

/**
 * F.interpolate of a float32 N×C×H×W tensor to N×C×outH×outW (align_corners False). Separable in both paths: the
 * width resampled into a buffer, then the height — for the non-antialiased modes this is torch's "height weights on
 * the width sums" order; for antialias, torch's own two passes.
 */
export function interpolate(x: Float32Array, dims: readonly number[], outH: number, outW: number, options: InterpolateOptions): Float32Array {
  if (dims.length !== 4) throw new RangeError(`interpolate: expected N×C×H×W dims, got [${dims.join(', ')}]`);
  const [n, c, h, w] = dims;
  if (x.length !== n * c * h * w) throw new RangeError(`interpolate: ${dims.join('×')} needs ${n * c * h * w} values, got ${x.length}`);
  for (const side of [outH, outW]) {
    if (!Number.isInteger(side) || side < 1) throw new RangeError(`interpolate: expected output sides ≥ 1, got ${outH}×${outW}`);
  }
  const planes = n * c;
  const across = new Float32Array(planes * h * outW);
  resampleAxis(x, across, planes * h, w, outW, 1, axisTaps(w, outW, options));
  const out = new Float32Array(planes * outH * outW);
  resampleAxis(across, out, planes, h, outH, outW, axisTaps(h, outH, options));
  return out;
}
