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
 * 2. Initial latents, image by image: txt2img x_T = randn(seed + i) · σ_init; img2img x_t = addNoise(z_i,
 *    randn(seed + i), t_start) where z_i = (μ + σ·ε) · scaling_factor samples the VAE posterior with ε drawn first
 *    from the same stream (diffusers' retrieve_latents with the image's generator; μ alone for encoders without a
 *    log-variance) and t_start follows diffusers' get_timesteps (LCM UNets with LCMScheduler: the schedule set with
 *    the strength, as diffusers' LCM img2img pipeline).
 * 3. Per timestep t: one UNet call on the batch, ε = ε_u + cfg · (ε_c − ε_u), x = scheduler.step(ε, t, x) with
 *    one Rng per image, continuing the stream that made its initial noise (so image i of a batch equals seed + i alone).
 * 4. VAE decode of the final latents → B×3×H×W in [-1, 1].
 *
 * Inpainting (input.inpaint, with an init image) as diffusers' StableDiffusionInpaintPipeline: the mask binarized
 * (≥ ½) at the image size, masked_image = init · (mask < ½), the latent mask by nearest resize; the schedule is
 * get_timesteps' (strength 1 included: x_T = randn · σ_init there, else add_noise(z, ε, t_start)). Per image the
 * generator draws, in diffusers' order: the init image's posterior ε (4-channel UNets or strength < 1), the noise,
 * then the masked image's posterior ε. A 9-channel UNet reads [x; mask; masked-image latents] each call; a
 * 4-channel one gets the known region blended back after every step: x = (1 − m)·add_noise(z, ε, t_next) + m·x
 * (z itself after the last step). A1111's "latent noise" / "latent nothing" replace z under the mask first with
 * randn(seed) from a fresh generator (A1111's create_random_tensors) or zeros.
 */
import type { RgbImage } from '../protocol/engineMessages';
import { EngineError } from './model';
import type { LatentDistribution, LoadedModel, PredictNoiseExtras } from './model';
import { createGuidedPredictor, encodePrompts, xlTimeIds, type GuidedPredictor, type PromptPlan } from './prompt';
import type { Rng } from './random';
import type { Scheduler } from './schedulers';
import { nowMs } from './clock';
import { binarizeMask, latentMaskedContent, maskedImage, nearestResize, type MaskPlane } from './inpaint';

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
  /**
   * A1111's conditioning (long prompts, weights, BREAK, editing, alternation, AND, clip skip): encoded at step 1 and
   * read per sampler call. Without it, promptIds/negativeIds give diffusers' one-chunk conditioning.
   */
  readonly conditioning?: () => Promise<PromptPlan>;
  /** Prompt ids, exactly the tokenizer's padded length (77) (without `conditioning`). */
  readonly promptIds?: Int32Array;
  /** Negative prompt ids (the empty string's ids when there is none), same length. */
  readonly negativeIds?: Int32Array;
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
  /** Inpainting (needs initImage): the mask at width×height, 1 = repaint, after A1111's blur / invert / crop. */
  readonly inpaint?: PipelineInpaint;
  /**
   * The first noise of image i from its fresh generator (default: generator.randn(C·h·w)); A1111's variation seed
   * (random/variationNoise.ts) slerps another seed's noise in. The generator goes on giving the sampler's noise.
   */
  readonly initialNoise?: (image: number, generator: Rng, shape: { channels: number; height: number; width: number }) => Float32Array;
  /**
   * img2img from latents B×C×h×w already in the UNet's space (hires. fix's upscaled latents): no VAE encode, the
   * noise drawn first from each image's generator (as A1111's second pass); initImage must be null.
   */
  readonly initLatents?: Float32Array;
  /**
   * img2img: run the schedule's last `denoiseSteps` steps of `steps` (A1111's hires pass: steps = ⌊hires steps /
   * strength⌋, denoiseSteps = hires steps) instead of diffusers' ⌊steps · strength⌋.
   */
  readonly denoiseSteps?: number;
  /** Skip the VAE decode and return the final latents in `latents` (hires. fix's first pass). */
  readonly latentsOnly?: boolean;
  /** Latents B×C×h×w → one preview per image (linear, or a TAESD session); called after each step when given. */
  readonly preview?: (latents: Float32Array, dims: readonly number[]) => RgbImage[] | Promise<RgbImage[]>;
  /** Final latents B×C×h×w → images B×3×H×W in [-1, 1] instead of model.decodeLatents (tiled, or TAESD's fast decode). */
  readonly decode?: (latents: Float32Array, dims: number[]) => Promise<Float32Array>;
  readonly signal?: AbortSignal;
  readonly onStep?: (step: PipelineStep) => void;
  /** Monotonic clock in ms (nowMs by default). */
  readonly now?: () => number;
}

