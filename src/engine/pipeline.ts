/**
 * The denoising pipeline of diffusers' StableDiffusionPipeline / StableDiffusionImg2ImgPipeline over a LoadedModel
 * (ARCHITECTURE.md, engine steps 2–5). Pure TypeScript: the model, the scheduler, the noise sources and the
 * preview are injected, so tests run it on fakes.
 *
 * 1. Text encoder once on [negative; prompt] (only the prompt when cfg ≤ 1 or the UNet embeds the guidance scale,
 *    as LCM UNets do: then the scale goes to predictNoise and there is no CFG batch), repeated to the UNet batch
 *    [uncond × B; cond × B]. SDXL (StableDiffusionXLPipeline): both encoders, their penultimate hidden states side
 *    by side, text_encoder_2's pooled embeds and time_ids (h, w, 0, 0, h, w) as added conditions; zeros for the
 *    unconditional half when force_zeros_for_empty_prompt and no negative prompt.
 * 2. Initial latents, image by image: txt2img x_T = randn(seed + i) · σ_init; img2img x_t = addNoise(E(image),
 *    randn(seed + i), t_start) where t_start follows diffusers' get_timesteps (LCM UNets with LCMScheduler: the
 *    schedule set with the strength, as diffusers' LCM img2img pipeline).
 * 3. Per timestep t: one UNet call on the batch, ε = ε_u + cfg · (ε_c − ε_u), x = scheduler.step(ε, t, x) with
 *    one Rng per image, continuing the stream that made its initial noise (so image i of a batch equals seed + i alone).
 * 4. VAE decode of the final latents → B×3×H×W in [-1, 1].
 */
import type { RgbImage } from '../protocol/engineMessages';
import { EngineError } from './model';
import type { LoadedModel, PredictNoiseExtras } from './model';
import { encodePrompts, xlTimeIds } from './prompt';
import type { Rng } from './random';
import { LCMScheduler, type Scheduler } from './schedulers';
import { nowMs } from './clock';

/** One step's report: 1-based step of totalSteps, its duration, and the previews when asked for. */
export interface PipelineStep {
  readonly step: number;
  readonly totalSteps: number;
  readonly stepMs: number;
  readonly previews: RgbImage[];
}

export interface PipelineInput {
  readonly model: LoadedModel;
  /** A fresh scheduler; the pipeline calls setTimesteps. */
  readonly scheduler: Scheduler;
  /** Prompt ids, exactly the tokenizer's padded length (77). */
  readonly promptIds: Int32Array;
  /** Negative prompt ids (the empty string's ids when there is none), same length. */
  readonly negativeIds: Int32Array;
  /** SDXL (model.info.xl): the same texts through tokenizer_2. */
  readonly promptIds2?: Int32Array;
  readonly negativeIds2?: Int32Array;
  /**
   * SDXL with force_zeros_for_empty_prompt and no negative prompt (diffusers: negative_prompt None): the
   * unconditional hidden states and pooled embeds are zeros rather than the encoded empty string.
   */
  readonly zeroNegative?: boolean;
  readonly steps: number;
  readonly cfgScale: number;
  /** One seed per image (seed + i). */
  readonly seeds: readonly number[];
  /** Image size in pixels; latents are (height / vaeScaleFactor) × (width / vaeScaleFactor). */
  readonly width: number;
  readonly height: number;
  /** A noise source per seed (TorchGenerator or PhiloxGenerator). */
  readonly createRng: (seed: number) => Rng;
  /** img2img: the init image already resized to width×height, 1×3×H×W in [-1, 1]; null for txt2img. */
  readonly initImage: Float32Array | null;
  /** img2img strength in 0…1 (ignored for txt2img). */
  readonly strength: number;
  /** Latents B×C×h×w → one preview per image (linear, or a TAESD session); called after each step when given. */
  readonly preview?: (latents: Float32Array, dims: readonly number[]) => RgbImage[] | Promise<RgbImage[]>;
  readonly signal?: AbortSignal;
  readonly onStep?: (step: PipelineStep) => void;
  /** Monotonic clock in ms (nowMs by default). */
  readonly now?: () => number;
}

export interface PipelineTimingsMs {
  textEncoder: number;
  unet: number;
  unetSteps: number[];
  /** VAE encode (img2img) plus decode. */
  vae: number;
  preview: number;
}

export interface PipelineOutput {
  /** Decoded images B×3×H×W in [-1, 1]. */
  readonly images: Float32Array;
  readonly dims: readonly number[];
  readonly timingsMs: PipelineTimingsMs;
  /** The timesteps actually run (img2img: the tail from the strength's start). */
  readonly timesteps: readonly number[];
  /** What the result should say about how it was made (a VAE encoder that samples with unseeded noise). */
  readonly warnings: readonly string[];
}

/** Models that can tell whether their VAE encoder samples with its own noise (model.ts; once per loaded model). */
interface ChecksEncoderNoise {
  vaeEncoderNoiseWarning?(): Promise<string | undefined>;
}

