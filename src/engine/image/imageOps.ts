/**
 * Pixel conversions between the VAE's tensors and RGB bytes (diffusers' VaeImageProcessor), and the init-image
 * resize A1111 does before img2img (PIL's Lanczos, "Just resize" / "Crop and resize" / "Resize and fill").
 */
import type { RgbImage } from '../../protocol/engineMessages';
import { vaePlanesToRgb } from './pixelKernels';

/**
 * VAE decoder output B×3×H×W in [-1, 1] → one RGB image per batch item, as diffusers'
 * `VaeImageProcessor.postprocess(output_type="pil")`: `(x * 0.5 + 0.5).clamp(0, 1)` in float32, then
 * numpy_to_pil's `(images * 255).round().astype("uint8")` (round half to even). NaN becomes 0.
 * The per-value work runs in WebAssembly (src/engine/image/pixelKernels.ts).
 */
export function decodedToRgbImages(sample: Float32Array, dims: readonly number[]): RgbImage[] {
  if (dims.length !== 4 || dims[1] !== 3) throw new Error(`expected VAE output dims [B, 3, H, W], got [${dims.join(', ')}]`);
  const [batch, , height, width] = dims;
  const plane = height * width;
  if (sample.length !== batch * 3 * plane) {
    throw new Error(`VAE output has ${sample.length} values; dims [${dims.join(', ')}] need ${batch * 3 * plane}`);
  }
  return Array.from({ length: batch }, (_, b) => ({ width, height, rgb: vaePlanesToRgb(sample, b * 3 * plane, plane) }));
}

/** byte → `2 * (byte / 255) - 1` in float32, as VaeImageProcessor's pil_to_numpy then normalize. */
const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, v) => Math.fround(2 * Math.fround(v / 255) - 1));

/**
 * RGB images (all width×height) → B×3×H×W float32 in [-1, 1], as diffusers' VaeImageProcessor.preprocess
 * (`x / 255`, then `2 * x - 1`) and A1111's img2img init image.
 */
export function rgbImagesToTensor(images: readonly RgbImage[]): { data: Float32Array; dims: [number, number, number, number] } {
  if (images.length === 0) throw new Error('expected at least one RGB image, got none');
  const { width, height } = images[0];
  const plane = width * height;
  const data = new Float32Array(images.length * 3 * plane);
  images.forEach((image, b) => {
    if (image.width !== width || image.height !== height || image.rgb.length !== plane * 3) {
      throw new Error(`image ${b} is ${image.width}×${image.height} with ${image.rgb.length} bytes; expected ${width}×${height} with ${plane * 3} like image 0`);
    }
    for (let c = 0; c < 3; c++) {
      const base = (b * 3 + c) * plane;
      for (let p = 0; p < plane; p++) data[base + p] = BYTE_TO_UNIT[image.rgb[p * 3 + c]];
    }
  });
  return { data, dims: [images.length, 3, height, width] };
}

// ---- Resize -------------------------------------------------------------------------------------------------

/** A1111's resize modes: "Just resize" (stretch), "Crop and resize" (cover, center crop), "Resize and fill" (fit, edges stretched). */
export type ResizeMode = 'stretch' | 'crop' | 'fill';

/** A resampling kernel and its support radius (PIL's `struct filter`). */
interface Filter {
  readonly support: number;
  readonly weight: (x: number) => number;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

/** Lanczos-3, as PIL's lanczos_filter. */
const LANCZOS: Filter = { support: 3, weight: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) };

/** Keys' cubic with a = -0.5, as PIL's bicubic_filter (PIL's default for `resize` without `resample`). */
const BICUBIC: Filter = {
  support: 2,
  weight: (x) => {
    const a = -0.5;
    const t = Math.abs(x);
    if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
    if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
    return 0;
  },
};

/** PIL's fixed-point weights: 32 - 8 - 2 bits of fraction (Resample.c PRECISION_BITS). */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** Per output index: first input index, tap count and normalized fixed-point weights (`stride` per output). */
interface Coefficients {
  readonly starts: Int32Array;
  readonly counts: Int32Array;
  readonly weights: Int32Array;
  readonly stride: number;
}

/**
 * Coefficients mapping the input span [in0, in1) onto outSize samples, as PIL's precompute_coeffs
 * (the kernel widens by the scale when shrinking, so downscaling antialiases; a zero-width span samples its edge).
 */
