/**
 * A request's variation seed and "Resize seed from" as the pipeline's initialNoise hook: image i of a batch slerps
 * the noise of variationSeed + i into its seed's (A1111's all_subseeds = subseed + i), with the request's RNG source.
 * Undefined when the request asks for neither, so the pipeline draws plain noise.
 */
import type { GenerateRequest } from '../protocol/engineMessages';
import type { PipelineInput } from './pipeline';
import { firstImageNoise, type Rng } from './random';

/** Whether the request varies the seed's noise (a variation seed at a strength above 0). */
export function hasVariation(req: Pick<GenerateRequest, 'variationSeed' | 'variationStrength'>): boolean {
  return (req.variationStrength ?? 0) > 0 && req.variationSeed !== undefined;
}

/**
 * The seeds of a batch as A1111's process_images gives them: seed + i — but with a variation strength above 0 every
 * image keeps the seed (its variation seed + i is what differs).
 */
export function batchSeeds(req: Pick<GenerateRequest, 'seed' | 'batchSize' | 'variationSeed' | 'variationStrength'>): number[] {
  const varied = hasVariation(req);
  return Array.from({ length: req.batchSize }, (_, i) => req.seed + (varied ? 0 : i));
}

export function variationNoise(req: Pick<GenerateRequest, 'variationSeed' | 'variationStrength' | 'seedResizeFrom'>,
    seeds: readonly number[], createRng: (seed: number) => Rng): PipelineInput['initialNoise'] {
  const strength = req.variationStrength ?? 0;
  const resize = req.seedResizeFrom;
  const resizes = resize !== undefined && resize.width > 0 && resize.height > 0;
  const varies = strength > 0 && req.variationSeed !== undefined;
  if (!varies && !resizes) return undefined;
  return (image, generator, shape) => firstImageNoise(seeds[image], generator, shape, {
    variationSeed: varies ? (req.variationSeed as number) + image : undefined,
    strength: varies ? strength : 0,
    resizeFrom: resizes ? resize : undefined,
    createRng,
  });
}
