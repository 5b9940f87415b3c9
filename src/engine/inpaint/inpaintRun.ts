/**
 * One inpainting request turned into what the pipeline runs and what happens to its pictures afterwards: the
 * mask brought to the init image's size, A1111's image-side steps (a1111Inpaint.ts), the infotext A1111 writes for
 * them, and the defined behaviour for an empty mask.
 */
import type { GrayImage, InitResizeMode, InpaintSettings, RgbImage } from '../../protocol/engineMessages';
import { resizeRgb } from '../image';
import { applyOverlay, prepareA1111Inpaint, type PreparedInpaint } from './a1111Inpaint';
import type { MaskPlane } from './diffusersMask';

export interface InpaintRun {
  /** The init image for the pipeline at width×height. */
  readonly image: RgbImage;
  /** The pipeline's inpainting input; absent: an empty mask on an ordinary model runs as plain img2img. */
  readonly pipeline?: { readonly mask: MaskPlane; readonly latentFill?: 'noise' | 'nothing' };
  /** Each decoded picture → the saved one (the original pasted back over it; "Only masked": at the original size). */
  readonly finish: (rgb: RgbImage) => RgbImage;
  /** A1111's extra_generation_params for the mask, in the order its init() adds them. */
  readonly infotextExtra: ReadonlyArray<readonly [string, string]>;
}

/** A1111's "Masked content" names. */
export const MASKED_CONTENT_NAMES = { fill: 'fill', original: 'original', 'latent-noise': 'latent noise', 'latent-nothing': 'latent nothing' } as const;

/** The mask at the image's size: a mask of another size is resized (Lanczos, as A1111's resize_image "Just resize"). */
export function maskAtSize(mask: GrayImage, width: number, height: number): Uint8Array {
  if (mask.width === width && mask.height === height) return mask.gray;
  const rgb = new Uint8Array(mask.gray.length * 3);
  for (let p = 0; p < mask.gray.length; p++) rgb.fill(mask.gray[p], p * 3, p * 3 + 3);
  const out = resizeRgb({ width: mask.width, height: mask.height, rgb }, width, height, 'stretch').rgb;
  return Uint8Array.from({ length: width * height }, (_, p) => out[p * 3]);
}

/**
 * A1111's infotext for the mask settings (StableDiffusionProcessingImg2Img.init in 1.10): "Mask mode: Inpaint not
 * masked" when inverted, "Mask blur" when > 0, "Inpaint area: Only masked" and "Masked area padding" when a region
 * was cropped, "Masked content" unless original.
 */
export function inpaintInfotextExtra(settings: InpaintSettings, cropped: boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (settings.maskMode === 'unmasked') out.push(['Mask mode', 'Inpaint not masked']);
  if (settings.maskBlur > 0) out.push(['Mask blur', String(settings.maskBlur)]);
  if (cropped) {
    out.push(['Inpaint area', 'Only masked']);
    out.push(['Masked area padding', String(settings.inpaintPadding)]);
  }
  if (settings.maskedContent !== 'original') out.push(['Masked content', MASKED_CONTENT_NAMES[settings.maskedContent]]);
  return out;
}

/**
 * Prepares an inpainting run of `settings` over `initImage` at width×height; notices go to `warnings`. `resizeMode`:
 * how "Whole picture" brings image and mask to width×height (A1111's img2img resize mode; "Only masked" always
 * resizes its region as "Resize and fill").
 */
export function prepareInpaintRun(initImage: RgbImage, settings: InpaintSettings, width: number, height: number,
    inpaintingModel: boolean, warnings: string[], resizeMode: InitResizeMode = 'just'): InpaintRun {
  const mode = resizeMode === 'just' ? 'stretch' : resizeMode;
  const { mask } = settings;
  if (mask.width !== initImage.width || mask.height !== initImage.height) {
    warnings.push(`the mask is ${mask.width}×${mask.height} and the input image ${initImage.width}×${initImage.height}: `
      + 'the mask was resized to the image');
  }
  const gray = maskAtSize(mask, initImage.width, initImage.height);
  const prepared: PreparedInpaint | null = prepareA1111Inpaint(initImage, gray, width, height, {
    maskBlur: settings.maskBlur, invert: settings.maskMode === 'unmasked', maskedContent: settings.maskedContent,
    onlyMasked: settings.inpaintArea === 'masked', padding: settings.inpaintPadding, resizeMode: mode,
  });
  const sized = initImage.width === width && initImage.height === height ? initImage : resizeRgb(initImage, width, height, mode);
  if (prepared === null) {
    warnings.push(`the mask is empty${settings.maskMode === 'unmasked' ? ' once inverted ("inpaint not masked")' : ''}: `
      + (inpaintingModel ? 'nothing is repainted (the inpainting model keeps the whole picture)' : 'ran as plain image to image'));
    const empty: InpaintRun = { image: sized, finish: (rgb) => rgb, infotextExtra: [] };
    return inpaintingModel ? { ...empty, pipeline: { mask: { width, height, data: new Float32Array(width * height) } } } : empty;
  }
  const { overlay } = prepared;
  return {
    image: prepared.image,
    pipeline: { mask: prepared.mask, ...(prepared.latentFill === undefined ? {} : { latentFill: prepared.latentFill }) },
    finish: (rgb) => applyOverlay(rgb, overlay),
    infotextExtra: inpaintInfotextExtra(settings, prepared.cropRegion !== null),
  };
}
