/**
 * Panel parameters + settings → the engine's GenerateRequests (one per image of a batch count, image i with seed + i —
 * or, with a variation strength, the seed and variation seed + i, as A1111),
 * validated by the engine's own validateRequest before anything is sent.
 */
import * as crypto from 'node:crypto';
import type { GenerateRequest, InpaintSettings, RgbImage } from '../protocol/engineMessages';
import type { PanelInpaint, PanelParams } from '../protocol/webviewMessages';
import { decodeMaskRuns } from '../common/maskRuns';
import { LIMITS, validateRequest } from '../engine/request';
import type { ExtensionSettings } from './settings';
import { samplerForRequest } from './samplers';
import { seedsAndSizeRequestFields, withConcreteVariationSeed } from './seedsAndSize';

/** The default img2img strength, A1111's (unused by txt2img, but the request carries one). */
const STRENGTH = 0.75;

/** A random seed leaving room for a batch count: seed + count − 1 stays ≤ LIMITS.seedMax. */
export function randomSeed(batchCount = 1, randomInt: (max: number) => number = (max) => crypto.randomInt(0, max)): number {
  return randomInt(LIMITS.seedMax - (batchCount - 1) + 1);
}

/** The params with a concrete seed (drawn when randomSeed is on), and variation seed (when randomVariationSeed is). */
export function withConcreteSeed(params: PanelParams, draw: (batchCount: number) => number = randomSeed): PanelParams {
  return withConcreteVariationSeed(params.randomSeed ? { ...params, seed: draw(params.batchCount) } : params, draw);
}

/**
 * The panel's mask (run lengths, checked by the message guard) as the engine's inpaint settings; a mask that does not
 * decode becomes an empty one (the engine then says so), never an exception here.
 */
export function inpaintSettings(p: PanelInpaint): InpaintSettings {
  const decoded = decodeMaskRuns(p.mask);
  const mask = decoded.ok ? { width: decoded.width, height: decoded.height, gray: decoded.gray } : { width: 1, height: 1, gray: new Uint8Array(1) };
  return { mask, maskBlur: p.maskBlur, maskMode: p.maskMode, maskedContent: p.maskedContent, inpaintArea: p.inpaintArea, inpaintPadding: p.inpaintPadding };
}

/**
 * One request per image; throws EngineError('invalid-request') naming every bad field. With `initImage`, image to
 * image at the params' strength (absent: 0.75) and resize mode (absent: just resize).
 */
export function buildRequests(params: PanelParams, modelDir: string, settings: ExtensionSettings, initImage: RgbImage | null = null): GenerateRequest[] {
  return Array.from({ length: params.batchCount }, (_, i) => validateRequest({
    modelDir,
    prompt: params.prompt,
    // An empty field is no negative prompt (SDXL: zeroed embeddings, diffusers' negative_prompt=None).
    negativePrompt: params.negativePrompt === '' ? null : params.negativePrompt,
    sampler: samplerForRequest(params.sampler),
    steps: params.steps,
    cfgScale: params.cfgScale,
    seed: params.seed + ((params.variationStrength ?? 0) > 0 ? 0 : i), // A1111: a varied batch keeps the seed
    width: params.width,
    height: params.height,
    batchSize: 1,
    initImage,
    strength: params.strength ?? STRENGTH,
    ...(initImage !== null && params.resizeMode !== undefined && params.resizeMode !== 'just' ? { resizeMode: params.resizeMode } : {}),
    ...(params.inpaint === undefined ? {} : { inpaint: inpaintSettings(params.inpaint) }),
    previews: settings.previews,
    rng: 'cpu',
    ...((params.clipSkip ?? settings.clipSkip) > 1 ? { clipSkip: params.clipSkip ?? settings.clipSkip } : {}),
    ...(settings.emphasis === 'original' ? {} : { emphasis: settings.emphasis }),
    ...(settings.vaeDecode === 'auto' ? {} : { vaeDecode: settings.vaeDecode }),
    ...(params.oldPromptEditingTimelines === true ? { oldPromptEditingTimelines: true } : {}),
    executionProvider: settings.executionProvider,
    threads: settings.threads === 0 ? null : settings.threads,
    ...(settings.loraFolder === '' ? {} : { loraDir: settings.loraFolder }),
    ...(settings.embeddingsFolder === '' ? {} : { embeddingsDir: settings.embeddingsFolder }),
    ...seedsAndSizeRequestFields(params, i),
  }));
}

/** The parameters an alt-text illustration uses: the prompt with the current settings, a fresh seed. */
export function altTextParams(prompt: string, settings: ExtensionSettings, modelId: string, nativeSize: number): PanelParams {
  return {
    prompt,
    negativePrompt: '',
    sampler: settings.sampler,
    steps: settings.steps,
    cfgScale: settings.cfgScale,
    seed: randomSeed(1),
    randomSeed: false,
    width: settings.width || nativeSize,
    height: settings.height || nativeSize,
    batchCount: 1,
    model: modelId,
  };
}
