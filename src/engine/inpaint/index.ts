/**
 * Inpainting's mask steps: diffusers' latent side (binarize, nearest latent mask, masked image) and A1111's image
 * side (invert, blur, "Only masked" crop, fill, overlay), over Pillow's and OpenCV's operations transcribed.
 */
export { binarizeMask, latentMaskedContent, maskedImage, maskHasArea, nearestResize, type MaskPlane } from './diffusersMask';
export {
  a1111Fill, applyOverlay, expandCropRegion, getCropRegion, invertGray, prepareA1111Inpaint,
  type A1111InpaintOptions, type CropRegion, type MaskedContent, type Overlay, type PreparedInpaint,
} from './a1111Inpaint';
export { a1111MaskBlur, alphaCompositeInto, gaussianBoxRadius, pilGaussianBlur, rgbToGray, type Bytes8 } from './pilOps';
export { inpaintInfotextExtra, maskAtSize, MASKED_CONTENT_NAMES, prepareInpaintRun, type InpaintRun } from './inpaintRun';
