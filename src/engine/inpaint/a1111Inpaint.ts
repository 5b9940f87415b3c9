/**
 * A1111's image-side inpainting (modules/processing.py StableDiffusionProcessingImg2Img.init, modules/masking.py,
 * apply_overlay / uncrop): the mask inverted ("Inpaint not masked"), blurred ("Mask blur"), the region cropped
 * ("Only masked" with its padding) or the whole picture resized, the masked area filled ("fill", and before
 * "latent noise" / "latent nothing"), and after decoding the original pasted back over the result through the
 * blurred mask. The latent side (mask binarized, UNet inputs) is diffusers' (src/engine/pipeline.ts).
 */
import type { RgbImage } from '../../protocol/engineMessages';
import { resizeRgb } from '../image';
import type { MaskPlane } from './diffusersMask';
import {
  a1111MaskBlur, alphaCompositeInto, pasteOntoEmpty, pilGaussianBlur, premultiply, rgbaToRgb, rgbToRgba, unpremultiply, type Bytes8,
} from './pilOps';

export type MaskedContent = 'fill' | 'original' | 'latent-noise' | 'latent-nothing';

export interface A1111InpaintOptions {
  /** "Mask blur" σ in pixels (x and y); 0 = none. */
  readonly maskBlur: number;
  /** "Inpaint not masked": the mask inverted. */
  readonly invert: boolean;
  readonly maskedContent: MaskedContent;
  /** "Only masked": the mask's region (with `padding`) cropped, inpainted at width×height, pasted back. */
  readonly onlyMasked: boolean;
  readonly padding: number;
  /** "Whole picture": A1111's img2img resize mode for image and mask (default "Just resize"). */
  readonly resizeMode?: 'stretch' | 'crop' | 'fill';
}

/** (x1, y1, x2, y2), right and bottom exclusive. */
export type CropRegion = readonly [number, number, number, number];

/** What the pipeline gets and what the overlay needs afterwards. */
export interface PreparedInpaint {
  /** The init image at width×height (cropped for "Only masked", filled for masked content ≠ original). */
  readonly image: RgbImage;
  /** The processed mask at width×height, values/255 (A1111's latent_mask). */
  readonly mask: MaskPlane;
  /** "latent noise" / "latent nothing" for the pipeline. */
  readonly latentFill?: 'noise' | 'nothing';
  /** The original pasted back over each result (A1111's overlay_images). */
  readonly overlay: Overlay;
  /** "Only masked": the region cropped (after expand_crop_region); null for the whole picture. */
  readonly cropRegion: CropRegion | null;
}

export interface Overlay {
  /** RGBA at the output size: the init image with alpha 255 − mask_for_overlay (A1111's RGBa paste, back to RGBA). */
  readonly rgba: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** "Only masked": (x, y, w, h) where the result goes (A1111's paste_to). */
  readonly pasteTo: readonly [number, number, number, number] | null;
}

/** Gray bytes → inverted (ImageOps.invert). */
export function invertGray(gray: Uint8Array): Uint8Array {
  return Uint8Array.from(gray, (v) => 255 - v);
}

/** masking.get_crop_region_v2: the bounding box of non-zero pixels, padded and clipped; null for an all-zero mask. */
export function getCropRegion(mask: Bytes8, pad: number): CropRegion | null {
  const { width, height, data } = mask;
  let x1 = width;
  let y1 = height;
  let x2 = 0;
  let y2 = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[y * width + x] !== 0) {
        if (x < x1) x1 = x;
        if (y < y1) y1 = y;
        if (x + 1 > x2) x2 = x + 1;
        if (y + 1 > y2) y2 = y + 1;
      }
    }
  }
  if (x2 === 0) return null;
  if (pad === 0) return [x1, y1, x2, y2];
  return [Math.max(x1 - pad, 0), Math.max(y1 - pad, 0), Math.min(x2 + pad, width), Math.min(y2 + pad, height)];
}