/** What inpainting adds to a run. */
export interface PipelineInpaint {
  readonly mask: MaskPlane;
  /** A1111's masked content in latent space: "latent noise" (randn of the image's seed) or "latent nothing" (zeros). */
  readonly latentFill?: 'noise' | 'nothing';
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
  /** The final latents B×C×h×w, when `latentsOnly` was asked (then `images` is empty). */
  readonly latents?: Float32Array;
}

/**
 * diffusers' LatentConsistencyModelImg2ImgPipeline (LCM UNets, LCMScheduler) sets the schedule with the strength —
 * set_timesteps(steps, strength): all `steps` steps run on the first ⌊N·strength⌋ distillation timesteps — instead
 * of StableDiffusionImg2ImgPipeline's get_timesteps tail.
 */
export function usesLcmStrengthSchedule(model: Pick<LoadedModel, 'hasGuidanceEmbedding'>, scheduler: Scheduler, img2img: boolean): boolean {
  return img2img && model.hasGuidanceEmbedding === true && scheduler.setTimestepsForStrength !== undefined;
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

/** What the stages of one run share: the input, its latent sizes, and the timings and warnings they add to. */
interface Run {
  readonly input: PipelineInput;
  readonly now: () => number;
  readonly batch: number;
  readonly channels: number;
  readonly h: number;
  readonly w: number;
  /** Values per image latent, C·h·w. */
  readonly imageSize: number;
  readonly latentDims: number[];
  /** diffusers' do_classifier_free_guidance (never for UNets that embed the guidance scale). */
  readonly doGuidance: boolean;
  readonly timings: PipelineTimingsMs;
  readonly warnings: string[];
  /** Inpainting state, set by prepareLatents. */
  inpaint?: InpaintState;
}

/** The latent-side inpainting tensors (diffusers' mask, masked_image_latents, image_latents, noise). */
interface InpaintState {
  /** Latent mask h×w, 0/1. */
  readonly latentMask: Float32Array;
  /** 9-channel UNets: each image's masked-image latents, B×C×h×w. */
  readonly maskedLatents?: Float32Array;
  /** 4-channel UNets: the init latents z (B×C×h×w) and the noise ε blended back after every step. */
  readonly imageLatents?: Float32Array;
  readonly noise?: Float32Array;
}

/** The initial latents, the timesteps to run and one Rng per image (continuing the stream that made its noise). */
interface StartLatents {
  readonly latents: Float32Array;
  readonly timesteps: number[];
  readonly generators: Rng[];
}

/** Runs one generation; throws EngineError('cancelled') between stages once `signal` fires. */
export async function runPipeline(input: PipelineInput): Promise<PipelineOutput> {
  const run = startRun(input);
  throwIfCancelled(input.signal);
  const predict = await encodeText(run);
  await betweenStages(input.signal);
  const start = await prepareLatents(run);
  const latents = await denoise(run, predict, start);
  if (input.latentsOnly === true) {
    return {
      images: new Float32Array(0), dims: run.latentDims, timingsMs: run.timings, timesteps: start.timesteps,
      warnings: run.warnings, latents,
    };
  }
  const images = await decode(run, latents);
  return {
    images, dims: [run.batch, 3, input.height, input.width], timingsMs: run.timings, timesteps: start.timesteps,
    warnings: run.warnings,
  };
}

/** Checks the sizes and works out the latent shape and whether guidance runs. */
function startRun(input: PipelineInput): Run {
  const { model, cfgScale } = input;
  const { latentChannels: channels, vaeScaleFactor } = model.info;
  const batch = input.seeds.length;
  const h = input.height / vaeScaleFactor;
  const w = input.width / vaeScaleFactor;
  if (!Number.isInteger(h) || !Number.isInteger(w) || batch < 1) {
    throw new EngineError('invalid-request', `size ${input.width}x${input.height} must be a multiple of ${vaeScaleFactor} `
      + `and the batch at least 1 (got ${batch} seeds)`);
  }
  const { promptIds, negativeIds } = input;
  if (input.conditioning === undefined && (promptIds === undefined || negativeIds === undefined || promptIds.length !== negativeIds.length)) {
    throw new EngineError('internal', `the pipeline needs a conditioning or prompt and negative ids of one length: got ${promptIds?.length} and ${negativeIds?.length}`);
  }
  if (model.info.inpainting === true && input.inpaint === undefined) {
    throw new EngineError('invalid-request', `${model.info.name} is an inpainting model (9-channel UNet): it needs an input image and a mask `
      + '(--init-image and --mask, or paint one in the panel)');
  }
  if (input.inpaint !== undefined) {
    const { mask } = input.inpaint;
    if (input.initImage === null) throw new EngineError('invalid-request', 'inpainting needs an input image as well as the mask');
    if (mask.width !== input.width || mask.height !== input.height || mask.data.length !== input.width * input.height) {
      throw new EngineError('internal', `the pipeline's mask is ${mask.width}×${mask.height}, expected the image size ${input.width}×${input.height}`);
    }
  }
  // diffusers: do_classifier_free_guidance = guidance_scale > 1; LCM UNets embed the guidance scale instead
  // (LatentConsistencyModelPipeline: no CFG batch, no negative prompt, timestep_cond = embedding of cfg − 1).
  const doGuidance = model.hasGuidanceEmbedding !== true && cfgScale > 1;
  return {
    input, now: input.now ?? nowMs, batch, channels, h, w, imageSize: channels * h * w, latentDims: [batch, channels, h, w],
    doGuidance, timings: { textEncoder: 0, unet: 0, unetSteps: [], vae: 0, preview: 0 }, warnings: [],
  };
}

/** Lets a queued cancel in, checking the signal on both sides of the yield. */
async function betweenStages(signal: AbortSignal | undefined): Promise<void> {
  throwIfCancelled(signal);
  await yieldToEventLoop();
  throwIfCancelled(signal);
}

/**
 * 1. Text encoder: A1111's conditioning schedule (input.conditioning), or diffusers' [negative; prompt] →
 * [uncond × B; cond × B] (SDXL: and the pooled embeds and time ids); either way, the guided prediction per model call.
 */
async function encodeText(run: Run): Promise<GuidedPredictor> {
  const { input, batch, imageSize, doGuidance } = run;
  const { model, cfgScale } = input;
  const embeddedGuidance = model.hasGuidanceEmbedding === true;
  const t0 = run.now();
  const predictNoise = unetCall(run);
  let predict: GuidedPredictor;
  if (input.conditioning !== undefined) {
    const plan = await input.conditioning();
    predict = createGuidedPredictor({
      plan, predictNoise, batch, cfgScale, embeddedGuidance,
      timeIds: model.info.xl === undefined ? undefined : (rows) => xlTimeIds(rows, input.width, input.height),
      fixedTokens: model.unetTokens,
    });
  } else {
    const text = await encodePrompts({ ...input, promptIds: input.promptIds!, negativeIds: input.negativeIds! }, doGuidance);
    const hiddenStates = repeatRows(text.hidden, text.rows, text.hidden.length / text.rows, batch);
    const hiddenDims = [text.rows * batch, ...text.hiddenDims.slice(1)];
    const unetOpts: PredictNoiseExtras = {
      ...(embeddedGuidance ? { guidanceScale: cfgScale } : {}),
      ...(text.pooled === undefined ? {} : {
        textEmbeds: repeatRows(text.pooled, text.rows, text.pooled.length / text.rows, batch),
        timeIds: xlTimeIds(text.rows * batch, input.width, input.height),
      }),
    };
    // The UNet input buffer and the hidden states are reused across steps.
    const unetInput = doGuidance ? new Float32Array(2 * batch * imageSize) : null;
    predict = async (scaled, latentDims, _callIndex, t) => {
      let sample = scaled;
      if (unetInput !== null) {
        unetInput.set(scaled, 0);
        unetInput.set(scaled, scaled.length);
        sample = unetInput;
      }
      const noisePred = await predictNoise(sample, [hiddenDims[0], ...latentDims.slice(1)], t, hiddenStates, hiddenDims, unetOpts);
      return doGuidance ? guideNoise(noisePred, cfgScale) : noisePred;
    };
  }
  // The text encoders are not needed again this generation: their memory goes before the UNet's and the VAE's peak.
  await model.releaseTextEncoders?.();
  run.timings.textEncoder = run.now() - t0;
  return predict;
}

/**
 * The UNet call: the model's, or for a 9-channel inpainting UNet one that appends to each row its image's mask and
 * masked-image latents (diffusers: cat([latent_model_input, mask, masked_image_latents], dim=1)).
 */
function unetCall(run: Run): LoadedModel['predictNoise'] {
  const { model } = run.input;
  if (model.info.inpainting !== true) return (...args) => model.predictNoise(...args);
  return (sample, sampleDims, timestep, hidden, hiddenDims, opts) => {
    const state = run.inpaint;
    if (state?.maskedLatents === undefined) throw new EngineError('internal', 'the inpainting UNet was called before its mask was prepared');
    const [rows, c, h, w] = sampleDims;
    const plane = h * w;
    const item = c * plane;
    const full = new Float32Array(rows * (2 * c + 1) * plane);
    const first = opts?.firstRow ?? 0;
    for (let k = 0; k < rows; k++) {
      const image = (first + k) % run.batch;
      const base = k * (2 * c + 1) * plane;
      full.set(sample.subarray(k * item, (k + 1) * item), base);
      full.set(state.latentMask, base + item);
      full.set(state.maskedLatents.subarray(image * item, (image + 1) * item), base + item + plane);
    }
    return model.predictNoise(full, [rows, 2 * c + 1, h, w], timestep, hidden, hiddenDims, opts);
  };
}

/** 2. Timesteps and initial latents: x_T = randn · σ_init (txt2img) or the init image noised to t_start (img2img). */
async function prepareLatents(run: Run): Promise<StartLatents> {
  const { input, batch, imageSize } = run;
  const { scheduler } = input;
  scheduler.setTimesteps(input.steps);
  const generators = input.seeds.map((seed) => input.createRng(seed));
  const shape = { channels: run.channels, height: run.h, width: run.w };
  const firstNoise = (i: number): Float32Array => input.initialNoise?.(i, generators[i], shape) ?? generators[i].randn(imageSize);
  if (input.initLatents !== undefined) {
    if (input.initImage !== null || input.initLatents.length !== batch * imageSize) {
      throw new EngineError('internal', `img2img from latents needs no init image and ${batch}×${imageSize} latents, got ${input.initLatents.length}`);
    }
    const timesteps = img2imgSchedule(run);
    if (timesteps.length === 0) return { latents: input.initLatents.slice(), timesteps, generators };
    const noise = new Float32Array(batch * imageSize);
    for (let i = 0; i < batch; i++) noise.set(firstNoise(i), i * imageSize);
    return { latents: scheduler.addNoise(input.initLatents, noise, timesteps[0]), timesteps, generators };
  }
  if (input.initImage === null) {
    const latents = new Float32Array(batch * imageSize);
    const sigma = Math.fround(scheduler.initNoiseSigma);
    for (let i = 0; i < batch; i++) {
      const noise = firstNoise(i);
      for (let k = 0; k < imageSize; k++) latents[i * imageSize + k] = noise[k] * sigma;
    }
    return { latents, timesteps: scheduler.timesteps.slice(), generators };
  }
  if (input.inpaint !== undefined) return prepareInpaintLatents(run, input.initImage, input.inpaint, generators, firstNoise);
  const init = await encodeInitImage(run, input.initImage);
  const timesteps = img2imgSchedule(run);
  let latents: Float32Array;
  if (timesteps.length === 0) {
    // Strength 0 (or steps · strength < 1): nothing to denoise; diffusers refuses, we return the init image
    // as the VAE sees it (encoded to the posterior's mean, then decoded).
    latents = repeatRows(init.mean, 1, imageSize, batch);
  } else {
    // Image i: its posterior sample (ε drawn first from its generator), then the added noise from the same one.
    const initLatents = new Float32Array(batch * imageSize);
    const noise = new Float32Array(batch * imageSize);
    for (let i = 0; i < batch; i++) {
      initLatents.set(init.sample(generators[i]), i * imageSize);
      noise.set(firstNoise(i), i * imageSize);
    }
    latents = scheduler.addNoise(initLatents, noise, timesteps[0]);
  }
  throwIfCancelled(input.signal);
  return { latents, timesteps, generators };
}

/**
 * Inpainting's start (diffusers' StableDiffusionInpaintPipeline prepare_latents and prepare_mask_latents, in the
 * order they draw from each image's generator): see the header.
 */
async function prepareInpaintLatents(run: Run, initImage: Float32Array, inpaint: PipelineInpaint, generators: Rng[],
    firstNoise: (i: number) => Float32Array): Promise<StartLatents> {
  const { input, batch, imageSize, h, w } = run;
  const { scheduler, model } = input;
  const nine = model.info.inpainting === true;
  const binary = binarizeMask(inpaint.mask);
  const latentMask = nearestResize(binary, w, h).data;
  const timesteps = img2imgSchedule(run);
  const strengthMax = input.strength === 1;
  const needImage = !nine || !strengthMax || timesteps.length === 0;
  const init = needImage ? await encodeInitImage(run, initImage) : undefined;
  const masked = await encodeInitImage(run, maskedImage(initImage, binary));
  const imageLatents = new Float32Array(batch * imageSize);
  const noise = new Float32Array(batch * imageSize);
  const maskedLatents = new Float32Array(batch * imageSize);
  for (let i = 0; i < batch; i++) {
    if (init !== undefined) imageLatents.set(init.sample(generators[i]), i * imageSize);
    noise.set(firstNoise(i), i * imageSize); // A1111's variation seed slerps in here too
    maskedLatents.set(masked.sample(generators[i]), i * imageSize);
    if (inpaint.latentFill !== undefined && init !== undefined) {
      // A1111: init_latent · mask + create_random_tensors(seed) · nmask (or · 0 for "latent nothing").
      const fill = inpaint.latentFill === 'noise' ? input.createRng(input.seeds[i]).randn(imageSize) : undefined;
      imageLatents.set(latentMaskedContent(imageLatents.subarray(i * imageSize, (i + 1) * imageSize), latentMask, 1, fill), i * imageSize);
    }
  }
  let latents: Float32Array;
  if (timesteps.length === 0) {
    latents = init === undefined ? imageLatents : repeatRows(init.mean, 1, imageSize, batch);
  } else if (strengthMax) {
    const sigma = Math.fround(scheduler.initNoiseSigma);
    latents = Float32Array.from(noise, (v) => v * sigma);
  } else {
    latents = scheduler.addNoise(imageLatents, noise, timesteps[0]);
  }
  run.inpaint = nine ? { latentMask, maskedLatents } : { latentMask, imageLatents, noise };
  throwIfCancelled(input.signal);
  return { latents, timesteps, generators };
}

/** 4-channel inpainting: after step s, the known region back from the init latents noised to the next timestep. */
function blendKnownRegion(run: Run, latents: Float32Array, timesteps: readonly number[], s: number): Float32Array {
  const state = run.inpaint;
  if (state?.imageLatents === undefined || state.noise === undefined) return latents;
  const proper = s < timesteps.length - 1 ? run.input.scheduler.addNoise(state.imageLatents, state.noise, timesteps[s + 1]) : state.imageLatents;
  const plane = run.h * run.w;
  const out = new Float32Array(latents.length);
  for (let k = 0; k < latents.length; k++) out[k] = state.latentMask[k % plane] >= 0.5 ? latents[k] : proper[k];
  return out;
}

/**
 * img2img: the init image through the VAE encoder — its scaled posterior mean, and how an image's init latents
 * are drawn from its generator (the posterior sample where the encoder gives a log-variance, else the latents).
 */
async function encodeInitImage(run: Run, initImage: Float32Array):
    Promise<{ mean: Float32Array; sample: (rng: Rng) => Float32Array }> {
  const { input, imageSize, channels, h, w } = run;
  const { model } = input;
  const { scalingFactor } = model.info;
  const imageDims = [1, 3, input.height, input.width];
  const t0 = run.now();
  let posterior: LatentDistribution | undefined;
  let encoded: Float32Array | undefined;
  if (model.encodeImageDistribution !== undefined) posterior = await model.encodeImageDistribution(initImage, imageDims);
  else encoded = await model.encodeImage(initImage, imageDims);
  const noiseWarning = await model.vaeEncoderNoiseWarning?.();
  if (noiseWarning !== undefined && !run.warnings.includes(noiseWarning)) run.warnings.push(noiseWarning);
  run.timings.vae += run.now() - t0;
  for (const part of posterior === undefined ? [encoded as Float32Array] : [posterior.mean, posterior.logvar ?? posterior.mean]) {
    if (part.length !== imageSize) {
      throw new EngineError('internal', `vae_encoder gave ${part.length} values, expected ${imageSize} (1×${channels}×${h}×${w})`);
    }
  }
  if (posterior === undefined) {
    const latents = encoded as Float32Array;
    return { mean: latents, sample: () => latents };
  }
  const dist = posterior;
  return { mean: scaleLatents(dist.mean, scalingFactor), sample: (rng) => samplePosterior(dist, rng, scalingFactor) };
}

/** x · factor in float32, the factor rounded to float32 first (diffusers' `scaling_factor * init_latents`). */
function scaleLatents(x: Float32Array, factor: number): Float32Array {
  const f = Math.fround(factor);
  return Float32Array.from(x, (v) => v * f);
}

/**
 * diffusers' retrieve_latents(vae.encode(image), generator) × scaling_factor: DiagonalGaussianDistribution.sample —
 * mean + exp(½·clamp(logvar, −30, 20)) · ε with ε = randn(C·h·w) from the image's generator — in float32; the mean
 * alone where the encoder gave no log-variance (then nothing is drawn).
 */
export function samplePosterior(posterior: LatentDistribution, rng: Rng, scalingFactor: number): Float32Array {
  const { mean, logvar } = posterior;
  const f = Math.fround(scalingFactor);
  if (logvar === undefined) return scaleLatents(mean, scalingFactor);
  const eps = rng.randn(mean.length);
  const out = new Float32Array(mean.length);
  for (let k = 0; k < mean.length; k++) {
    const std = Math.fround(Math.exp(Math.fround(0.5 * Math.min(Math.max(logvar[k], -30), 20))));
    out[k] = Math.fround(Math.fround(mean[k] + Math.fround(std * eps[k])) * f);
  }
  return out;
}

/** img2img's timesteps: the strength's tail of the schedule (get_timesteps), or LCM's strength schedule. */
function img2imgSchedule(run: Run): number[] {
  const { input } = run;
  const { scheduler } = input;
  if (usesLcmStrengthSchedule(input.model, scheduler, true)) {
    try {
      scheduler.setTimestepsForStrength!(input.steps, input.strength);
    } catch (e) {
      throw new EngineError('invalid-request', `img2img with LCM: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    return scheduler.timesteps.slice();
  }
  const fullLength = scheduler.timesteps.length;
  const timesteps = input.denoiseSteps === undefined
    ? img2imgTimesteps(scheduler.timesteps.slice(), input.steps, input.strength, scheduler.order)
    : scheduler.timesteps.slice(Math.max(input.steps - input.denoiseSteps, 0) * scheduler.order);
  // diffusers' get_timesteps also calls scheduler.set_begin_index(t_start · order) where the scheduler has it, so
  // add_noise and the first step use that index rather than looking the timestep up (which picks the second of
  // two equal timesteps, as DPM++ Karras schedules have near their end).
  scheduler.setBeginIndex?.(fullLength - timesteps.length);
  return timesteps;
}

/**
 * 3. The denoising loop, as k-diffusion's samplers read: per timestep one guided prediction (model call s reads the
 * conditioning of A1111's step s), one scheduler step, a preview and a progress report.
 */
async function denoise(run: Run, predict: GuidedPredictor, start: StartLatents): Promise<Float32Array> {
  const { input, timings } = run;
  const { scheduler, signal } = input;
  const { timesteps, generators } = start;
  let latents = start.latents;
  for (let s = 0; s < timesteps.length; s++) {
    const t = timesteps[s];
    const stepStart = run.now();
    const scaled = scheduler.scaleModelInput(latents, t);
    const unetStart = run.now();
    const guided = await predict(scaled, run.latentDims, s, t);
    const unetMs = run.now() - unetStart;
    timings.unet += unetMs;
    timings.unetSteps.push(unetMs);
    const result = scheduler.step(guided, t, latents, { generator: generators, eta: 0 });
    latents = blendKnownRegion(run, result.prevSample, timesteps, s);
    const stepMs = run.now() - stepStart;
    let previews: RgbImage[] = [];
    if (input.preview) {
      const previewStart = run.now();
      previews = await input.preview(result.predOriginalSample ?? latents, run.latentDims);
      timings.preview += run.now() - previewStart;
    }
    input.onStep?.({ step: s + 1, totalSteps: timesteps.length, stepMs, previews });
    await betweenStages(signal);
  }
  return latents;
}

/** 4. VAE decode of the final latents → B×3×H×W in [-1, 1]. */
async function decode(run: Run, latents: Float32Array): Promise<Float32Array> {
  const { input, batch } = run;
  const t0 = run.now();
  const images = input.decode !== undefined ? await input.decode(latents, run.latentDims)
    : await input.model.decodeLatents(latents, run.latentDims);
  run.timings.vae += run.now() - t0;
  if (images.length !== batch * 3 * input.height * input.width) {
    throw new EngineError('internal', `vae_decoder gave ${images.length} values, expected ${[batch, 3, input.height, input.width].join('×')}`);
  }
  return images;
}