function computeCoefficients(filter: Filter, inSize: number, in0: number, in1: number, outSize: number): Coefficients {
  const scale = (in1 - in0) / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const starts = new Int32Array(outSize);
  const counts = new Int32Array(outSize);
  const weights = new Int32Array(outSize * stride);
  const taps = new Float64Array(stride);
  const reciprocal = 1 / filterScale;
  for (let i = 0; i < outSize; i++) {
    const center = in0 + (i + 0.5) * scale;
    const start = Math.max(0, Math.trunc(center - support + 0.5));
    const end = Math.min(inSize, Math.trunc(center + support + 0.5));
    let total = 0;
    for (let j = start; j < end; j++) {
      const w = filter.weight((j - center + 0.5) * reciprocal);
      taps[j - start] = w;
      total += w;
    }
    for (let j = 0; j < end - start; j++) {
      const w = total !== 0 ? taps[j] / total : taps[j];
      // normalize_coeffs_8bpc: round half away from zero to fixed point.
      weights[i * stride + j] = Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE);
    }
    starts[i] = start;
    counts[i] = end - start;
  }
  return { starts, counts, weights, stride };
}

/** PIL's clip8: a fixed-point sum (which started at HALF, so this rounds) → byte. */
function clip8(sum: number): number {
  const v = Math.floor(sum / ONE);
  return v <= 0 ? 0 : v >= 255 ? 255 : v;
}

/** A box [left, top, right, bottom] of the source, in pixels (PIL's `box`). */
type Box = readonly [number, number, number, number];

/**
 * Resample of the `box` of an RGB image to width×height, as PIL's `Image.resize(size, filter, box)`:
 * a horizontal pass over the rows the vertical pass needs, rounded to bytes, then the vertical pass.
 */
function resample(image: RgbImage, width: number, height: number, filter: Filter, box: Box = [0, 0, image.width, image.height]): RgbImage {
  const { width: inW, height: inH, rgb } = image;
  const [left, top, right, bottom] = box;
  const isHorizontal = width !== inW || left !== 0 || right !== inW;
  const isVertical = height !== inH || top !== 0 || bottom !== inH;
  const v = computeCoefficients(filter, inH, top, bottom, height);
  // Rows the vertical pass reads.
  const rowFirst = isVertical ? v.starts[0] : 0;
  const rowEnd = isVertical ? v.starts[height - 1] + v.counts[height - 1] : inH;

  let mid = rgb.subarray(rowFirst * inW * 3, rowEnd * inW * 3);
  let midW = inW;
  if (isHorizontal) {
    const h = computeCoefficients(filter, inW, left, right, width);
    const rows = rowEnd - rowFirst;
    const out = new Uint8Array(rows * width * 3);
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < width; x++) {
        let r = HALF, g = HALF, b = HALF;
        const k = x * h.stride;
        let src = ((y + rowFirst) * inW + h.starts[x]) * 3;
        for (let j = 0; j < h.counts[x]; j++, src += 3) {
          const w = h.weights[k + j];
          r += rgb[src] * w; g += rgb[src + 1] * w; b += rgb[src + 2] * w;
        }
        const dst = (y * width + x) * 3;
        out[dst] = clip8(r); out[dst + 1] = clip8(g); out[dst + 2] = clip8(b);
      }
    }
    mid = out;
    midW = width;
  }
  if (!isVertical) return { width, height, rgb: mid.slice() };

  const out = new Uint8Array(width * height * 3);
  const rowLength = midW * 3;
  for (let y = 0; y < height; y++) {
    const k = y * v.stride;
    const dstRow = y * rowLength;
    const srcRow = (v.starts[y] - rowFirst) * rowLength;
    for (let i = 0; i < rowLength; i++) {
      let acc = HALF;
      let src = srcRow + i;
      for (let j = 0; j < v.counts[y]; j++, src += rowLength) acc += mid[src] * v.weights[k + j];
      out[dstRow + i] = clip8(acc);
    }
  }
  return { width, height, rgb: out };
}