/** Python's floor division. */
function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/** masking.expand_crop_region: grows the region to the processing size's aspect ratio, kept inside the image. */
export function expandCropRegion(region: CropRegion, processingWidth: number, processingHeight: number, imageWidth: number, imageHeight: number): CropRegion {
  let [x1, y1, x2, y2] = region;
  const ratioCrop = (x2 - x1) / (y2 - y1);
  const ratioProcessing = processingWidth / processingHeight;
  if (ratioCrop > ratioProcessing) {
    const desiredHeight = (x2 - x1) / ratioProcessing;
    const diff = Math.trunc(desiredHeight - (y2 - y1));
    y1 -= floorDiv(diff, 2);
    y2 += diff - floorDiv(diff, 2);
    if (y2 >= imageHeight) { const d = y2 - imageHeight; y2 -= d; y1 -= d; }
    if (y1 < 0) { y2 -= y1; y1 = 0; }
    if (y2 >= imageHeight) y2 = imageHeight;
  } else {
    const desiredWidth = (y2 - y1) * ratioProcessing;
    const diff = Math.trunc(desiredWidth - (x2 - x1));
    x1 -= floorDiv(diff, 2);
    x2 += diff - floorDiv(diff, 2);
    if (x2 >= imageWidth) { const d = x2 - imageWidth; x2 -= d; x1 -= d; }
    if (x1 < 0) { x2 -= x1; x1 = 0; }
    if (x2 >= imageWidth) x2 = imageWidth;
  }
  return [x1, y1, x2, y2];
}

/**
 * masking.fill: the unmasked pixels (premultiplied, alpha 255 − mask) blurred at radii 256, 64, 16, 4, 2, 0 and
 * alpha-composited (1, 1, 2, 4, 2, 1 times) onto a transparent image; RGB of the result.
 */
export function a1111Fill(image: RgbImage, mask: Uint8Array): RgbImage {
  const { width, height } = image;
  const masked = pasteOntoEmpty(premultiply(rgbToRgba(image.rgb)), invertGray(mask));
  const mod = new Uint8Array(width * height * 4);
  for (const [radius, repeats] of [[256, 1], [64, 1], [16, 2], [4, 4], [2, 2], [0, 1]] as const) {
    const blurred = unpremultiply(pilGaussianBlur({ width, height, channels: 4, data: masked }, radius).data);
    for (let i = 0; i < repeats; i++) alphaCompositeInto(mod, blurred);
  }
  return { width, height, rgb: rgbaToRgb(mod) };
}

/** Gray bytes resized as RGB (A1111 resizes the "L" mask with the same resize_image as the picture). */
function resizeGray(gray: Bytes8, width: number, height: number, mode: 'stretch' | 'crop' | 'fill'): Uint8Array {
  if (gray.width === width && gray.height === height) return gray.data.slice();
  const rgb = new Uint8Array(gray.data.length * 3);
  for (let p = 0; p < gray.data.length; p++) rgb.fill(gray.data[p], p * 3, p * 3 + 3);
  const out = resizeRgb({ width: gray.width, height: gray.height, rgb }, width, height, mode).rgb;
  const g = new Uint8Array(width * height);
  for (let p = 0; p < g.length; p++) g[p] = out[p * 3];
  return g;
}

function cropRgb(image: RgbImage, [x1, y1, x2, y2]: CropRegion): RgbImage {
  const w = x2 - x1;
  const h = y2 - y1;
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) rgb.set(image.rgb.subarray(((y1 + y) * image.width + x1) * 3, ((y1 + y) * image.width + x2) * 3), y * w * 3);
  return { width: w, height: h, rgb };
}

function cropGray(mask: Bytes8, [x1, y1, x2, y2]: CropRegion): Bytes8 {
  const w = x2 - x1;
  const h = y2 - y1;
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) data.set(mask.data.subarray((y1 + y) * mask.width + x1, (y1 + y) * mask.width + x2), y * w);
  return { width: w, height: h, channels: 1, data };
}

/** The overlay: `image` with alpha 255 − mask (RGBa paste onto empty, converted back to RGBA). */
function makeOverlay(image: RgbImage, maskForOverlay: Uint8Array, pasteTo: Overlay['pasteTo']): Overlay {
  const rgba = unpremultiply(pasteOntoEmpty(premultiply(rgbToRgba(image.rgb)), invertGray(maskForOverlay)));
  return { rgba, width: image.width, height: image.height, pasteTo };
}

