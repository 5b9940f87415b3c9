/**
 * The Engine: one generation from a validated GenerateRequest to PNG bytes (ARCHITECTURE.md, engine steps 1–5).
 * Reads the model folder and checks everything cheap before loading any session, keeps the loaded model between
 * calls (same folder, provider and threads), runs the pipeline (pipeline.ts), and writes A1111 infotext into the PNGs.
 * Used in-process by the CLI (on a worker thread) and by the engine process (main.ts).
 */
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { freemem, homedir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import type { GenerateRequest, GeneratedImage, InitResizeMode, ProviderFallback, RgbImage, TimingsMs, TokenCount } from '../protocol/engineMessages';
import { EngineError } from './model';
import { buildInfotextParams, formatInfotext } from './infotext';
import { loadModel } from './onnx';
import { ModelError } from './model';
import { COMPONENT_FILES, modelHash, modelWeightsBytes, readModelFolder, unetAttentionOf } from './model';
import { checkHiresMemory, checkHiresModel, hiresInfotextExtra, hiresPlan, upscaleFirstPass, type HiresPlan } from './hires';
import { batchSeeds, hasVariation, variationNoise } from './variation';
import type { LoadedModel, ModelInfo } from './model';
import { providerOrder, sessionProvider, unavailableProviders } from './onnx';
import { runPipeline, throwIfCancelled, usesLcmStrengthSchedule, type PipelineInput, type PipelineOutput } from './pipeline';
import {
  buildPromptPlan, countPromptTokens, extractExtraNetworks, preparePrompts, PromptPlanError, PromptTooLongError,
  embeddingTokens, type ChunkEncoder, type EmphasisMode, type ExtraNetworkHandler, type PreparedPrompts, type PromptPlan,
} from './prompt';
import { formatProviderFallback } from './providerFallback';
import { findPreviewDecoder, PreviewDecoder } from './onnx';
import { encodePng } from './image';
import { validateRequest } from './request';
import { ClipTokenizer } from './tokenizer';
import { decodedToRgbImages, resizeRgb, rgbImagesToTensor } from './image';
import { latentsToPreviews, type LatentRgbFactors } from './image';
import { PhiloxGenerator, TorchGenerator, type Rng } from './random';
import { decodePlan, detectModelFamily, FP16_ON_CPU_WARNING, modelSchedulerSetup, recommendedSettings } from './model';
import { createScheduler, resolveSampler, type Scheduler } from './schedulers';
import {
  applyNetworks, EMBEDDING_EXTENSIONS, fp32CopyOf, isMarkedLcm, listFolder, LORA_EXTENSIONS, readEmbedding, resolveLoraTags,
  wantsFp32Copy, type AppliedNetworks, type Component, type LibraryEntry, type LoraRequest,
} from './networks';
import { version as packageVersion } from '../../package.json';
import { nowMs } from './clock';
import { FP32_CACHE_ENV, NETWORK_CACHE_ENV } from '../protocol/engineEnv';
import { prepareInpaintRun, type InpaintRun } from './inpaint';

export { EngineError } from './model';

export interface GenerateProgress {
  step: number;
  totalSteps: number;
  stepMs: number;
  previews: RgbImage[];
  /** With hires. fix: 1 for the first pass's steps, 2 for the hires pass's. */
  pass?: number;
}

export interface GenerateOutput {
  images: GeneratedImage[];
  /** The sampler that ran, as A1111 names it, with its schedule type where it has one: "DPM++ 2M (Karras)". */
  sampler: string;
  timingsMs: TimingsMs;
  executionProvider: string;
  warnings: string[];
  /** Set when the requested provider could not start and the model ran on `executionProvider` instead. */
  providerFallback?: ProviderFallback;
  /** Set when an fp16 model ran on the CPU from its fp32 copy: the line that says so (fp32CopyNote). */
  fp32Copy?: string;
}

export interface GenerateOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: GenerateProgress) => void;
  /**
   * The model folder as readModelFolder(request.modelDir) read it just before (the CLI reads it for the model's
   * defaults): used instead of reading the folder again when its `dir` is the request's.
   */
  readonly modelInfo?: ModelInfo;
  /** Stop once everything is loaded (sessions, LoRA set, decoder): Engine.preload. */
  readonly loadOnly?: boolean;
}

export type EngineLog = (level: 'info' | 'warn' | 'error', message: string) => void;

/** Written as the infotext's "Version" (A1111's version parser ignores it, so no back-compat flags switch on). */
export const ENGINE_VERSION = `inline-diffusion ${packageVersion}`;

/** ModelError kinds → the host's error codes. */
function toEngineError(e: unknown, phase: 'read' | 'load' | 'run'): unknown {
  if (e instanceof EngineError) return e;
  if (e instanceof ModelError) {
    if (e.kind === 'out-of-memory') return new EngineError('out-of-memory', e.message, { cause: e });
    if (phase === 'read') return new EngineError('model-invalid', e.message, { cause: e });
    if (phase === 'load') return new EngineError('model-load-failed', e.message, { cause: e });
    const invalid = e.kind === 'wrong-input' || e.kind === 'unsupported' || e.kind === 'invalid-onnx';
    return new EngineError(invalid ? 'model-invalid' : 'internal', e.message, { cause: e });
  }
  if (phase === 'read') {
    return new EngineError('model-invalid', e instanceof Error ? e.message : String(e), { cause: e });
  }
  return e;
}

/**
 * The scheduler for a request's sampler (null = the model's own) and the names the infotext writes, with its
 * timesteps set for `steps` — so a step count the schedule cannot run is refused before any model loads.
 */
