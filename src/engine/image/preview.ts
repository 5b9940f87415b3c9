/**
 * Cheap latent → RGB previews (REFERENCE.md "Previews"): per latent pixel, rgb = latent · M + bias, shown as
 * clamp((x + 1) / 2, 0, 1) · 255. Applied to the predicted original sample, one image per batch item, at
 * latent resolution (64×64 for a 512×512 image).
 */
import type { RgbImage } from '../../protocol/engineMessages';

/** Rows of `factors` are latent channels, columns R, G, B (the `preview.json` layout). */
export interface LatentRgbFactors {
  readonly factors: ReadonlyArray<readonly [number, number, number]>;
  readonly bias: readonly [number, number, number];
}

/** SD 1.x / 2.x (4 latent channels). */
export const SD15_LATENT_RGB: LatentRgbFactors = {
  factors: [
    [0.3512, 0.2297, 0.3227],
    [0.3250, 0.4974, 0.2350],
    [-0.2829, 0.1762, 0.2721],
    [-0.2120, -0.2616, -0.7177],
  ],
  bias: [0, 0, 0],
};

/** SDXL (4 latent channels). */
export const SDXL_LATENT_RGB: LatentRgbFactors = {
  factors: [
    [0.3651, 0.4232, 0.4341],
    [-0.2533, -0.0042, 0.1068],
    [0.1076, 0.1111, -0.0362],
    [-0.3165, -0.2492, -0.2188],
  ],
  bias: [0.1084, -0.0175, -0.0011],
};

function isTriple(v: unknown): v is [number, number, number] {
  return Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/**
 * Reads a model folder's `preview.json` (`{"latent_rgb_factors": [[r, g, b] × channels], "latent_rgb_bias": [r, g, b]}`,
 * bias optional). `source` names the file in errors.
 */
export function parseLatentRgbFactors(json: unknown, source: string): LatentRgbFactors {
  const obj = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : undefined;
  const factors = obj?.latent_rgb_factors;
  if (!Array.isArray(factors) || factors.length === 0 || !factors.every(isTriple)) {
    throw new Error(`${source}: expected "latent_rgb_factors" to be a list of [r, g, b] number triples, one per latent channel, got ${JSON.stringify(factors)}`);
  }
  const bias = obj?.latent_rgb_bias ?? [0, 0, 0];
  if (!isTriple(bias)) throw new Error(`${source}: expected "latent_rgb_bias" to be [r, g, b] numbers, got ${JSON.stringify(bias)}`);
  return { factors, bias };
}

/** Displayed byte of a preview value x in [-1, 1]: round(clamp((x + 1) / 2, 0, 1) · 255); NaN → 0. */
function toByte(x: number): number {
  const v = (x + 1) * 127.5;
  return v >= 255 ? 255 : v > 0 ? (v + 0.5) | 0 : 0;
}

/**
 * Writes the preview of one latent image (C×h×w planes starting at `offset` of `latents`) into `out`
 * (h·w·3 RGB bytes). `factors` is C×3 row-major, `bias` 3 values.
 */
export function latentToRgbInto(
  out: Uint8Array, latents: Float32Array, offset: number, channels: number, pixels: number,
  factors: Float32Array, bias: Float32Array,
): void {
  const b0 = bias[0], b1 = bias[1], b2 = bias[2];
  for (let p = 0; p < pixels; p++) {
    let r = b0, g = b1, b = b2;
    for (let c = 0; c < channels; c++) {
      const x = latents[offset + c * pixels + p];
      r += x * factors[c * 3];
      g += x * factors[c * 3 + 1];
      b += x * factors[c * 3 + 2];
    }
    out[p * 3] = toByte(r);
    out[p * 3 + 1] = toByte(g);
    out[p * 3 + 2] = toByte(b);
  }
}

/** One preview image per batch item of latents B×C×h×w (1×4×64×64 for one 512×512 SD 1.x image). */
export function latentsToPreviews(latents: Float32Array, dims: readonly number[], rgb: LatentRgbFactors = SD15_LATENT_RGB): RgbImage[] {
  if (dims.length !== 4) throw new Error(`expected latent dims [B, C, h, w], got [${dims.join(', ')}]`);
  const [batch, channels, height, width] = dims;
  if (rgb.factors.length !== channels) {
    throw new Error(`preview factors have ${rgb.factors.length} rows, but the latents have ${channels} channels`);
  }
  const pixels = height * width;
  if (latents.length !== batch * channels * pixels) {
    throw new Error(`latents have ${latents.length} values; dims [${dims.join(', ')}] need ${batch * channels * pixels}`);
  }
  const factors = Float32Array.from(rgb.factors.flat());
  const bias = Float32Array.from(rgb.bias);
  const images: RgbImage[] = [];
  for (let b = 0; b < batch; b++) {
    const out = new Uint8Array(pixels * 3);
    latentToRgbInto(out, latents, b * channels * pixels, channels, pixels, factors, bias);
    images.push({ width, height, rgb: out });
  }
  return images;
}