/** Copies src into dst at (left, top), clipped to dst (PIL's `paste(im, box=(left, top))`). */
function pasteInto(dst: RgbImage, src: RgbImage, left: number, top: number): void {
  const x0 = Math.max(0, left);
  const x1 = Math.min(dst.width, left + src.width);
  if (x1 <= x0) return;
  for (let y = Math.max(0, top); y < Math.min(dst.height, top + src.height); y++) {
    const from = ((y - top) * src.width + (x0 - left)) * 3;
    dst.rgb.set(src.rgb.subarray(from, from + (x1 - x0) * 3), (y * dst.width + x0) * 3);
  }
}

/**
 * Resizes RGB bytes to width×height with PIL's Lanczos, as A1111's `images.resize_image` without an upscaler:
 * 'stretch' ignores the aspect ratio; 'crop' scales to cover and keeps the center; 'fill' scales to fit and fills
 * the bands left over by resampling the image's edge (a zero-height/width PIL box, PIL's default bicubic), as A1111 does.
 */
export function resizeRgb(image: RgbImage, width: number, height: number, mode: ResizeMode = 'stretch'): RgbImage {
  for (const [name, value] of [['width', width], ['height', height], ['source width', image.width], ['source height', image.height]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`resize ${name} must be a positive integer, got ${value}`);
  }
  if (image.rgb.length !== image.width * image.height * 3) {
    throw new Error(`expected ${image.width}×${image.height}×3 = ${image.width * image.height * 3} RGB bytes, got ${image.rgb.length}`);
  }
  if (mode === 'stretch') return resample(image, width, height, LANCZOS);
  const ratio = width / height;
  const srcRatio = image.width / image.height;
  // A1111: one side matches the target, the other is scaled with Python's floor division.
  const isWidthMatched = mode === 'crop' ? ratio > srcRatio : ratio < srcRatio;
  const srcW = isWidthMatched ? width : Math.floor(image.width * height / image.height);
  const isHeightMatched = mode === 'crop' ? ratio <= srcRatio : ratio >= srcRatio;
  const srcH = isHeightMatched ? height : Math.floor(image.height * width / image.width);
  const resized = resample(image, Math.max(1, srcW), Math.max(1, srcH), LANCZOS);
  const out: RgbImage = { width, height, rgb: new Uint8Array(width * height * 3) };
  const offsetX = Math.floor(width / 2) - Math.floor(resized.width / 2);
  const offsetY = Math.floor(height / 2) - Math.floor(resized.height / 2);
  pasteInto(out, resized, offsetX, offsetY);
  if (mode === 'fill' && ratio < srcRatio && offsetY > 0) {
    pasteInto(out, resample(resized, width, offsetY, BICUBIC, [0, 0, width, 0]), 0, 0);
    pasteInto(out, resample(resized, width, offsetY, BICUBIC, [0, resized.height, width, resized.height]), 0, offsetY + resized.height);
  } else if (mode === 'fill' && ratio > srcRatio && offsetX > 0) {
    pasteInto(out, resample(resized, offsetX, height, BICUBIC, [0, 0, 0, height]), 0, 0);
    pasteInto(out, resample(resized, offsetX, height, BICUBIC, [resized.width, 0, resized.width, height]), offsetX + resized.width, 0);
  }
  return out;
}

/**
 * Scales RGB bytes to width×height by nearest neighbour (PIL's `Image.NEAREST`: source pixel ⌊(x + ½)·w/W⌋): a latent
 * preview blown up to the image's size keeps its latent pixels as sharp blocks (8×8 for SD's VAE).
 */
export function upscaleNearest(image: RgbImage, width: number, height: number): RgbImage {
  for (const [name, value] of [['width', width], ['height', height], ['source width', image.width], ['source height', image.height]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`nearest-neighbour ${name} must be a positive integer, got ${value}`);
  }
  if (image.rgb.length !== image.width * image.height * 3) {
    throw new Error(`expected ${image.width}×${image.height}×3 = ${image.width * image.height * 3} RGB bytes, got ${image.rgb.length}`);
  }
  const cols = Array.from({ length: width }, (_, x) => Math.min(image.width - 1, Math.floor(((x + 0.5) * image.width) / width)));
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(image.height - 1, Math.floor(((y + 0.5) * image.height) / height));
    for (let x = 0; x < width; x++) {
      const s = (sy * image.width + cols[x]) * 3;
      const d = (y * width + x) * 3;
      out[d] = image.rgb[s];
      out[d + 1] = image.rgb[s + 1];
      out[d + 2] = image.rgb[s + 2];
    }
  }
  return { width, height, rgb: out };
}