/**
 * diffusers' LatentConsistencyModelImg2ImgPipeline (LCM UNets, LCMScheduler) sets the schedule with the strength —
 * set_timesteps(steps, strength): all `steps` steps run on the first ⌊N·strength⌋ distillation timesteps — instead
 * of StableDiffusionImg2ImgPipeline's get_timesteps tail.
 */
export function usesLcmStrengthSchedule(model: Pick<LoadedModel, 'hasGuidanceEmbedding'>, scheduler: Scheduler, img2img: boolean): boolean {
  return img2img && model.hasGuidanceEmbedding === true && scheduler instanceof LCMScheduler;
}

/** Schedulers with diffusers' `set_begin_index` (the σ and multistep ones) expose it as this optional method. */
interface SetsBeginIndex {
  setBeginIndex?(beginIndex: number): void;
}

/** Throws EngineError('cancelled') when the signal has fired. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new EngineError('cancelled', 'generation cancelled');
}

/** Lets queued events (an IPC `cancel`) run: ONNX Runtime's run() blocks the thread for a whole UNet call. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * diffusers' img2img get_timesteps: init_timestep = min(int(steps · strength), steps),
 * t_start = max(steps − init_timestep, 0), timesteps[t_start · order:]. Strength 0 gives no timesteps.
 */
export function img2imgTimesteps(timesteps: readonly number[], steps: number, strength: number, order: number): number[] {
  const initTimestep = Math.min(Math.floor(steps * strength), steps);
  const tStart = Math.max(steps - initTimestep, 0);
  return timesteps.slice(tStart * order);
}

/**
 * Classifier-free guidance ε = ε_u + s · (ε_c − ε_u) in float32 as torch/numpy do it, for a 2B batch
 * [ε_u × B; ε_c × B] → B. `s` is rounded to float32 once (a Python float scalar on a float32 tensor).
 */
export function guideNoise(noisePred: Float32Array, cfgScale: number): Float32Array {
  const half = noisePred.length / 2;
  const s = Math.fround(cfgScale);
  const out = new Float32Array(half);
  for (let k = 0; k < half; k++) {
    const u = noisePred[k];
    out[k] = u + Math.fround(s * Math.fround(noisePred[half + k] - u));
  }
  return out;
}

/** Repeats `rows` (each `rowLength` long) as [rows[0] × n; rows[1] × n; …]. */
function repeatRows(data: Float32Array, rowCount: number, rowLength: number, n: number): Float32Array {
  const out = new Float32Array(rowCount * n * rowLength);
  for (let r = 0; r < rowCount; r++) {
    const row = data.subarray(r * rowLength, (r + 1) * rowLength);
    for (let i = 0; i < n; i++) out.set(row, (r * n + i) * rowLength);
  }
  return out;
}

