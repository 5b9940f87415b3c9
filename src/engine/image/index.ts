/** The image room's front door: PNG with A1111 text chunks, RGB ↔ tensors, latent previews, output file names. */
export { decodedToRgbImages, resizeRgb, rgbImagesToTensor, upscaleNearest } from './imageOps';
export { imageFileName, uniquePath, writeFileAtomic } from './outputFiles';
export { decodeImage, readImageHeader, MAX_MEGAPIXELS, MAX_SIDE } from './imageIo';
export type { ImageHeader } from './imageIo';
export { encodePng, hasPngSignature, PNG_SIGNATURE, readPngText } from './png';
export { SDXL_LATENT_RGB, latentsToPreviews } from './preview';
export type { LatentRgbFactors } from './preview';
export { decodeTiled, needsTiling, tileStarts, tilingOf, TILE_OVERLAP_FACTOR } from './vaeTiles';
export type { TileDecoder, VaeTiling } from './vaeTiles';
export { interpolate } from './latentUpscale';
export type { InterpolateMode, InterpolateOptions } from './latentUpscale';
