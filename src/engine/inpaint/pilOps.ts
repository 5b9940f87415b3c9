/**
 * The Pillow operations A1111's inpainting runs on 8-bit images, transcribed from Pillow's C (src/libImaging:
 * BoxBlur.c's ImagingGaussianBlur, Convert.c's RGBA ↔ RGBa, Paste.c's paste with an "L" mask, AlphaComposite.c)
 * in its integer arithmetic, and OpenCV's cv2.GaussianBlur as A1111's "Mask blur" calls it. Images are RGBA bytes
 * (4 a pixel, row-major) or gray bytes (1 a pixel).
 */

/** An 8-bit image with `channels` bytes a pixel (1: gray, 4: RGBA / RGBa). */
export interface Bytes8 {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3 | 4;
  readonly data: Uint8Array;
}

/** Pillow's _gaussian_blur_radius in float32: the box radius of each of `passes` box blurs for a Gaussian σ. */
export function gaussianBoxRadius(radius: number, passes: number): number {
  const f = Math.fround;
  const sigma2 = f(f(radius * radius) / passes);
  const L = f(Math.sqrt(12.0 * sigma2 + 1.0));
  const l = f(Math.floor((L - 1.0) / 2.0));
  let a = f(f(2 * l + 1) * f(f(l * f(l + 1)) - f(3 * sigma2)));
  a = f(a / f(6 * f(sigma2 - f(f(l + 1) * f(l + 1)))));
  return f(l + a);
}

/** ImagingLineBoxBlur over one line of `channels`-byte pixels (in → out, same length). */
function lineBoxBlur(out: Uint8Array, line: Uint8Array, channels: number, lastx: number, radius: number, edgeA: number, edgeB: number, ww: number, fw: number): void {
  for (let c = 0; c < channels; c++) {
    const at = (x: number): number => line[x * channels + c];
    let acc = at(0) * (radius + 1);
    for (let x = 0; x < edgeA - 1; x++) acc += at(x);
    acc += at(lastx) * (radius - edgeA + 1);
    const save = (x: number, left: number, right: number): void => {
      const bulk = acc * ww + (at(left) + at(right)) * fw;
      out[x * channels + c] = Math.floor((bulk + (1 << 23)) / (1 << 24)) & 0xff;
    };
    if (edgeA <= edgeB) {
      for (let x = 0; x < edgeA; x++) { acc += at(x + radius) - at(0); save(x, 0, x + radius + 1); }
      for (let x = edgeA; x < edgeB; x++) { acc += at(x + radius) - at(x - radius - 1); save(x, x - radius - 1, x + radius + 1); }
      for (let x = edgeB; x <= lastx; x++) { acc += at(lastx) - at(x - radius - 1); save(x, x - radius - 1, lastx); }
    } else {
      for (let x = 0; x < edgeB; x++) { acc += at(x + radius) - at(0); save(x, 0, x + radius + 1); }
      for (let x = edgeB; x < edgeA; x++) { acc += at(lastx) - at(0); save(x, 0, lastx); }
      for (let x = edgeA; x <= lastx; x++) { acc += at(lastx) - at(x - radius - 1); save(x, x - radius - 1, lastx); }
    }
  }
}

/** ImagingHorizontalBoxBlur in place on rows of `width` pixels. */
function horizontalBoxBlur(data: Uint8Array, width: number, height: number, channels: number, floatRadius: number): void {
  const radius = Math.trunc(floatRadius);
  const ww = Math.trunc(Math.fround((1 << 24) / Math.fround(floatRadius * 2 + 1)));
  const fw = Math.floor(((1 << 24) - (radius * 2 + 1) * ww) / 2);
  const edgeA = Math.min(radius + 1, width);
  const edgeB = Math.max(width - radius - 1, 0);
  const rowBytes = width * channels;
  const out = new Uint8Array(rowBytes);
  for (let y = 0; y < height; y++) {
    const line = data.subarray(y * rowBytes, (y + 1) * rowBytes);
    lineBoxBlur(out, line, channels, width - 1, radius, edgeA, edgeB, ww, fw);
    line.set(out);
  }
}

function transpose(data: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) out[(x * height + y) * channels + c] = data[(y * width + x) * channels + c];
    }
  }
  return out;
}

/** PIL's `image.filter(ImageFilter.GaussianBlur(radius))`: three box blurs per axis (ImagingGaussianBlur, passes 3). */
export function pilGaussianBlur(image: Bytes8, radius: number): Bytes8 {
  const passes = 3;
  const r = gaussianBoxRadius(radius, passes);
  const { width, height, channels } = image;
  const data = image.data.slice();
  if (r === 0) return { ...image, data };
  for (let i = 0; i < passes; i++) horizontalBoxBlur(data, width, height, channels, r);
  const t = transpose(data, width, height, channels);
  for (let i = 0; i < passes; i++) horizontalBoxBlur(t, height, width, channels, r);
  return { ...image, data: transpose(t, height, width, channels) };
}

/** Pillow's DIV255 / MULDIV255 rounding. */
function div255(a: number): number {
  const tmp = a + 128;
  return ((tmp >> 8) + tmp) >> 8;
}

/** RGBA → RGBa (Convert.c rgbA2rgba): colour × alpha / 255, rounded as MULDIV255. */
export function premultiply(rgba: Uint8Array): Uint8Array {
  const out = rgba.slice();
  for (let k = 0; k < out.length; k += 4) {
    const a = rgba[k + 3];
    for (let c = 0; c < 3; c++) out[k + c] = div255(rgba[k + c] * a);
  }
  return out;
}