function schedulerFor(sampler: string | null, schedulerConfig: Record<string, unknown>, steps: number):
    { scheduler: Scheduler; a1111Name: string; scheduleType?: string } {
  let resolved: ReturnType<typeof resolveSampler>;
  let scheduler: Scheduler;
  try {
    resolved = resolveSampler(sampler, schedulerConfig);
    scheduler = createScheduler(resolved.className, resolved.config);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // A requested sampler is the request's fault; the model's own unsupported scheduler is the model's.
    throw new EngineError(sampler === null ? 'model-invalid' : 'invalid-request', `sampler: ${message}`, { cause: e });
  }
  const trainSteps = typeof resolved.config.num_train_timesteps === 'number' ? resolved.config.num_train_timesteps : 1000;
  try {
    scheduler.setTimesteps(steps);
  } catch (e) {
    throw new EngineError('invalid-request', `steps: ${resolved.a1111Name} cannot run ${steps} steps: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const last = Math.max(...scheduler.timesteps);
  if (!(last <= trainSteps - 1)) {
    throw new EngineError('invalid-request', `steps: ${resolved.a1111Name} at ${steps} steps would start at timestep ${last}, `
      + `past the model's ${trainSteps} training timesteps (0…${trainSteps - 1}); use at most ${steps - 1} steps`);
  }
  return { scheduler, a1111Name: resolved.a1111Name, scheduleType: resolved.scheduleType };
}

/**
 * Why a UNet that runs its native size may fail at width×height: exporters trace the UNet at a latent size its
 * downsampling divides (SD: 3 halvings, latents divisible by 8; SDXL: 2, by 4), and the traced graph then runs only
 * such sizes — torch's own UNet pads the odd ones, a traced one cannot. Names the sizes around the request that
 * work; undefined when both sides already are such multiples (the failure is something else).
 */
export function tracedSizeHint(info: Pick<ModelInfo, 'vaeScaleFactor' | 'xl'>, width: number, height: number): string | undefined {
  const latentMultiple = info.xl === undefined ? 8 : 4;
  const multiple = latentMultiple * info.vaeScaleFactor;
  if (width % multiple === 0 && height % multiple === 0) return undefined;
  const down = (n: number): number => Math.max(multiple, Math.floor(n / multiple) * multiple);
  const up = (n: number): number => Math.ceil(n / multiple) * multiple;
  const lower = `${down(width)}x${down(height)}`;
  const upper = `${up(width)}x${up(height)}`;
  return `${width}x${height}: UNets exported by tracing (Optimum, diffusers' converter) run only sizes whose latents divide by `
    + `${latentMultiple}, sides that are multiples of ${multiple} px; try ${lower === upper ? lower : `${lower} or ${upper}`}`;
}

/** TorchGenerator (A1111 "RNG: CPU", diffusers/ComfyUI CPU seeds) or Philox (A1111 "RNG: NV"). */
function rngFactory(source: 'cpu' | 'nv'): (seed: number) => Rng {
  return source === 'nv' ? (seed) => new PhiloxGenerator(seed) : (seed) => new TorchGenerator(seed);
}

/**
 * The init image brought to width×height as A1111's `images.resize_image` (PIL Lanczos; "Just resize", "Crop and
 * resize" or "Resize and fill") as 1×3×H×W in [-1, 1].
 */
function initImageTensor(image: RgbImage, width: number, height: number, mode: InitResizeMode = 'just'): Float32Array {
  const sized = image.width === width && image.height === height ? image
    : resizeRgb(image, width, height, mode === 'just' ? 'stretch' : mode);
  return rgbImagesToTensor([sized]).data;
}

/** Latents B×C×h×w → one preview per image with the model's latent→RGB factors. */
export function makePreviewer(factors: ModelInfo['previewFactors']): (latents: Float32Array, dims: readonly number[]) => RgbImage[] {
  const rgb: LatentRgbFactors = {
    factors: factors.factors.map((row) => [row[0], row[1], row[2]] as const),
    bias: [factors.bias[0], factors.bias[1], factors.bias[2]],
  };
  return (latents, dims) => latentsToPreviews(latents, dims, rgb);
}

/** A1111's reading of a request's prompts, before anything loads; see preparePromptText. */
interface PromptText {
  readonly prompts: PreparedPrompts;
  readonly emphasis: EmphasisMode;
  /** The request's clip skip (written to the infotext as A1111 does) … */
  readonly clipSkip: number;
  /** … and the one the text encoder reads: A1111 applies clip skip to SD 1.x's CLIP only. */
  readonly encoderClipSkip: number;
  readonly zeroNegative: boolean;
}

/**
 * A1111's prompt syntax before anything loads: extra-network tags out (to their handlers; unknown kinds warned), the
 * 20-chunk limit (refused), clip skip where A1111 applies it (SD 2.x and SDXL read their usual layers, with a warning).
 */
function preparePromptText(req: GenerateRequest, info: ModelInfo, tokenizer: ClipTokenizer, tokenizer2: ClipTokenizer | undefined,
    scheduler: Scheduler, extraNetworks: Readonly<Record<string, ExtraNetworkHandler>>, warnings: string[]): PromptText {
  const emphasis = req.emphasis ?? 'original';
  let prompts: PreparedPrompts;
  try {
    prompts = preparePrompts({
      prompt: req.prompt, negativePrompt: req.negativePrompt ?? '', steps: req.steps, schedulerOrder: scheduler.order,
      emphasis, tokenizer, extraNetworks, useOldScheduling: req.oldPromptEditingTimelines === true,
    });
  } catch (e) {
    if (e instanceof PromptTooLongError) throw new EngineError('invalid-request', e.message, { cause: e });
    throw e;
  }
  warnings.push(...prompts.warnings);
  const clipSkip = req.clipSkip ?? 1;
  const applies = tokenizer2 === undefined && tokenizer.padId === tokenizer.eosId;
  if (clipSkip > 1 && !applies) {
    warnings.push(`clip skip ${clipSkip} has no effect on ${tokenizer2 === undefined ? 'SD 2.x' : 'SDXL'} models (as in A1111)`);
  }
  // diffusers zeroes the unconditional embeddings when negative_prompt is None (null here) and encodes "" when given.
  const zeroNegative = info.xl?.forceZerosForEmptyPrompt === true && req.negativePrompt === null;
  return { prompts, emphasis, clipSkip, encoderClipSkip: applies ? clipSkip : 1, zeroNegative };
}

/**
 * The conditioning the pipeline encodes at its step 1 (A1111's chunks, weights, schedules, AND), and the warning for
 * a UNet whose token axis was fixed at export (it reads the first chunk).
 */
function conditioningFor(req: GenerateRequest, model: LoadedModel, tokenizers: readonly ClipTokenizer[], scheduler: Scheduler,
    text: PromptText, warnings: string[], networks: AppliedNetworks | undefined): () => Promise<PromptPlan> {
  const fixedTokens = model.unetTokens;
  const longest = Math.max(text.prompts.promptTokens, req.cfgScale > 1 ? text.prompts.negativeTokens : 0);
  if (fixedTokens !== undefined && longest > fixedTokens - 2) {
    warnings.push(`this UNet reads ${fixedTokens} tokens (its token axis was fixed at export): only the first chunk of `
      + `75 is used, ${longest - (fixedTokens - 2)} tokens are dropped`);
  }
  return async () => {
    if (model.textEncoderRuns === undefined) throw new EngineError('internal', 'the loaded model gives no text encoder runs');
    const runs = await model.textEncoderRuns(text.encoderClipSkip);
    const encoders: ChunkEncoder[] = runs.map((run, i) => ({
      tokenizer: tokenizers[i], encode: run,
      embeddings: networks === undefined || networks.embeddings.length === 0 ? undefined : embeddingTokens(networks.embeddings.map(
        (e) => ({ name: e.name, nameIds: tokenizers[i].encodeContent(e.name), ids: e.ids }))),
      // SDXL's pooled output from text_encoder_2 at the end of text, as A1111 takes it (networkSet.ts pooledEosId)
      ...(i === 1 && networks?.pooledEosId !== undefined ? { pooledEosId: networks.pooledEosId } : {}),
    }));
    try {
      return await buildPromptPlan({
        prompt: text.prompts.prompt, negativePrompt: req.negativePrompt ?? '', steps: req.steps, schedulerOrder: scheduler.order,
        cfgScale: req.cfgScale, embeddedGuidance: model.hasGuidanceEmbedding === true, zeroNegative: text.zeroNegative,
        encoders, options: { emphasis: text.emphasis, useOldScheduling: req.oldPromptEditingTimelines === true },
      });
    } catch (e) {
      if (e instanceof PromptTooLongError || e instanceof PromptPlanError) throw new EngineError('invalid-request', e.message, { cause: e });
      throw e;
    }
  };
}

/** Model components that may load from an fp32 copy. */
type Fp32Files = Partial<Record<Component | 'vae_decoder' | 'vae_encoder', string>>;

/** The info line for an fp16 model run on the CPU from fp32 copies (`convertedMs` when this load made them). */
export function fp32CopyNote(components: readonly string[], dir: string, bytes: number, convertedMs?: number): string {
  return `this fp16 model runs on the CPU from an fp32 copy of its ${components.join(', ')} (${(bytes / 1024 ** 3).toFixed(2)} GiB in ${dir}; `
    + (convertedMs === undefined ? 'made once, on its first load' : `made now in ${(convertedMs / 1000).toFixed(1)} s, once`)
    + '): faster and smaller than fp16 there, the same weights';
}

/**
 * What the loaded model makes worth saying before the run — no step to run, a provider that could not start, a
 * negative prompt an LCM UNet ignores — pushed to `warnings`. The fallback is returned as data too; `quietWarning`
 * is logged as info only ('auto' on a machine without a GPU is the normal case).
 */
function warnBeforeRun(req: GenerateRequest, model: LoadedModel, scheduler: Scheduler, img2img: boolean, warnings: string[]):
    { providerFallback?: ProviderFallback; quietWarning?: string } {
  if (img2img && Math.floor(req.steps * req.strength) < 1 && !usesLcmStrengthSchedule(model, scheduler, true)) {
    // diffusers' get_timesteps runs int(steps · strength) steps (and then fails on none); we return the init image.
    warnings.push(`denoising strength ${req.strength} × ${req.steps} steps leaves no step to run `
      + '(img2img runs ⌊steps × strength⌋ steps): the result is the init image through the VAE');
  }
  const wanted = providerOrder(req.executionProvider)[0];
  // Logged as a warning only when a GPU was asked for by name: 'auto' on a machine without one is the normal case
  // (the result still carries it, for the host to explain what is missing where a GPU exists).
  let providerFallback: ProviderFallback | undefined;
  let quietWarning: string | undefined;
  if (wanted !== model.executionProvider) {
    const reason = unavailableProviders().get(wanted) ?? 'unavailable';
    providerFallback = { provider: wanted, ranOn: model.executionProvider, reason };
    warnings.push(formatProviderFallback(providerFallback));
    if (req.executionProvider === 'auto') quietWarning = warnings[warnings.length - 1];
  }
  if (model.info.precision === 'fp16' && model.executionProvider === 'cpu') warnings.push(FP16_ON_CPU_WARNING);
  if (model.hasGuidanceEmbedding === true && (req.negativePrompt ?? '').trim() !== '') {
    warnings.push('this LCM model embeds the guidance scale and reads no negative prompt (as diffusers\' LCM pipeline); it was ignored');
  }
  return { providerFallback, quietWarning };
}

/** How the final latents are decoded for a request, and what the infotext says about it. */
interface Decoding {
  readonly decode?: (latents: Float32Array, dims: number[]) => Promise<Float32Array>;
  /** A1111's "VAE Decoder: TAESD". */
  readonly infotext?: readonly [string, string];
}

/** The decoded images as PNGs with A1111 infotext, one per seed (inpainting: the original pasted back first). */
function writeImages(req: GenerateRequest, result: PipelineOutput, sampler: { a1111Name: string; scheduleType?: string },
    seeds: readonly number[], model: { modelHash: string | undefined; model: string; inpainting: boolean }, text: PromptText,
    decoding: Decoding, networkInfotext: ReadonlyArray<[string, string]>, inpaint: InpaintRun | undefined): GeneratedImage[] {
  const rgbImages = decodedToRgbImages(result.images, result.dims).map((rgb) => inpaint?.finish(rgb) ?? rgb);
  // With hires. fix the image is the second pass's size; the infotext's Size stays the first pass's, as A1111 writes it.
  const hires = req.hires ?? undefined;
  const variation = hasVariation(req);
  return rgbImages.map((rgb, i): GeneratedImage => {
    const infotext = formatInfotext(req.prompt, req.negativePrompt ?? '', buildInfotextParams({
      steps: req.steps,
      sampler: sampler.a1111Name,
      scheduleType: sampler.scheduleType,
      cfgScale: req.cfgScale,
      seed: seeds[i],
      width: req.width,
      height: req.height,
      modelHash: model.modelHash,
      model: model.model,
      variationSeed: variation ? (req.variationSeed as number) + i : undefined,
      variationSeedStrength: variation ? req.variationStrength : undefined,
      seedResizeFrom: req.seedResizeFrom,
      denoisingStrength: hires !== undefined ? hires.strength : req.initImage !== null ? req.strength : undefined,
      // A1111 writes it for inpainting models (is_using_inpainting_conditioning), its default weight 1.0.
      conditionalMaskWeight: model.inpainting && inpaint !== undefined ? 1 : undefined,
      clipSkip: text.clipSkip,
      rng: req.rng === 'nv' ? 'NV' : 'CPU',
      extra: [...(inpaint?.infotextExtra ?? []), ...(text.prompts.infotextExtra ?? []), ...(hires === undefined ? [] : hiresInfotextExtra(hires)),
        ...networkInfotext, ...(decoding.infotext === undefined ? [] : [decoding.infotext])],
      version: ENGINE_VERSION,
    }));
    const png = encodePng(rgb.rgb, rgb.width, rgb.height, { parameters: infotext });
    return { seed: seeds[i], width: rgb.width, height: rgb.height, png, infotext };
  });
}

/** The UNet's layers_per_block from unet/config.json (2, SD's and SDXL's, when the folder has none). */
function layersPerBlockOf(dir: string): number {
  try {
    const config = JSON.parse(readFileSync(join(dir, 'unet', 'config.json'), 'utf8')) as Record<string, unknown>;
    return typeof config.layers_per_block === 'number' ? config.layers_per_block : 2;
  } catch {
    return 2;
  }
}

/** Embeddings whose name's tokens appear in the text (A1111 finds them by tokens, in the chunker). */
function usedEmbeddings(text: string, tokenizer: ClipTokenizer, library: ReadonlyMap<string, LibraryEntry>): LibraryEntry[] {
  if (library.size === 0) return [];
  const ids = tokenizer.encodeContent(text);
  return [...library.values()].filter((e) => {
    const name = tokenizer.encodeContent(e.name);
    if (name.length === 0) return false;
    for (let i = 0; i + name.length <= ids.length; i++) if (name.every((id, k) => ids[i + k] === id)) return true;
    return false;
  });
}

interface CachedModel {
  readonly key: string;
  readonly model: LoadedModel;
}

export class Engine {
  private readonly log: EngineLog;
  private cached: CachedModel | null = null;
  /** The TAESD preview decoder loaded for the cached model (null: none found, or it failed and previews stay linear). */
  private previewDecoder: { readonly key: string; readonly decoder: PreviewDecoder | null } | null = null;
  private readonly tokenizers = new Map<string, ClipTokenizer>();
  /** Embedding files' vector counts for the token counter, by path, size and time. */
  private readonly embeddingLengths = new Map<string, number | undefined>();
  /** Calls run one at a time (a second generate or a release waits for the one in flight). */
  private tail: Promise<unknown> = Promise.resolve();

  /** Handlers of A1111's extra-network tags by kind (`lora` …); tags of other kinds are warned about and ignored. */
  private readonly extraNetworks: Readonly<Record<string, ExtraNetworkHandler>>;

  /** Where LoRA-patched model copies are kept (networks/networkSet.ts), and their size limit. */
  private readonly networkCache: { readonly dir: string; readonly limitBytes?: number };
  /** Where fp32 copies of fp16 models are kept for the CPU provider (networks/fp32Cache.ts), and their size limit. */
  private readonly fp32Cache: { readonly dir: string; readonly limitBytes?: number } | undefined;

  constructor(opts: {
    log?: EngineLog; extraNetworks?: Readonly<Record<string, ExtraNetworkHandler>>;
    /** The folder for LoRA-patched model copies; default $INLINE_DIFFUSION_NETWORK_CACHE, else ~/.cache/inline-diffusion/networks. */
    networkCacheDir?: string; networkCacheLimitBytes?: number;
    /**
     * The folder for fp32 copies of fp16 models run on the CPU; default $INLINE_DIFFUSION_FP32_CACHE, else
     * `networkCacheDir` + '-fp32' when that is given, else ~/.cache/inline-diffusion/fp32.
     */
    fp32CacheDir?: string; fp32CacheLimitBytes?: number;
    /** false: fp16 models run on the CPU as they are (the fp16 graph, with its warning). */
    fp32Copies?: boolean;
  } = {}) {
    this.log = opts.log ?? (() => undefined);
    this.extraNetworks = opts.extraNetworks ?? {};
    const fromEnv = process.env[NETWORK_CACHE_ENV];
    this.networkCache = {
      dir: opts.networkCacheDir ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(homedir(), '.cache', 'inline-diffusion', 'networks')),
      limitBytes: opts.networkCacheLimitBytes,
    };
    const fp32FromEnv = process.env[FP32_CACHE_ENV];
    this.fp32Cache = opts.fp32Copies === false ? undefined : {
      dir: opts.fp32CacheDir ?? (fp32FromEnv !== undefined && fp32FromEnv !== '' ? fp32FromEnv
        : opts.networkCacheDir !== undefined ? `${opts.networkCacheDir}-fp32` : join(homedir(), '.cache', 'inline-diffusion', 'fp32')),
      limitBytes: opts.fp32CacheLimitBytes,
    };
  }

  /** Generates request.batchSize images; throws EngineError (codes in src/protocol/engineMessages.ts). */
  generate(
    request: GenerateRequest,
    opts: GenerateOptions = {},
  ): Promise<GenerateOutput> {
    return this.exclusive(() => this.generateNow(request, opts));
  }

  /**
   * Loads what `request` would load — the model's sessions with its LoRA set, the VAE decoder — and no more, so that
   * a generation with that request starts at its first step (resolves with the load's milliseconds). The host sends it
   * after a cancel killed the engine mid-step (issue 15: the reload then happens while the user edits the prompt).
   */
  async preload(request: GenerateRequest, opts: { signal?: AbortSignal } = {}): Promise<number> {
    const output = await this.exclusive(() => this.generateNow(request, { ...opts, loadOnly: true }));
    return output.timingsMs.load;
  }

  /**
   * A1111's token counter for the prompt fields (countPromptTokens with the model's first tokenizer); runs beside a
   * generation, reading only the tokenizer files and the headers of the embeddings the texts name: an embedding of
   * n vectors counts n tokens, as in A1111 (its name's tokens do not count).
   */
  async countTokens(modelDir: string, prompt: string, negativePrompt: string, steps: number, embeddingsDir?: string):
      Promise<{ prompt: TokenCount; negativePrompt: TokenCount }> {
    let tokenizer: ClipTokenizer;
    try {
      tokenizer = await this.tokenizerFor((await readModelFolder(modelDir)).tokenizerDir);
    } catch (e) {
      throw toEngineError(e, 'read');
    }
    const used = usedEmbeddings(`${prompt}\n${negativePrompt}`, tokenizer, listFolder(embeddingsDir, EMBEDDING_EXTENSIONS));
    const lengths = await Promise.all(used.map((e) => this.embeddingLength(e.file)));
    const embeddings = used.length === 0 ? undefined : embeddingTokens(used.flatMap((e, i) => (lengths[i] === undefined ? []
      : [{ name: e.name, nameIds: tokenizer.encodeContent(e.name), ids: new Array<number>(lengths[i]!).fill(0) }])));
    const counted = (text: string, positive: boolean): TokenCount => {
      const { tokens, limit } = countPromptTokens(text, tokenizer, steps, positive, 'original', {}, true, embeddings);
      return { tokens, limit };
    };
    return { prompt: counted(extractExtraNetworks(prompt).prompt, true), negativePrompt: counted(negativePrompt, false) };
  }

  /** An embedding file's number of vectors (cached by path, size and time); undefined for a file that cannot be read. */
  private async embeddingLength(file: string): Promise<number | undefined> {
    let stamp: string;
    try {
      const s = await stat(file);
      stamp = `${file}\0${s.size}\0${s.mtimeMs}`;
    } catch {
      return undefined;
    }
    if (!this.embeddingLengths.has(stamp)) {
      if (this.embeddingLengths.size > 1000) this.embeddingLengths.clear();
      this.embeddingLengths.set(stamp, await readEmbedding(file).then((e) => e.count, () => undefined));
    }
    return this.embeddingLengths.get(stamp);
  }

  /** Frees the cached sessions (after the generation in flight); the next generate loads again. */
  release(): Promise<void> {
    return this.exclusive(() => this.releaseNow());
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** One generation in its stages: read, tokenize, load, denoise (pipeline.ts), write the PNGs. */
  private async generateNow(
    request: GenerateRequest,
    opts: GenerateOptions,
  ): Promise<GenerateOutput> {
    const start = nowMs();
    const req = validateRequest(request);
    const { signal } = opts;
    throwIfCancelled(signal);
    const warnings: string[] = [];

    // Everything cheap first: folder, sampler, tokenizer, init image. Nothing is loaded if these fail.
    let loadMs = nowMs();
    const { info, tokenizer, tokenizer2 } = await this.readModel(req, opts.modelInfo);
    const loras = this.lorasOf(req, warnings);
    const lcmLora = loras.find((l) => l.unet !== 0 && isMarkedLcm(l.file));
    const sampler = this.samplerFor(req, info, warnings, lcmLora);
    if (req.initImage !== null && !info.hasVaeEncoder) {
      throw new EngineError('model-invalid', `img2img needs ${info.dir}/vae_encoder/model.onnx, which this model does not have`);
    }
    const handlers = Object.hasOwn(this.extraNetworks, 'lora') ? this.extraNetworks : { ...this.extraNetworks, lora: () => [] };
    const text = preparePromptText(req, info, tokenizer, tokenizer2, sampler.scheduler, handlers, warnings);
    const hires = this.hiresSetup(req, info, warnings, lcmLora);
    const embeddings = usedEmbeddings(`${text.prompts.prompt}\n${req.negativePrompt ?? ''}`, tokenizer,
      listFolder(req.embeddingsDir ?? undefined, EMBEDDING_EXTENSIONS));
    if (info.inpainting === true && (req.inpaint == null || req.initImage === null)) {
      throw new EngineError('invalid-request', `${info.name} is an inpainting model (its UNet reads a mask): give it an input image and a mask `
        + '(--init-image and --mask, or paint a mask over the input image in the panel)');
    }
    const inpaint = req.inpaint == null || req.initImage === null ? undefined
      : prepareInpaintRun(req.initImage, req.inpaint, req.width, req.height, info.inpainting === true, warnings, req.resizeMode);
    const initImage = req.initImage === null ? null
      : inpaint !== undefined ? rgbImagesToTensor([inpaint.image]).data : initImageTensor(req.initImage, req.width, req.height, req.resizeMode);
    throwIfCancelled(signal);

    const fp32 = await this.fp32CopiesFor(info, req, warnings);
    const networks = await this.networksFor(info, loras, embeddings, warnings, tokenizer2?.eosId, fp32?.files);
    const model = await this.modelFor(info, req, networks, fp32?.files);
    const { providerFallback, quietWarning } = warnBeforeRun(req, model, sampler.scheduler, initImage !== null, warnings);
    const tokenizers = tokenizer2 === undefined ? [tokenizer] : [tokenizer, tokenizer2];
    const conditioning = conditioningFor(req, model, tokenizers, sampler.scheduler, text, warnings, networks);
    const hash = await this.hashOf(info.dir);
    const decoding = await this.decodingFor(model, req, warnings);
    loadMs = nowMs() - loadMs;
    throwIfCancelled(signal);
    if (opts.loadOnly === true) { // the generation that follows says its warnings
      return { images: [], sampler: '', executionProvider: model.executionProvider, warnings,
        timingsMs: { load: loadMs, textEncoder: 0, unet: 0, unetSteps: [], vae: 0, png: 0, total: nowMs() - start } };
    }
    for (const w of warnings) this.log(w === quietWarning ? 'info' : 'warn', w);

    const seeds = batchSeeds(req);
    const createRng = rngFactory(req.rng);
    const initialNoise = variationNoise(req, seeds, createRng);
    const preview = req.previews ? await this.previewerFor(model, req) : undefined;
    const onPass = (pass: number) => (hires === undefined ? opts.onProgress
      : (p: GenerateProgress) => opts.onProgress?.({ ...p, pass }));
    let result = await this.denoise(req, info, {
      model, scheduler: sampler.scheduler, conditioning,
      steps: req.steps, cfgScale: req.cfgScale, seeds, width: req.width, height: req.height,
      createRng, initImage, strength: req.strength, initialNoise, preview,
      ...(inpaint?.pipeline === undefined ? {} : { inpaint: inpaint.pipeline }),
      decode: decoding.decode,
      signal,
      onStep: onPass(1),
      latentsOnly: hires?.plan.latent === true,
    });
    if (hires !== undefined) {
      const first = result;
      const hiresWarnings: string[] = [];
      const initLatents = await upscaleFirstPass(model, first, hires.request, hires.plan, hiresWarnings);
      throwIfCancelled(signal);
      const lcm = usesLcmStrengthSchedule(model, hires.sampler.scheduler, true);
      const hiresReq = { ...req, width: hires.plan.width, height: hires.plan.height };
      const hiresDecoding = await this.decodingFor(model, hiresReq, hiresWarnings);
      const second = await this.denoise(hiresReq, info, {
        model, scheduler: hires.sampler.scheduler,
        conditioning: conditioningFor({ ...req, steps: hires.plan.steps }, model, tokenizers, hires.sampler.scheduler, text, [], networks),
        steps: lcm ? hires.plan.steps : hires.plan.scheduleSteps, ...(lcm ? {} : { denoiseSteps: hires.plan.steps }),
        cfgScale: req.cfgScale, seeds, width: hires.plan.width, height: hires.plan.height,
        createRng, initImage: null, initLatents, strength: hires.request.strength, initialNoise, preview, signal,
        decode: hiresDecoding.decode,
        onStep: onPass(2),
      });
      const a = first.timingsMs;
      const b = second.timingsMs;
      result = {
        ...second,
        timingsMs: { textEncoder: a.textEncoder + b.textEncoder, unet: a.unet + b.unet, unetSteps: [...a.unetSteps, ...b.unetSteps],
          vae: a.vae + b.vae, preview: a.preview + b.preview },
        warnings: [...first.warnings, ...hiresWarnings, ...second.warnings],
      };
    }
    for (const w of result.warnings) {
      if (warnings.includes(w)) continue; // e.g. hires. fix's second decode choice repeating the first's
      this.log('warn', w);
      warnings.push(w);
    }

    const pngStart = nowMs();
    const images = writeImages(req, result, sampler, seeds, { modelHash: hash, model: info.name, inpainting: info.inpainting === true }, text, decoding,
      networks?.infotext ?? [], inpaint);
    const pngMs = nowMs() - pngStart;
    const t = result.timingsMs;
    return {
      images,
      sampler: sampler.scheduleType ? `${sampler.a1111Name} (${sampler.scheduleType})` : sampler.a1111Name,
      timingsMs: {
        load: loadMs, textEncoder: t.textEncoder, unet: t.unet, unetSteps: t.unetSteps, vae: t.vae, png: pngMs,
        total: nowMs() - start,
        ...(networks === undefined ? {} : { networks: networks.timingsMs }),
      },
      executionProvider: model.executionProvider,
      warnings,
      ...(providerFallback === undefined ? {} : { providerFallback }),
      ...(fp32 === undefined || model.info.precision === 'fp16' ? {} : { fp32Copy: fp32.note }),
    };
  }

  /**
   * Hires. fix before anything loads: the second pass's plan, its scheduler (the schedule length checked), what the
   * upscaler needs of the model folder, and the memory estimate at the larger size (refused past this machine's).
   */
  private hiresSetup(req: GenerateRequest, info: ModelInfo, warnings: string[], lcmLora: LoraRequest | undefined):
      { request: NonNullable<GenerateRequest['hires']>; plan: HiresPlan; sampler: ReturnType<typeof schedulerFor> } | undefined {
    const request = req.hires ?? undefined;
    if (request === undefined) return undefined;
    checkHiresModel(info, request);
    const plan = hiresPlan(req, request, info.vaeScaleFactor);
    let sampler: ReturnType<typeof schedulerFor>;
    try {
      sampler = this.samplerFor({ ...req, steps: plan.scheduleSteps }, info, [], lcmLora);
    } catch (e) {
      if (!(e instanceof EngineError)) throw e;
      throw new EngineError(e.code, `hires. fix: ${plan.steps} hires steps at denoising strength ${request.strength} make a schedule of `
        + `${plan.scheduleSteps} steps (A1111: steps / strength): ${e.message}`, { cause: e });
    }
    const components = ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', ...(plan.latent ? [] : ['vae_encoder'])];
    // the second pass's decode is tiled when decodingFor will tile it at the hires size (as the CLI's first-pass estimate)
    const tileSample = info.vaeSampleSize ?? info.sampleSize * info.vaeScaleFactor;
    const tiled = decodePlan(req.vaeDecode ?? 'auto', plan.width, plan.height, info.vaeScaleFactor, tileSample, totalmem()) === 'tiled';
    const warning = checkHiresMemory(req, plan, modelWeightsBytes(info.dir, components), unetAttentionOf(info.dir), info.vaeScaleFactor,
      totalmem(), freemem(), tiled ? tileSample : undefined);
    if (warning !== undefined) warnings.push(warning);
    return { request, plan, sampler };
  }

  /** The model folder (the caller's reading when it is this request's) and its tokenizers. */
  private async readModel(req: GenerateRequest, known: ModelInfo | undefined):
      Promise<{ info: ModelInfo; tokenizer: ClipTokenizer; tokenizer2?: ClipTokenizer }> {
    try {
      const info = known !== undefined && known.dir === resolve(req.modelDir) ? known : await readModelFolder(req.modelDir);
      const tokenizer = await this.tokenizerFor(info.tokenizerDir);
      const tokenizer2 = info.xl === undefined ? undefined : await this.tokenizerFor(info.xl.tokenizer2Dir);
      return { info, tokenizer, tokenizer2 };
    } catch (e) {
      throw toEngineError(e, 'read');
    }
  }

  /** The request's sampler over the model's scheduler config as its pipeline class leaves it. */
  /**
   * The scheduler as diffusers' pipeline loads it (model_index.json's class, the pipeline's fix-ups: steps_offset 1,
   * clip_sample false for the SD 1.x/2.x pipelines; a family default for a class the engine lacks), with what it says
   * about that in `warnings`.
   */
  private samplerFor(req: GenerateRequest, info: ModelInfo, warnings: string[], lcmLora?: LoraRequest): ReturnType<typeof schedulerFor> {
    // as readModelFolder made it, unless a caller handed another schedulerConfig (its _class_name is then the class)
    let setup = info.scheduler?.from === info.schedulerConfig ? info.scheduler : undefined;
    try {
      setup ??= modelSchedulerSetup(info.schedulerConfig, undefined, info.pipelineClass,
        () => recommendedSettings(detectModelFamily(info.dir)).sampler, `${info.dir}/scheduler/scheduler_config.json`);
    } catch (e) {
      throw toEngineError(e, 'read');
    }
    if (setup.fixups.length > 0) {
      this.log('info', `scheduler config adjusted as diffusers' ${info.pipelineClass} does: ${setup.fixups.join(', ')}`);
    }
    warnings.push(...setup.notes);
    if (lcmLora !== undefined && req.sampler === null) {
      // An LCM-LoRA distils the model to LCM's few steps: LCMScheduler over the model's own config (diffusers' recipe).
      warnings.push(`LCM-LoRA ${lcmLora.name}: sampling with LCM (LCMScheduler) instead of the model's own scheduler`
        + (req.steps > 8 || req.cfgScale > 2 ? `; it is made for 4–8 steps and CFG 1–2 (this run: ${req.steps} steps, CFG ${req.cfgScale})` : ''));
      return schedulerFor('lcm', setup.config, req.steps);
    }
    return schedulerFor(req.sampler ?? setup.ownSampler, setup.config, req.steps);
  }

  /** The model's A1111 hash, or undefined (logged) when the files cannot be read. */
  private async hashOf(dir: string): Promise<string | undefined> {
    try {
      return await modelHash(dir);
    } catch (e) {
      this.log('warn', `model hash unavailable: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }

  /** runPipeline, its errors as EngineErrors (a traced UNet that fails at a size its tracing cannot run says so). */
  private async denoise(req: GenerateRequest, info: ModelInfo, input: PipelineInput): Promise<PipelineOutput> {
    try {
      return await runPipeline(input);
    } catch (e) {
      const error = toEngineError(e, 'run');
      const hint = e instanceof ModelError && (e.kind === 'runtime' || e.kind === 'wrong-input') ? tracedSizeHint(info, req.width, req.height) : undefined;
      if (hint !== undefined && error instanceof EngineError) throw new EngineError(error.code, `${error.message}\n(${hint})`, { cause: e });
      throw error;
    }
  }

  private async releaseNow(): Promise<void> {
    const cached = this.cached;
    const preview = this.previewDecoder;
    this.cached = null;
    this.previewDecoder = null;
    if (cached !== null) await cached.model.release();
    if (preview?.decoder) await preview.decoder.release();
  }

  /**
   * The request's VAE decode: "fast" through the folder's TAESD (the full VAE, with a warning, without one), diffusers'
   * tiles when "tiled" or when "auto" finds the untiled decode over the memory budget (decodePlan), else the full VAE.
   */
  private async decodingFor(model: LoadedModel, req: GenerateRequest, warnings: string[]): Promise<Decoding> {
    const setting = req.vaeDecode ?? 'auto';
    const info = model.info;
    if (setting === 'fast') {
      const taesd = await this.taesdFor(model, req);
      if (taesd !== null) {
        this.log('info', `fast decode through the TAESD decoder ${taesd.file}`);
        return { decode: (latents, dims) => taesd.decodeImages(latents, dims), infotext: ['VAE Decoder', 'TAESD'] };
      }
      warnings.push(`fast decode needs a TAESD decoder in the model folder (${info.xl === undefined ? 'taesd' : 'taesdxl'}/vae_decoder/model.onnx): `
        + 'the full VAE decoded the image');
    }
    const tileSample = info.vaeSampleSize ?? info.sampleSize * info.vaeScaleFactor;
    if (decodePlan(setting, req.width, req.height, info.vaeScaleFactor, tileSample, totalmem()) === 'full') return {};
    const tiling = { tileSample, tileLatent: Math.floor(tileSample / info.vaeScaleFactor) };
    this.log('info', `VAE decode in diffusers' tiles of ${tileSample}×${tileSample} pixels (${setting === 'auto' ? 'the untiled decode would pass the memory budget' : 'asked for'})`);
    return { decode: (latents, dims) => model.decodeLatents(latents, dims, { tiling }) };
  }

  /** The TAESD decoder of the model folder (or INLINE_DIFFUSION_PREVIEW_DECODER), loaded once per model; null: none. */
  private async taesdFor(model: LoadedModel, req: GenerateRequest): Promise<PreviewDecoder | null> {
    const file = model.info.latentChannels === 4 ? findPreviewDecoder(model.info.dir, process.env, model.info.xl !== undefined) : undefined;
    const key = JSON.stringify([file, req.executionProvider, req.threads]);
    if (this.previewDecoder?.key !== key) {
      if (this.previewDecoder?.decoder) await this.previewDecoder.decoder.release();
      let decoder: PreviewDecoder | null = null;
      if (file !== undefined) {
        try {
          decoder = await PreviewDecoder.load(file, { executionProvider: req.executionProvider, threads: req.threads ?? undefined });
          this.log('info', `TAESD decoder ${file} loaded`);
        } catch (e) {
          this.log('warn', `TAESD decoder ${file} could not be loaded (previews stay linear, no fast decode): ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      this.previewDecoder = { key, decoder };
    }
    return this.previewDecoder.decoder;
  }

  /** TAESD previews when the model folder (or INLINE_DIFFUSION_PREVIEW_DECODER) has a decoder, else the linear ones. */
  private async previewerFor(model: LoadedModel, req: GenerateRequest): Promise<(latents: Float32Array, dims: readonly number[]) => RgbImage[] | Promise<RgbImage[]>> {
    const linear = makePreviewer(model.info.previewFactors);
    const decoder = await this.taesdFor(model, req);
    if (decoder === null) return linear;
    return async (latents, dims) => {
      try {
        return await decoder.decode(latents, dims);
      } catch (e) {
        this.log('warn', `preview decoder failed, this preview is linear: ${e instanceof Error ? e.message : String(e)}`);
        return linear(latents, dims);
      }
    };
  }

  /** The request's `<lora:…>` tags resolved in its LoRA folder (A1111 reads them from the prompt only). */
  private lorasOf(req: GenerateRequest, warnings: string[]): LoraRequest[] {
    if (Object.hasOwn(this.extraNetworks, 'lora')) return [];
    const tags = extractExtraNetworks(req.prompt).networks.get('lora') ?? [];
    if (tags.length === 0) return [];
    const resolved = resolveLoraTags(tags, req.loraDir ?? undefined, listFolder(req.loraDir ?? undefined, LORA_EXTENSIONS));
    warnings.push(...resolved.warnings);
    return resolved.loras;
  }

  /**
   * The LoRAs and embeddings applied to the model's weights (patched copies from the cache, or written to it);
   * undefined when there are none. A set that cannot be applied at all is warned about and the base model runs.
   */
  private async networksFor(info: ModelInfo, loras: readonly LoraRequest[], embeddings: readonly LibraryEntry[],
      warnings: string[], eosId2?: number, sourceFiles?: Partial<Record<Component, string>>): Promise<AppliedNetworks | undefined> {
    if (loras.length === 0 && embeddings.length === 0) return undefined;
    try {
      const applied = await applyNetworks({
        modelDir: info.dir, xl: info.xl !== undefined, layersPerBlock: layersPerBlockOf(info.dir), loras, embeddings,
        cacheDir: this.networkCache.dir, cacheLimitBytes: this.networkCache.limitBytes, log: (m) => this.log('info', m),
        ...(eosId2 === undefined ? {} : { eosId2 }),
        ...(sourceFiles === undefined ? {} : { sourceFiles }),
      });
      warnings.push(...applied.warnings);
      for (const note of applied.notes) this.log('info', note);
      if (applied.key !== '') {
        const t = applied.timingsMs;
        this.log('info', `networks: files read in ${t.read.toFixed(0)} ms; patched model ${t.cacheHit ? 'found in the cache' : 'written'} in ${t.patch.toFixed(0)} ms`);
      }
      return applied;
    } catch (e) {
      warnings.push(`LoRAs/embeddings could not be applied, the model runs without them: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }

  /**
   * An fp16 model that will run on the CPU: its components' fp32 copies (from the cache, or made now), which the CPU
   * runs faster and in less memory (fp32Copy.ts); undefined for fp32 models and other providers. A component whose
   * copy cannot be made loads as it is (its warning says why, and the fp16 warning follows).
   */
  private async fp32CopiesFor(info: ModelInfo, req: GenerateRequest, warnings: string[]): Promise<{ files: Fp32Files; note: string } | undefined> {
    const cache = this.fp32Cache;
    if (cache === undefined || !wantsFp32Copy((await sessionProvider(req.executionProvider)) ?? 'cpu')) return undefined;
    const parts: Array<[keyof Fp32Files, string]> = [['unet', COMPONENT_FILES.unet], ['text_encoder', COMPONENT_FILES.textEncoder],
      ['vae_decoder', COMPONENT_FILES.vaeDecoder]];
    if (info.xl !== undefined) parts.push(['text_encoder_2', COMPONENT_FILES.textEncoder2]);
    if (info.hasVaeEncoder) parts.push(['vae_encoder', COMPONENT_FILES.vaeEncoder]);
    const files: Record<string, string> = {};
    let bytes = 0;
    let built = 0;
    let ms = 0;
    for (const [component, rel] of parts) {
      const source = join(info.dir, rel);
      try {
        const copy = await fp32CopyOf({ source, cacheDir: cache.dir, cacheLimitBytes: cache.limitBytes, log: (m) => this.log('info', m) });
        if (copy.kind !== 'copy') continue;
        files[component] = copy.file;
        bytes += copy.bytes;
        ms += copy.ms;
        if (copy.built) built++;
      } catch (e) {
        warnings.push(`no fp32 copy of ${source} could be made for the CPU (${e instanceof Error ? e.message : String(e)}); it runs in fp16`);
      }
    }
    if (Object.keys(files).length === 0) return undefined;
    const note = fp32CopyNote(Object.keys(files), cache.dir, bytes, built > 0 ? ms : undefined);
    this.log('info', note);
    return { files, note };
  }

  private async tokenizerFor(dir: string): Promise<ClipTokenizer> {
    let tokenizer = this.tokenizers.get(dir);
    if (tokenizer === undefined) {
      tokenizer = await ClipTokenizer.fromFolder(dir);
      this.tokenizers.set(dir, tokenizer);
    }
    return tokenizer;
  }

  /** The loaded model for this folder, provider and threads, loading it (and releasing another) when needed. */
  private async modelFor(info: ModelInfo, req: GenerateRequest, networks: AppliedNetworks | undefined,
      fp32Files?: Fp32Files): Promise<LoadedModel> {
    const componentFiles = { ...fp32Files, ...networks?.files };
    const key = JSON.stringify([info.dir, req.executionProvider, req.threads, networks?.key ?? '', componentFiles]);
    if (this.cached?.key === key) return this.cached.model;
    await this.releaseNow();
    this.log('info', `loading ${info.dir} (execution provider ${req.executionProvider}, threads ${req.threads ?? 'default'})`);
    try {
      const model = await loadModel(info, {
        executionProvider: req.executionProvider,
        threads: req.threads ?? undefined,
        log: (message) => this.log('info', message),
        componentFiles,
      });
      this.cached = { key, model };
      return model;
    } catch (e) {
      throw toEngineError(e, 'load');
    }
  }
}
