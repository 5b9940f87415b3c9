/**
 * The ids of package.json's `contributes.commands`, registered at activation; each command's work (src/commands/*)
 * loads with the rest of the host on first use (src/hostLazy.ts checks that its commands are exactly these).
 */
export const COMMAND_IDS = [
  'inlineDiffusion.generateImage',
  'inlineDiffusion.illustrateAltText',
  'inlineDiffusion.illustrateDocument',
  'inlineDiffusion.regenerateImage',
  'inlineDiffusion.imageVariations',
  'inlineDiffusion.openImageInPanel',
  'inlineDiffusion.revealImage',
  'inlineDiffusion.openGallery',
  'inlineDiffusion.cancel',
  'inlineDiffusion.reuseParameters',
  'inlineDiffusion.varyImage',
  'inlineDiffusion.addModel',
  'inlineDiffusion.downloadModel',
  'inlineDiffusion.setHuggingFaceToken',
  'inlineDiffusion.installGpuSupport',
] as const;
