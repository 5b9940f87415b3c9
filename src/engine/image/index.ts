/** The image room's front door: PNG with A1111 text chunks, RGB ↔ tensors, latent previews, output file names. */
export { decodedToRgbImages, resizeRgb, rgbImagesToTensor } from './imageOps';
export { imageFileName, uniquePath, writeFileAtomic } from './outputFiles';
export { decodeImage } from './imageIo';
export { encodePng, hasPngSignature, PNG_SIGNATURE, readPngText } from './png';
export { SDXL_LATENT_RGB, latentsToPreviews } from './preview';
export type { LatentRgbFactors } from './preview';
export { interpolate } from './latentUpscale';
export type { InterpolateMode, InterpolateOptions } from './latentUpscale';