/**
 * StableDiffusionProcessingImg2Img.init's mask and image steps for one init image and its gray mask (the same
 * size: callers resize a mask of another size first). Returns null when the mask is empty after inverting and
 * blurring ("Only masked" finds no region; A1111 then runs plain img2img) — callers decide what that means.
 */
export function prepareA1111Inpaint(image: RgbImage, maskGray: Uint8Array, width: number, height: number, opts: A1111InpaintOptions): PreparedInpaint | null {
  if (maskGray.length !== image.width * image.height) {
    throw new RangeError(`the mask has ${maskGray.length} pixels, the image ${image.width}×${image.height}`);
  }
  let mask: Bytes8 = { width: image.width, height: image.height, channels: 1, data: opts.invert ? invertGray(maskGray) : maskGray.slice() };
  if (opts.maskBlur > 0) mask = a1111MaskBlur(mask, opts.maskBlur, opts.maskBlur);
  let pipelineImage: RgbImage;
  let latentMask: Uint8Array;
  let overlay: Overlay;
  let cropRegion: CropRegion | null = null;
  if (opts.onlyMasked) {
    const region = getCropRegion(mask, opts.padding);
    if (region === null) return null;
    cropRegion = expandCropRegion(region, width, height, image.width, image.height);
    const [x1, y1, x2, y2] = cropRegion;
    latentMask = resizeGray(cropGray(mask, cropRegion), width, height, 'fill');
    overlay = makeOverlay(image, mask.data, [x1, y1, x2 - x1, y2 - y1]);
    pipelineImage = resizeRgb(cropRgb(image, cropRegion), width, height, 'fill');
  } else {
    if (!mask.data.some((v) => v !== 0)) return null;
    const mode = opts.resizeMode ?? 'stretch';
    latentMask = resizeGray(mask, width, height, mode);
    const forOverlay = Uint8Array.from(latentMask, (v) => Math.min(255, v * 2));
    pipelineImage = image.width === width && image.height === height ? image : resizeRgb(image, width, height, mode);
    overlay = makeOverlay(pipelineImage, forOverlay, null);
  }
  if (opts.maskedContent !== 'original') pipelineImage = a1111Fill(pipelineImage, latentMask);
  const latentFill = opts.maskedContent === 'latent-noise' ? 'noise' : opts.maskedContent === 'latent-nothing' ? 'nothing' : undefined;
  return {
    image: pipelineImage,
    mask: { width, height, data: Float32Array.from(latentMask, (v) => v / 255) },
    ...(latentFill === undefined ? {} : { latentFill }),
    overlay,
    cropRegion,
  };
}

/**
 * processing.apply_overlay: "Only masked" results resized to the region (resize_image "crop and resize") and pasted
 * on a transparent image of the original size (uncrop); then the overlay alpha-composited on top; RGB.
 */
export function applyOverlay(result: RgbImage, overlay: Overlay): RgbImage {
  let base: Uint8Array;
  if (overlay.pasteTo !== null) {
    const [x, y, w, h] = overlay.pasteTo;
    const sized = result.width === w && result.height === h ? result : resizeRgb(result, w, h, 'crop');
    base = new Uint8Array(overlay.width * overlay.height * 4);
    for (let row = 0; row < h; row++) {
      for (let col = 0; col < w; col++) {
        const to = ((y + row) * overlay.width + x + col) * 4;
        const from = (row * w + col) * 3;
        base[to] = sized.rgb[from];
        base[to + 1] = sized.rgb[from + 1];
        base[to + 2] = sized.rgb[from + 2];
        base[to + 3] = 255;
      }
    }
  } else {
    if (result.width !== overlay.width || result.height !== overlay.height) {
      throw new RangeError(`applyOverlay: result ${result.width}×${result.height}, overlay ${overlay.width}×${overlay.height}`);
    }
    base = rgbToRgba(result.rgb);
  }
  alphaCompositeInto(base, overlay.rgba);
  return { width: overlay.width, height: overlay.height, rgb: rgbaToRgb(base) };
}