/** Runs one generation; throws EngineError('cancelled') between stages once `signal` fires. */
export async function runPipeline(input: PipelineInput): Promise<PipelineOutput> {
  const { model, scheduler, signal, cfgScale } = input;
  const now = input.now ?? nowMs;
  const { latentChannels: channels, vaeScaleFactor } = model.info;
  const batch = input.seeds.length;
  const h = input.height / vaeScaleFactor;
  const w = input.width / vaeScaleFactor;
  if (!Number.isInteger(h) || !Number.isInteger(w) || batch < 1) {
    throw new EngineError('invalid-request', `size ${input.width}x${input.height} must be a multiple of ${vaeScaleFactor} `
      + `and the batch at least 1 (got ${batch} seeds)`);
  }
  if (input.promptIds.length !== input.negativeIds.length) {
    throw new EngineError('internal', `prompt and negative ids differ in length: ${input.promptIds.length} vs ${input.negativeIds.length}`);
  }
  const imageSize = channels * h * w;
  const latentDims = [batch, channels, h, w];
  // diffusers: do_classifier_free_guidance = guidance_scale > 1; LCM UNets embed the guidance scale instead
  // (LatentConsistencyModelPipeline: no CFG batch, no negative prompt, timestep_cond = embedding of cfg − 1).
  const embeddedGuidance = model.hasGuidanceEmbedding === true;
  const doGuidance = !embeddedGuidance && cfgScale > 1;
  const timings: PipelineTimingsMs = { textEncoder: 0, unet: 0, unetSteps: [], vae: 0, preview: 0 };
  const warnings: string[] = [];
  throwIfCancelled(signal);

  // 1. Text encoder: [negative; prompt] → [uncond × B; cond × B].
  let t0 = now();
  const text = await encodePrompts(input, doGuidance);
  const hiddenStates = repeatRows(text.hidden, text.rows, text.hidden.length / text.rows, batch);
  const hiddenDims = [text.rows * batch, ...text.hiddenDims.slice(1)];
  const unetOpts: PredictNoiseExtras = {
    ...(embeddedGuidance ? { guidanceScale: cfgScale } : {}),
    ...(text.pooled === undefined ? {} : {
      textEmbeds: repeatRows(text.pooled, text.rows, text.pooled.length / text.rows, batch),
      timeIds: xlTimeIds(text.rows * batch, input.width, input.height),
    }),
  };
  timings.textEncoder = now() - t0;
  throwIfCancelled(signal);
  await yieldToEventLoop();
  throwIfCancelled(signal);

  // 2. Timesteps and initial latents; one Rng per image, kept for the scheduler's noise.
  scheduler.setTimesteps(input.steps);
  const generators = input.seeds.map((seed) => input.createRng(seed));
  let timesteps = scheduler.timesteps.slice();
  let latents: Float32Array = new Float32Array(batch * imageSize);
  if (input.initImage === null) {
    const sigma = Math.fround(scheduler.initNoiseSigma);
    for (let i = 0; i < batch; i++) {
      const noise = generators[i].randn(imageSize);
      for (let k = 0; k < imageSize; k++) latents[i * imageSize + k] = noise[k] * sigma;
    }
  } else {
    t0 = now();
    const encodedImage = await model.encodeImage(input.initImage, [1, 3, input.height, input.width]);
    const noiseWarning = await (model as LoadedModel & ChecksEncoderNoise).vaeEncoderNoiseWarning?.();
    if (noiseWarning !== undefined) warnings.push(noiseWarning);
    timings.vae += now() - t0;
    if (encodedImage.length !== imageSize) {
      throw new EngineError('internal', `vae_encoder gave ${encodedImage.length} values, expected ${imageSize} (1×${channels}×${h}×${w})`);
    }
    const initLatents = repeatRows(encodedImage, 1, imageSize, batch);
    if (usesLcmStrengthSchedule(model, scheduler, true)) {
      try {
        (scheduler as LCMScheduler).setTimesteps(input.steps, input.strength);
      } catch (e) {
        throw new EngineError('invalid-request', `img2img with LCM: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      timesteps = scheduler.timesteps.slice();
    } else {
      const fullLength = timesteps.length;
      timesteps = img2imgTimesteps(timesteps, input.steps, input.strength, scheduler.order);
      // diffusers' get_timesteps also calls scheduler.set_begin_index(t_start · order) where the scheduler has it, so
      // add_noise and the first step use that index rather than looking the timestep up (which picks the second of
      // two equal timesteps, as DPM++ Karras schedules have near their end).
      (scheduler as Scheduler & SetsBeginIndex).setBeginIndex?.(fullLength - timesteps.length);
    }
    if (timesteps.length === 0) {
      // Strength 0 (or steps · strength < 1): nothing to denoise; diffusers refuses, we return the init image
      // as the VAE sees it (encoded, then decoded).
      latents = initLatents;
    } else {
      const noise = new Float32Array(batch * imageSize);
      for (let i = 0; i < batch; i++) noise.set(generators[i].randn(imageSize), i * imageSize);
      latents = scheduler.addNoise(initLatents, noise, timesteps[0]);
    }
    throwIfCancelled(signal);
  }

  // 3. Denoising loop. The UNet input buffer and the hidden states are reused across steps.
  const unetBatch = doGuidance ? 2 * batch : batch;
  const unetInput = doGuidance ? new Float32Array(2 * batch * imageSize) : null;
  const unetDims = [unetBatch, channels, h, w];
  for (let s = 0; s < timesteps.length; s++) {
    const t = timesteps[s];
    const stepStart = now();
    const scaled = scheduler.scaleModelInput(latents, t);
    let sample = scaled;
    if (unetInput !== null) {
      unetInput.set(scaled, 0);
      unetInput.set(scaled, batch * imageSize);
      sample = unetInput;
    }
    const unetStart = now();
    const noisePred = await model.predictNoise(sample, unetDims, t, hiddenStates, hiddenDims, unetOpts);
    const unetMs = now() - unetStart;
    timings.unet += unetMs;
    timings.unetSteps.push(unetMs);
    const guided = doGuidance ? guideNoise(noisePred, cfgScale) : noisePred;
    const result = scheduler.step(guided, t, latents, { generator: generators, eta: 0 });
    latents = result.prevSample;
    const stepMs = now() - stepStart;
    let previews: RgbImage[] = [];
    if (input.preview) {
      const previewStart = now();
      previews = await input.preview(result.predOriginalSample ?? latents, latentDims);
      timings.preview += now() - previewStart;
    }
    input.onStep?.({ step: s + 1, totalSteps: timesteps.length, stepMs, previews });
    throwIfCancelled(signal);
    await yieldToEventLoop();
    throwIfCancelled(signal);
  }

  // 4. VAE decode.
  t0 = now();
  const images = await model.decodeLatents(latents, latentDims);
  timings.vae += now() - t0;
  const dims = [batch, 3, input.height, input.width];
  if (images.length !== batch * 3 * input.height * input.width) {
    throw new EngineError('internal', `vae_decoder gave ${images.length} values, expected ${dims.join('×')}`);
  }
  return { images, dims, timingsMs: timings, timesteps, warnings };
}
