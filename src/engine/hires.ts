/**
 * A1111's hires. fix (modules/processing.py, StableDiffusionProcessingTxt2Img.sample / sample_hr_pass) over the
 * engine's pipeline: the first pass at the request's size; its latents upscaled with F.interpolate (the "Latent …"
 * upscalers, image/latentUpscale.ts) or its decoded images resized with Lanczos and encoded again ("None",
 * "Lanczos"); then image to image at the larger size — A1111's fixed-steps img2img: a schedule of
 * ⌊hires steps / min(strength, 0.999)⌋ steps of which the last `hires steps` run (LCM: its strength schedule), on
 * noise that fresh generators of the same seeds (and variation seeds) draw at the new size, as A1111's new ImageRNG.
 * The prompt schedules are read over the hires steps, as A1111's calculate_hr_conds does.
 */
import type { GenerateRequest, HiresRequest } from '../protocol/engineMessages';
import { HIRES_DEFAULTS, hiresSize, isLatentUpscaler, LATENT_UPSCALERS } from '../common/hires';
import { decodedToRgbImages, interpolate, resizeRgb, rgbImagesToTensor } from './image';
import { EngineError, estimateMemory, judgeMemory } from './model';
import type { LoadedModel, ModelInfo, UnetAttention } from './model';
import type { PipelineOutput } from './pipeline';

/** The second pass's plan: its size, its schedule length and how many of its steps run. */
export interface HiresPlan {
  readonly width: number;
  readonly height: number;
  /** The hires steps that run (A1111: hires steps, or the first pass's steps when 0). */
  readonly steps: number;
  /** The schedule they are the tail of: ⌊steps / min(strength, 0.999)⌋ (A1111's setup_img2img_steps). */
  readonly scheduleSteps: number;
  readonly latent: boolean;
}

export function hiresPlan(req: Pick<GenerateRequest, 'width' | 'height' | 'steps'>, hires: HiresRequest, vaeScaleFactor: number): HiresPlan {
  const size = hiresSize(req.width, req.height, hires.scale, vaeScaleFactor);
  const steps = hires.steps > 0 ? hires.steps : req.steps;
  return {
    ...size, steps, scheduleSteps: Math.floor(steps / Math.min(hires.strength, 0.999)), latent: isLatentUpscaler(hires.upscaler),
  };
}

/**
 * A1111's infotext fields of hires. fix, in the order it adds them to extra_generation_params (after the prompt's
 * own): "Hires upscale", "Hires steps" (only when not 0), "Hires upscaler". "Denoising strength" has its own slot.
 */
export function hiresInfotextExtra(hires: HiresRequest): Array<readonly [string, string]> {
  return [
    ['Hires upscale', String(hires.scale)],
    ...(hires.steps > 0 ? [['Hires steps', String(hires.steps)] as const] : []),
    ['Hires upscaler', hires.upscaler],
  ];
}

/**
 * Refuses (EngineError 'invalid-request') a second pass the machine cannot hold: the engine's memory estimate at the
 * hires size against `totalBytes`; `tiledSample` is the VAE tile (pixels) when that pass's decode will be tiled.
 */
export function checkHiresMemory(req: GenerateRequest, plan: HiresPlan, weightsBytes: number, attention: UnetAttention | null,
    vaeScaleFactor: number, totalBytes: number, freeBytes: number, tiledSample?: number): string | undefined {
  const estimate = estimateMemory(weightsBytes, {
    width: plan.width, height: plan.height, batchSize: req.batchSize, guidance: req.cfgScale > 1, vaeScaleFactor,
    ...(tiledSample === undefined ? {} : { tiled: tiledSample }),
  }, attention);
  const verdict = judgeMemory(estimate, totalBytes, freeBytes,
    `hires. fix's second pass at ${plan.width}×${plan.height} × ${req.batchSize}`);
  if (verdict.kind === 'refuse') throw new EngineError('invalid-request', `${verdict.message.replace(/use a smaller size or batch$/, 'use a smaller hires upscale, size or batch')}`);
  return verdict.kind === 'warn' ? verdict.message : undefined;
}

/** What the pixel upscalers need of the model folder, checked before anything loads. */
export function checkHiresModel(info: Pick<ModelInfo, 'dir' | 'hasVaeEncoder'>, hires: HiresRequest): void {
  if (!isLatentUpscaler(hires.upscaler) && !info.hasVaeEncoder) {
    throw new EngineError('model-invalid', `hires. fix with the upscaler "${hires.upscaler}" encodes the upscaled image again and needs `
      + `${info.dir}/vae_encoder/model.onnx, which this model does not have; use a latent upscaler ("${HIRES_DEFAULTS.upscaler}")`);
  }
}

/**
 * The second pass's starting latents B×C×(H/8)×(W/8) from the first pass: its latents interpolated (latent
 * upscalers) or its decoded images resized with Lanczos and encoded to the VAE posterior's mean × scaling factor
 * (A1111 samples that posterior with its unseeded global generator; the mean keeps the result reproducible).
 */
export async function upscaleFirstPass(model: LoadedModel, first: PipelineOutput, hires: HiresRequest, plan: HiresPlan,
    warnings: string[]): Promise<Float32Array> {
  const factor = model.info.vaeScaleFactor;
  const h = plan.height / factor;
  const w = plan.width / factor;
  if (isLatentUpscaler(hires.upscaler)) {
    if (first.latents === undefined) throw new EngineError('internal', 'hires. fix: the first pass kept no latents');
    return interpolate(first.latents, first.dims, h, w, LATENT_UPSCALERS[hires.upscaler]);
  }
  const images = decodedToRgbImages(first.images, first.dims);
  const scaling = Math.fround(model.info.scalingFactor);
  const perImage = model.info.latentChannels * h * w;
  const out = new Float32Array(images.length * perImage);
  for (let i = 0; i < images.length; i++) {
    const tensor = rgbImagesToTensor([resizeRgb(images[i], plan.width, plan.height, 'stretch')]).data;
    const dims = [1, 3, plan.height, plan.width];
    let latents: Float32Array;
    if (model.encodeImageDistribution !== undefined) {
      latents = Float32Array.from((await model.encodeImageDistribution(tensor, dims)).mean, (v) => v * scaling);
    } else {
      latents = await model.encodeImage(tensor, dims);
      const noiseWarning = await model.vaeEncoderNoiseWarning?.();
      if (noiseWarning !== undefined && !warnings.includes(noiseWarning)) warnings.push(noiseWarning);
    }
    if (latents.length !== perImage) {
      throw new EngineError('internal', `vae_encoder gave ${latents.length} values for the upscaled image, expected ${perImage}`);
    }
    out.set(latents, i * perImage);
  }
  return out;
}
