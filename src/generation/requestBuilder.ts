/**
 * Panel parameters + settings → the engine's GenerateRequests (one per image of a batch count, image i with seed + i —
 * or, with a variation strength, the seed and variation seed + i, as A1111),
 * validated by the engine's own validateRequest before anything is sent.
 */
import * as crypto from 'node:crypto';
import type { GenerateRequest } from '../protocol/engineMessages';
import type { PanelParams } from '../protocol/webviewMessages';
import { LIMITS, validateRequest } from '../engine/request';
import type { ExtensionSettings } from './settings';
import { samplerForRequest } from './samplers';
import { seedsAndSizeRequestFields, withConcreteVariationSeed } from './seedsAndSize';

/** The DEFAULT img2img strength (unused by txt2img, but the request carries one). */
const STRENGTH = 0.75;

/** A random seed leaving room for a batch count: seed + count − 1 stays ≤ LIMITS.seedMax. */
export function randomSeed(batchCount = 1, randomInt: (max: number) => number = (max) => crypto.randomInt(0, max)): number {
  return randomInt(LIMITS.seedMax - (batchCount - 1) + 1);
}

/** The params with a concrete seed (drawn when randomSeed is on), and variation seed (when randomVariationSeed is). */
export function withConcreteSeed(params: PanelParams, draw: (batchCount: number) => number = randomSeed): PanelParams {
  return withConcreteVariationSeed(params.randomSeed ? { ...params, seed: draw(params.batchCount) } : params, draw);
}

/** One request per image; throws EngineError('invalid-request') naming every bad field. */
export function buildRequests(params: PanelParams, modelDir: string, settings: ExtensionSettings): GenerateRequest[] {
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
    initImage: null,
    strength: STRENGTH,
    previews: settings.previews,
    rng: 'cpu',
    ...((params.clipSkip ?? settings.clipSkip) > 1 ? { clipSkip: params.clipSkip ?? settings.clipSkip } : {}),
    ...(settings.emphasis === 'original' ? {} : { emphasis: settings.emphasis }),
    ...(params.oldPromptEditingTimelines === true ? { oldPromptEditingTimelines: true } : {}),
    executionProvider: settings.executionProvider,
    threads: settings.threads === 0 ? null : settings.threads,
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
