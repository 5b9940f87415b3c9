/**
 * AUTOMATIC1111's variation seed ("subseed") and "Resize seed from": the first noise of an image as A1111's
 * `ImageRNG.first` (modules/rng.py) makes it. The seed's noise is drawn from the image's generator (which then goes
 * on giving the sampler's noise); the variation seed's noise from a fresh generator; the two are slerped
 * (`slerp(strength, noise, subnoise)`, A1111's quirks included: norms over the height axis of a C×H×W tensor, and
 * its nearly-parallel fallback). With "Resize seed from" (wSrc×hSrc pixels) the slerp runs at that latent size from
 * a fresh generator of the seed, and its centre is pasted into the generator's own full-size draw.
 */
import type { Rng } from './types';

/** A latent's shape for one image: channels × height × width. */
export interface NoiseShape {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

export interface VariationNoiseOptions {
  /** The variation seed of this image (A1111: subseed + i for image i of a batch). */
  readonly variationSeed?: number;
  /** 0 (the seed's noise) … 1 (the variation seed's noise); A1111 draws no subnoise at 0. */
  readonly strength: number;
  /** "Resize seed from": the size in pixels the seed's noise was made for (both > 0 to apply), 8 px per latent. */
  readonly resizeFrom?: { readonly width: number; readonly height: number };
  /** A fresh generator for a seed (torch CPU or Philox, as the image's own). */
  readonly createRng: (seed: number) => Rng;
}

/**
 * A1111's `slerp(val, low, high)` on two C×H×W float32 tensors: per (c, x) column, the angle between the columns
 * over the height axis (torch.norm(dim=1)), then sin((1−val)·ω)/sin ω · low + sin(val·ω)/sin ω · high; when the
 * columns' mean cosine exceeds 0.9995, A1111's linear fallback low·val + high·(1−val) (sic). Float32 throughout.
 */
export function slerpA1111(val: number, low: Float32Array, high: Float32Array, shape: NoiseShape): Float32Array {
  const { channels, height, width } = shape;
  const n = channels * height * width;
  if (low.length !== n || high.length !== n) {
    throw new RangeError(`slerp: expected two tensors of ${channels}×${height}×${width} = ${n} values, got ${low.length} and ${high.length}`);
  }
  const f = Math.fround;
  const columns = channels * width;
  const dot = new Float64Array(columns);
  let dotSum = 0;
  for (let c = 0; c < channels; c++) {
    for (let x = 0; x < width; x++) {
      const base = c * height * width + x;
      let lowSq = 0;
      let highSq = 0;
      for (let y = 0; y < height; y++) {
        const i = base + y * width;
        lowSq = f(lowSq + f(low[i] * low[i]));
        highSq = f(highSq + f(high[i] * high[i]));
      }
      const lowNorm = f(Math.sqrt(lowSq));
      const highNorm = f(Math.sqrt(highSq));
      let d = 0;
      for (let y = 0; y < height; y++) {
        const i = base + y * width;
        d = f(d + f(f(low[i] / lowNorm) * f(high[i] / highNorm)));
      }
      dot[c * width + x] = f(d);
      dotSum += f(d);
    }
  }
  const out = new Float32Array(n);
  if (f(dotSum / columns) > 0.9995) {
    const v = f(val);
    const w = f(1 - val);
    for (let i = 0; i < n; i++) out[i] = f(low[i] * v) + f(high[i] * w);
    return out;
  }
  const oneMinus = f(1 - val);
  const v = f(val);
  for (let c = 0; c < channels; c++) {
    for (let x = 0; x < width; x++) {
      const omega = f(Math.acos(dot[c * width + x]));
      const so = f(Math.sin(omega));
      const a = f(f(Math.sin(f(oneMinus * omega))) / so);
      const b = f(f(Math.sin(f(v * omega))) / so);
      for (let y = 0; y < height; y++) {
        const i = c * height * width + y * width + x;
        out[i] = f(a * low[i]) + f(b * high[i]);
      }
    }
  }
  return out;
}

/**
 * The first noise of one image (C×H×W) as A1111's ImageRNG.first: `generator` is the image's seed generator, fresh;
 * afterwards it has drawn exactly one full-size tensor (as in A1111), so the sampler's noise continues from it.
 */
export function firstImageNoise(seed: number, generator: Rng, shape: NoiseShape, options: VariationNoiseOptions): Float32Array {
  const size = shape.channels * shape.height * shape.width;
  const resize = options.resizeFrom;
  const noiseShape: NoiseShape = resize !== undefined && resize.width > 0 && resize.height > 0
    ? { channels: shape.channels, height: Math.floor(resize.height / 8), width: Math.floor(resize.width / 8) }
    : shape;
  const resized = noiseShape.height !== shape.height || noiseShape.width !== shape.width;
  const noiseSize = noiseShape.channels * noiseShape.height * noiseShape.width;
  const variation = options.variationSeed !== undefined && options.strength !== 0;
  const subnoise = variation ? options.createRng(options.variationSeed as number).randn(noiseSize) : undefined;
  let noise = resized ? options.createRng(seed).randn(noiseSize) : generator.randn(size);
  if (subnoise !== undefined) noise = slerpA1111(options.strength, noise, subnoise, noiseShape);
  if (!resized) return noise;
  const x = generator.randn(size);
  pasteCentre(x, shape, noise, noiseShape);
  return x;
}

/** A1111's paste of the resized noise into the full-size one: centred, cropped where it is larger. */
function pasteCentre(target: Float32Array, shape: NoiseShape, source: Float32Array, sourceShape: NoiseShape): void {
  let dx = Math.floor((shape.width - sourceShape.width) / 2);
  let dy = Math.floor((shape.height - sourceShape.height) / 2);
  const w = dx >= 0 ? sourceShape.width : sourceShape.width + 2 * dx;
  const h = dy >= 0 ? sourceShape.height : sourceShape.height + 2 * dy;
  const tx = dx < 0 ? 0 : dx;
  const ty = dy < 0 ? 0 : dy;
  dx = Math.max(-dx, 0);
  dy = Math.max(-dy, 0);
  // Python slices clamp at the tensor's end: x[:, ty:ty+h, tx:tx+w] = noise[:, dy:dy+h, dx:dx+w]
  const rows = Math.min(h, shape.height - ty, sourceShape.height - dy);
  const cols = Math.min(w, shape.width - tx, sourceShape.width - dx);
  for (let c = 0; c < shape.channels; c++) {
    for (let y = 0; y < rows; y++) {
      const to = c * shape.height * shape.width + (ty + y) * shape.width + tx;
      const from = c * sourceShape.height * sourceShape.width + (dy + y) * sourceShape.width + dx;
      target.set(source.subarray(from, from + cols), to);
    }
  }
}
