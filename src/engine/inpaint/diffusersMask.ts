/**
 * diffusers' StableDiffusionInpaintPipeline mask handling, after the image-side steps (A1111's blur, invert, crop):
 * its mask_processor (VaeImageProcessor with do_binarize, do_convert_grayscale, no normalize) gives
 * mask_condition = (mask ≥ 0.5 ? 1 : 0) at the image size; masked_image = init_image · (mask_condition < 0.5);
 * prepare_mask_latents resizes mask_condition to the latent size with torch's F.interpolate (mode "nearest").
 */

/** A mask at one size: `data` is height×width values in [0, 1], 1 = repaint. */
export interface MaskPlane {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** VaeImageProcessor.binarize: mask < 0.5 → 0, else 1. */
export function binarizeMask(mask: MaskPlane): MaskPlane {
  return { ...mask, data: Float32Array.from(mask.data, (v) => (v < 0.5 ? 0 : 1)) };
}

/**
 * torch.nn.functional.interpolate(mask, size=(h, w)) with the default mode "nearest": source index
 * floor(dst · in/out) per axis (scale computed in float32 as torch's nearest_idx does for these sizes).
 */
export function nearestResize(mask: MaskPlane, width: number, height: number): MaskPlane {
  const data = new Float32Array(width * height);
  const sy = mask.height / height;
  const sx = mask.width / width;
  for (let y = 0; y < height; y++) {
    const srcY = Math.min(Math.floor(y * sy), mask.height - 1);
    for (let x = 0; x < width; x++) {
      const srcX = Math.min(Math.floor(x * sx), mask.width - 1);
      data[y * width + x] = mask.data[srcY * mask.width + srcX];
    }
  }
  return { width, height, data };
}

/** masked_image = image · (mask_condition < 0.5), image 1×3×H×W in [-1, 1], mask binary H×W. */
export function maskedImage(image: Float32Array, binary: MaskPlane): Float32Array {
  const plane = binary.width * binary.height;
  if (image.length !== 3 * plane) throw new RangeError(`maskedImage: image has ${image.length} values, expected 3×${binary.height}×${binary.width}`);
  const out = new Float32Array(image.length);
  for (let c = 0; c < 3; c++) {
    for (let k = 0; k < plane; k++) out[c * plane + k] = binary.data[k] < 0.5 ? image[c * plane + k] : 0;
  }
  return out;
}

/** Whether any value of the mask is at or above ½ (diffusers' binarized mask has something to repaint). */
export function maskHasArea(mask: MaskPlane): boolean {
  for (let k = 0; k < mask.data.length; k++) if (mask.data[k] >= 0.5) return true;
  return false;
}

/**
 * A1111's latent masked content: init_latent · mask + noise · nmask ("latent noise": noise = create_random_tensors of
 * the image's seed) or init_latent · mask ("latent nothing": noise undefined), mask = 1 − latmask per latent pixel,
 * in float32 as torch multiplies and adds (latmask is 0 or 1). `latents` is `batch` images of C·h·w.
 */
export function latentMaskedContent(latents: Float32Array, latentMask: Float32Array, batch: number, noise?: Float32Array): Float32Array {
  const plane = latentMask.length;
  const out = new Float32Array(latents.length);
  for (let k = 0; k < latents.length; k++) {
    const n = latentMask[k % plane];
    const keep = Math.fround(latents[k] * (1 - n));
    out[k] = noise === undefined ? keep : Math.fround(keep + Math.fround(noise[k % noise.length] * n));
  }
  void batch;
  return out;
}