/** RGBa → RGBA (Convert.c rgba2rgbA): colour · 255 / alpha truncated, clipped; alpha 0 or 255 unchanged. */
export function unpremultiply(rgba: Uint8Array): Uint8Array {
  const out = rgba.slice();
  for (let k = 0; k < out.length; k += 4) {
    const a = rgba[k + 3];
    if (a === 0 || a === 255) continue;
    for (let c = 0; c < 3; c++) out[k + c] = Math.min(255, Math.floor((255 * rgba[k + c]) / a));
  }
  return out;
}

/** `Image.new(mode, size).paste(src, mask=L)` onto zeros (Paste.c paste_mask_L): every byte DIV255(src · m). */
export function pasteOntoEmpty(src: Uint8Array, mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let p = 0; p < mask.length; p++) {
    for (let c = 0; c < 4; c++) out[p * 4 + c] = div255(src[p * 4 + c] * mask[p]);
  }
  return out;
}

/** `dst.alpha_composite(src)` (AlphaComposite.c, 7 precision bits), in place on dst; both RGBA. */
export function alphaCompositeInto(dst: Uint8Array, src: Uint8Array): void {
  const PRECISION = 1 << 7;
  const shiftDiv255 = (a: number): number => Math.floor((Math.floor(a / 256) + a) / 256);
  for (let k = 0; k < dst.length; k += 4) {
    const sa = src[k + 3];
    if (sa === 0) continue;
    const da = dst[k + 3];
    const blend = da * (255 - sa);
    const outa255 = sa * 255 + blend;
    const coef1 = Math.floor((sa * 255 * 255 * PRECISION) / outa255);
    const coef2 = 255 * PRECISION - coef1;
    for (let c = 0; c < 3; c++) {
      const tmp = src[k + c] * coef1 + dst[k + c] * coef2;
      dst[k + c] = Math.floor(shiftDiv255(tmp + (0x80 * PRECISION)) / PRECISION);
    }
    dst[k + 3] = shiftDiv255(outa255 + 0x80);
  }
}

/** PIL's RGB → L: (R·19595 + G·38470 + B·7471 + 0x8000) >> 16. */
export function rgbToGray(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let p = 0; p < out.length; p++) {
    out[p] = (rgb[p * 3] * 19595 + rgb[p * 3 + 1] * 38470 + rgb[p * 3 + 2] * 7471 + 0x8000) >>> 16;
  }
  return out;
}

/** RGB bytes → RGBA bytes with alpha 255. */
export function rgbToRgba(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array((rgb.length / 3) * 4);
  for (let p = 0; p < rgb.length / 3; p++) {
    out[p * 4] = rgb[p * 3];
    out[p * 4 + 1] = rgb[p * 3 + 1];
    out[p * 4 + 2] = rgb[p * 3 + 2];
    out[p * 4 + 3] = 255;
  }
  return out;
}

/** RGBA bytes → RGB bytes (alpha dropped, as PIL's convert('RGB')). */
export function rgbaToRgb(rgba: Uint8Array): Uint8Array {
  const out = new Uint8Array((rgba.length / 4) * 3);
  for (let p = 0; p < rgba.length / 4; p++) {
    out[p * 3] = rgba[p * 4];
    out[p * 3 + 1] = rgba[p * 4 + 1];
    out[p * 3 + 2] = rgba[p * 4 + 2];
  }
  return out;
}

/**
 * OpenCV's getGaussianKernel(ksize, σ) for σ > 0: exp(−(i − (k−1)/2)² / 2σ²), normalised to sum 1 (float64).
 */
export function gaussianKernel(ksize: number, sigma: number): Float64Array {
  const k = new Float64Array(ksize);
  const center = (ksize - 1) / 2;
  let sum = 0;
  for (let i = 0; i < ksize; i++) {
    k[i] = Math.exp(-((i - center) ** 2) / (2 * sigma * sigma));
    sum += k[i];
  }
  for (let i = 0; i < ksize; i++) k[i] /= sum;
  return k;
}

/** OpenCV's BORDER_REFLECT_101 index (… 2 1 | 0 1 2 … n−1 | n−2 …). */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  let j = i;
  while (j < 0 || j >= n) j = j < 0 ? -j : 2 * (n - 1) - j;
  return j;
}

/**
 * A1111's "Mask blur" on a gray mask: cv2.GaussianBlur(mask, (k, 1), σx) then (1, k) with σy, k = 2·int(2.5σ + 0.5) + 1,
 * BORDER_REFLECT_101, rounded to bytes. (Float kernel; OpenCV's 8-bit path uses a fixed-point kernel, which can
 * differ by one level.) σ 0 skips an axis, as A1111 does.
 */
export function a1111MaskBlur(mask: Bytes8, sigmaX: number, sigmaY: number): Bytes8 {
  const { width, height } = mask;
  let data: Uint8Array = mask.data.slice();
  const pass = (sigma: number, horizontal: boolean): void => {
    const ksize = 2 * Math.trunc(2.5 * sigma + 0.5) + 1;
    const kernel = gaussianKernel(ksize, sigma);
    const half = (ksize - 1) / 2;
    const out = new Uint8Array(data.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let acc = 0;
        for (let i = 0; i < ksize; i++) {
          const sx = horizontal ? reflect101(x + i - half, width) : x;
          const sy = horizontal ? y : reflect101(y + i - half, height);
          acc += kernel[i] * data[sy * width + sx];
        }
        out[y * width + x] = Math.min(255, Math.max(0, Math.round(acc)));
      }
    }
    data = out;
  };
  if (sigmaX > 0) pass(sigmaX, true);
  if (sigmaY > 0) pass(sigmaY, false);
  return { ...mask, data };
}
