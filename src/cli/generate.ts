/**
 * `inline-diffusion generate`: builds a GenerateRequest from the command line and the model's own defaults,
 * checks everything before any model is loaded, runs the engine in-process and writes the PNGs.
 */
import { accessSync, constants, existsSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { freemem, totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { GenerateRequest, InpaintSettings, RgbImage } from '../protocol/engineMessages';
import { CLI_WORKER_ENV } from '../protocol/engineEnv';
import { defaultModelDir } from '../engine/model';
import { Engine, EngineError, type GenerateOutput, type GenerateProgress } from '../engine/engine';
import { readModelFolder } from '../engine/model';
import type { ModelInfo } from '../engine/model';
import { imageFileName, uniquePath, writeFileAtomic } from '../engine/image';
import { encodePng, upscaleNearest } from '../engine/image';
import { decodePlan, estimateMemory, judgeMemory, modelWeightsBytes, unetAttentionOf } from '../engine/model';
import { defaultRequest, validateRequest } from '../engine/request';
import type { GenerateArgs } from './args';
import { UsageError } from './args';
import { requestProblemsInFlagWords } from './flagWords';
import { ProgressBar } from './progressBar';
import { isMarkedLcm, listFolder, LORA_EXTENSIONS, resolveLoraTags } from '../engine/networks';
import { extractExtraNetworks } from '../engine/prompt';

/** LCM-LoRA's recommended steps and guidance (diffusers' LCM-LoRA guide: 4 steps, guidance_scale 1). */
export const LCM_LORA_STEPS = 4;
export const LCM_LORA_CFG = 1;

/** The name of an LCM-LoRA (marked by a `.json` beside it) the prompt applies with a UNet weight ≠ 0, if any. */
function lcmLoraIn(prompt: string, loraDir: string | undefined): string | undefined {
  if (loraDir === undefined) return undefined;
  const tags = extractExtraNetworks(prompt).networks.get('lora') ?? [];
  if (tags.length === 0) return undefined;
  return resolveLoraTags(tags, loraDir, listFolder(loraDir, LORA_EXTENSIONS)).loras.find((l) => l.unet !== 0 && isMarkedLcm(l.file))?.name;
}
import { seedsAndSizeRequest } from './seedsAndSizeArgs';
import { hiresSize } from '../common/hires';

export interface CliIo {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly cwd: string;
}

export interface GenerateSummary {
  files: string[];
  seeds: number[];
  sampler: string;
  steps: number;
  cfg: number;
  width: number;
  height: number;
  model: string;
  timingsMs: {
    load: number; textEncoder: number; unet: number; unetSteps: number[]; vae: number; png: number; total: number;
  };
}

/** A random seed in 0…2³²−1. node:crypto is required here, not at the top: loading it costs the CLI ~5 ms of start-up. */
function randomSeed(): number {
  const { randomInt } = require('node:crypto') as typeof import('node:crypto');
  return randomInt(0, 2 ** 32);
}

/** Default img2img strength, as A1111's "Denoising strength". */
export const DEFAULT_STRENGTH = 0.75;

/** Runs the engine's generate for the CLI: in this thread (tests, `releaseAtEnd`) or on a worker (src/cli/engineWorker.ts). */
export type GenerateRunner = (request: GenerateRequest, opts: {
  signal?: AbortSignal; modelInfo: ModelInfo; onProgress: (p: GenerateProgress) => void;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}) => Promise<GenerateOutput>;

/**
 * Runs one generate command; resolves with the summary, throws UsageError / EngineError / Error.
 * `releaseAtEnd` false leaves the sessions to the process's exit (the CLI exits next; freeing them costs ~5 ms).
 * `runnerFor`: where the engine runs for this model (undefined: in this thread); every file is written here, by this thread.
 */
export async function runGenerate(args: GenerateArgs, io: CliIo, signal?: AbortSignal, releaseAtEnd = true,
  runnerFor?: (info: ModelInfo) => GenerateRunner | undefined): Promise<GenerateSummary> {
  const { request, info, warnings } = await buildRequest(args, io.cwd);
  const outputs = planOutputs(args, request, io.cwd);
  if (args.previews !== null) {
    checkPreviewsFree(resolve(io.cwd, args.previews), request);
    mkdirSync(resolve(io.cwd, args.previews), { recursive: true });
  }
  for (const w of warnings) io.stderr.write(`warning: ${w}\n`);

  const showBar = !args.quiet && io.stderr.isTTY === true;
  const bar = new ProgressBar(io.stderr);
  const log = (level: 'info' | 'warn' | 'error', message: string): void => {
    if (level !== 'info') io.stderr.write(`${showBar ? '\n' : ''}${level}: ${message}\n`);
  };
  const runner = runnerFor?.(info);
  const engine = runner === undefined ? new Engine({ log }) : undefined;
  const run: GenerateRunner = runner ?? ((req, opts) => (engine as Engine).generate(req, opts));
  let step = 0;
  let pass = 1;
  try {
    bar.start();
    const output = await run(request, {
      signal,
      log,
      modelInfo: info,
      onProgress: (p) => {
        if ((p.pass ?? 1) !== pass) {
          // hires. fix's second pass: a new bar (its rate and ETA are its own)
          pass = p.pass ?? 1;
          if (showBar) {
            bar.finish();
            io.stderr.write('hires. fix: second pass\n');
            bar.start();
          }
        }
        step = p.step;
        if (showBar) bar.update(p.step, p.totalSteps);
        if (args.previews !== null) {
          const size = pass === 2 && request.hires ? hiresSize(request.width, request.height, request.hires.scale) : request;
          writePreviews(resolve(io.cwd, args.previews), p.step, p.previews, size.width, size.height, request.seed, pass);
        }
      },
    });
    if (showBar && step > 0) bar.finish();
    if (output.fp32Copy !== undefined && !args.quiet) io.stderr.write(`note: ${output.fp32Copy}\n`);
    const files = output.images.map((image, i) => writeOutput(args, outputs[i], image.png));
    return {
      files,
      seeds: output.images.map((im) => im.seed),
      sampler: output.sampler,
      steps: request.steps,
      cfg: request.cfgScale,
      width: output.images[0]?.width ?? request.width,
      height: output.images[0]?.height ?? request.height,
      model: request.modelDir,
      timingsMs: { ...output.timingsMs, unetSteps: [...output.timingsMs.unetSteps] },
    };
  } finally {
    if (showBar && step > 0) bar.finish();
    if (releaseAtEnd) await engine?.release();
  }
}

/**
 * The request from flags + the model's defaults; validated (every problem at once) before anything loads.
 * Also returns the model folder as read, for the engine not to read it again.
 */
export async function buildRequest(args: GenerateArgs, cwd: string): Promise<{ request: GenerateRequest; info: ModelInfo; warnings: string[] }> {
  const warnings: string[] = [];
  const modelDir = args.model !== null ? resolve(cwd, args.model) : defaultModelDir();
  if (!existsSync(modelDir)) {
    if (args.model !== null && HUB_REPO_ID.test(args.model)) {
      throw new UsageError(`--model: there is no folder ${args.model} here; if it is a Hugging Face repo id, download it first with `
        + `\`inline-diffusion download ${args.model}\` (or "Download Model…" in VS Code) and pass the folder it prints`);
    }
    throw new UsageError(`--model: ${modelDir} does not exist`);
  }
  const info = await readModelFolder(modelDir);
  const base = defaultRequest(info);
  if (args.strength !== null && args.initImage === null) throw new UsageError('--strength only applies with --init-image');
  if (args.resizeMode !== null && args.initImage === null) throw new UsageError('--resize-mode only applies with --init-image');
  let initImage: RgbImage | null = null;
  if (args.initImage !== null) {
    const file = resolve(cwd, args.initImage);
    if (!existsSync(file)) throw new UsageError(`--init-image: ${file} does not exist`);
    try {
      // loaded on demand: the PNG/JPEG decoders are only needed for img2img
      const { readImageFile } = await import('../engine/image/imageIo');
      initImage = readImageFile(file);
    } catch (err) {
      throw new UsageError(`--init-image: ${(err as Error).message}`);
    }
  }
  const inpaint = await readInpaintFlags(args, cwd, info, initImage !== null);
  const request = {
    ...base,
    modelDir,
    prompt: args.prompt,
    negativePrompt: args.negativePrompt,
    sampler: args.sampler,
    steps: args.steps ?? base.steps,
    cfgScale: args.cfgScale ?? base.cfgScale,
    seed: args.seed ?? randomSeed(),
    width: args.width ?? base.width,
    height: args.height ?? base.height,
    batchSize: args.batch,
    initImage,
    strength: args.strength ?? DEFAULT_STRENGTH,
    ...(args.resizeMode === null ? {} : { resizeMode: args.resizeMode }),
    ...(inpaint === null ? {} : { inpaint }),
    previews: args.previews !== null,
    rng: args.rng,
    ...(args.clipSkip === null ? {} : { clipSkip: args.clipSkip }),
    ...(args.emphasis === 'original' ? {} : { emphasis: args.emphasis }),
    ...(args.oldPromptEditingTimelines ? { oldPromptEditingTimelines: true } : {}),
    ...(args.vaeDecode === 'auto' ? {} : { vaeDecode: args.vaeDecode }),
    executionProvider: args.provider,
    threads: args.threads,
    ...seedsAndSizeRequest(args.seedsAndSize, () => randomSeed()),
    ...(args.loraDir === null ? {} : { loraDir: resolve(cwd, args.loraDir) }),
    ...(args.embeddingsDir === null ? {} : { embeddingsDir: resolve(cwd, args.embeddingsDir) }),
  };
  for (const flag of ['loraDir', 'embeddingsDir'] as const) {
    const dir = request[flag];
    if (dir !== undefined && dir !== null && !existsSync(dir)) throw new UsageError(`--${flag === 'loraDir' ? 'lora-dir' : 'embeddings-dir'}: ${dir} does not exist`);
  }
  const lcm = lcmLoraIn(args.prompt, request.loraDir ?? undefined);
  if (lcm !== undefined && args.sampler === null && (args.steps === null || args.cfgScale === null)) {
    // LCM-LoRA's recipe (diffusers' LCM-LoRA docs): 4 steps, guidance 1 (one UNet batch) — where the user chose neither.
    if (args.steps === null) request.steps = LCM_LORA_STEPS;
    if (args.cfgScale === null) request.cfgScale = LCM_LORA_CFG;
    warnings.push(`LCM-LoRA ${lcm}: ${request.steps} steps, CFG ${request.cfgScale} (LCM's recommendation; --steps and --cfg choose others)`);
  }
  if (args.seed !== null && args.batch > 1 && !(args.seedsAndSize.variationStrength ?? 0) && args.seed + args.batch - 1 > 2 ** 32 - 1) {
    throw new UsageError(`--seed ${args.seed} with --batch ${args.batch}: the last seed would pass 4294967295`);
  }
  let validated: GenerateRequest;
  try {
    validated = validateRequest(request);
  } catch (err) {
    if (err instanceof EngineError && err.code === 'invalid-request') throw new UsageError(requestProblemsInFlagWords(err.message, args.sampler));
    throw err;
  }
  if (!(validated.variationStrength ?? 0) && validated.seed + validated.batchSize - 1 > 2 ** 32 - 1) {
    throw new UsageError(`--seed ${validated.seed} with --batch ${validated.batchSize}: the last seed would pass 4294967295`);
  }
  const verdict = memoryVerdict(validated, info);
  if (verdict.kind === 'refuse') throw new UsageError(verdict.message);
  if (verdict.kind === 'warn') warnings.push(verdict.message);
  return { request: validated, info, warnings };
}

/** A1111's img2img defaults for the mask settings ("Mask blur" 4, "Only masked padding" 32). */
export const INPAINT_DEFAULTS = { maskBlur: 4, inpaintPadding: 32, maskMode: 'masked', maskedContent: 'original', inpaintArea: 'whole' } as const;

/**
 * --mask and its settings: the mask file read as A1111 reads a mask (an image converted to gray, PIL's "L"), or a
 * usage error naming the flag: settings without --mask, a mask without --init-image, a file that is not an image, an
 * inpainting model without a mask.
 */
async function readInpaintFlags(args: GenerateArgs, cwd: string, info: ModelInfo, hasInit: boolean): Promise<InpaintSettings | null> {
  const settingFlags: Array<[string, unknown]> = [['--mask-blur', args.maskBlur], ['--mask-mode', args.maskMode],
    ['--masked-content', args.maskedContent], ['--inpaint-area', args.inpaintArea], ['--inpaint-padding', args.inpaintPadding]];
  if (args.mask === null) {
    const stray = settingFlags.find(([, v]) => v !== null);
    if (stray !== undefined) throw new UsageError(`${stray[0]} only applies with --mask`);
    if (info.inpainting === true) {
      throw new UsageError(`--model: ${info.name} is an inpainting model (its UNet reads a mask): give --init-image and --mask`);
    }
    return null;
  }
  if (!hasInit) throw new UsageError('--mask needs --init-image (the picture the mask is painted over)');
  const file = resolve(cwd, args.mask);
  if (!existsSync(file)) throw new UsageError(`--mask: ${file} does not exist`);
  let gray: Uint8Array;
  let width: number;
  let height: number;
  try {
    const { readImageFile } = await import('../engine/image/imageIo');
    const { rgbToGray } = await import('../engine/inpaint');
    const image = readImageFile(file);
    ({ width, height } = image);
    gray = rgbToGray(image.rgb);
  } catch (err) {
    throw new UsageError(`--mask: ${(err as Error).message}`);
  }
  return {
    mask: { width, height, gray },
    maskBlur: args.maskBlur ?? INPAINT_DEFAULTS.maskBlur,
    maskMode: args.maskMode ?? INPAINT_DEFAULTS.maskMode,
    maskedContent: args.maskedContent ?? INPAINT_DEFAULTS.maskedContent,
    inpaintArea: args.inpaintArea ?? INPAINT_DEFAULTS.inpaintArea,
    inpaintPadding: args.inpaintPadding ?? INPAINT_DEFAULTS.inpaintPadding,
  };
}

/** "owner/name" as the Hub spells repo ids (a relative folder of that shape that does not exist is likely one). */
const HUB_REPO_ID = /^[A-Za-z0-9][\w.-]{0,95}\/[A-Za-z0-9][\w.-]{0,95}$/;

/** UNet files from this size up (every full-size SD model) run on a worker thread: their steps take seconds. */
export const WORKER_UNET_BYTES = 256 * 2 ** 20;

/**
 * Whether the CLI runs the engine on a worker thread for this model: where one UNet call can block for seconds, so
 * that a second Ctrl+C ends the run at once. Small models (the embedded one: milliseconds a step) stay on the main
 * thread, which starts faster. INLINE_DIFFUSION_CLI_WORKER=1 / 0 forces it either way.
 */
export function wantsWorker(info: ModelInfo, env: NodeJS.ProcessEnv = process.env): boolean {
  const forced = env[CLI_WORKER_ENV];
  if (forced === '1' || forced === '0') return forced === '1';
  return modelWeightsBytes(info.dir, ['unet']) >= WORKER_UNET_BYTES;
}

/** The memory estimate of a validated request against this machine's memory (total and free now). */
function memoryVerdict(request: GenerateRequest, info: ModelInfo): ReturnType<typeof judgeMemory> {
  const components = ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', ...(request.initImage ? ['vae_encoder'] : [])];
  const tileSample = info.vaeSampleSize ?? info.sampleSize * info.vaeScaleFactor;
  const tiled = decodePlan(request.vaeDecode ?? 'auto', request.width, request.height, info.vaeScaleFactor, tileSample, totalmem()) === 'tiled';
  const estimate = estimateMemory(modelWeightsBytes(info.dir, components), {
    width: request.width, height: request.height, batchSize: request.batchSize, guidance: request.cfgScale > 1, vaeScaleFactor: info.vaeScaleFactor,
    ...(tiled ? { tiled: tileSample } : {}),
  }, unetAttentionOf(info.dir));
  return judgeMemory(estimate, totalmem(), freemem(), `${request.width}×${request.height} × ${request.batchSize}`);
}

/** Whether anything (a file, a directory, a dangling symlink) is at `p`. */
function isTaken(p: string): boolean {
  return lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}

/**
 * Writes one image: default names never overwrite (the next free -1, -2…); an explicit --out is written where it
 * says, replacing a file only with --overwrite (refused before the run otherwise, and again if one appeared since).
 */
function writeOutput(args: GenerateArgs, path: string, png: Uint8Array): string {
  try {
    return writeOutputTo(args, path, png);
  } catch (err) {
    // name the file in the message (a failed write(2) carries no path)
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && e.path === undefined) e.path = path;
    throw err;
  }
}

function writeOutputTo(args: GenerateArgs, path: string, png: Uint8Array): string {
  if (args.out === null) {
    for (let attempt = 0; ; attempt++) {
      const target = uniquePath(dirname(path), basename(path), isTaken);
      try {
        writeFileAtomic(target, png, false);
        return target;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 20) throw err;
      }
    }
  }
  try {
    writeFileAtomic(path, png, args.overwrite);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`--out: ${path} appeared during the run; not overwritten (pass --overwrite to replace it)`);
    throw err;
  }
  return path;
}

/**
 * The preview file names a run writes into its --previews folder (steps + 1 covers PLMS's extra UNet call; hires.
 * fix's second pass writes hires-step-….png).
 */
function previewNames(request: GenerateRequest): string[] {
  const names: string[] = [];
  const hiresSteps = request.hires ? (request.hires.steps || request.steps) : 0;
  for (const [pass, steps] of [[1, request.steps], [2, hiresSteps]] as const) {
    for (let step = 1; steps > 0 && step <= steps + 1; step++) {
      for (let i = 0; i < request.batchSize; i++) names.push(previewName(step, request.batchSize, request.seed + i, pass));
    }
  }
  return names;
}

function previewName(step: number, batchSize: number, seed: number, pass = 1): string {
  const s = `${pass === 2 ? 'hires-' : ''}step-${String(step).padStart(3, '0')}`;
  return batchSize === 1 ? `${s}.png` : `${s}-${seed}.png`;
}

/** Refuses the run before it starts when a preview file it would write is already in `dir`. */
function checkPreviewsFree(dir: string, request: GenerateRequest): void {
  const taken = previewNames(request).find((name) => isTaken(join(dir, name)));
  if (taken !== undefined) {
    throw new UsageError(`--previews: ${join(dir, taken)} already exists; previews never overwrite: empty the folder or pick another one`);
  }
}

/** Output paths: --out as given (one image) or <stem>-<seed>.png each; default <prompt-slug>-<seed>.png here. */
export function planOutputs(args: GenerateArgs, request: GenerateRequest, cwd: string): string[] {
  // A varied batch keeps the seed (A1111): its images are told apart by their variation seeds.
  const varied = (request.variationStrength ?? 0) > 0 && request.variationSeed !== undefined;
  const seeds = Array.from({ length: request.batchSize }, (_, i) => request.seed + (varied ? 0 : i));
  const suffix = (i: number): string => (varied ? `-${(request.variationSeed as number) + i}` : '');
  let paths: string[];
  if (args.out === null) {
    paths = seeds.map((seed, i) => join(cwd, imageFileName(request.prompt, seed).replace(/\.png$/, `${suffix(i)}.png`)));
  } else {
    const out = resolve(cwd, args.out);
    if (!out.toLowerCase().endsWith('.png')) throw new UsageError(`--out: expected a .png file name, got '${args.out}'`);
    paths = seeds.length === 1 ? [out] : seeds.map((seed, i) => `${out.slice(0, -4)}-${seed}${suffix(i)}.png`);
    const existing = args.overwrite ? undefined : paths.find(isTaken);
    if (existing !== undefined) throw new UsageError(`--out: ${existing} already exists; pass --overwrite to replace it`);
    // the input files are never written, --overwrite or not
    for (const [flag, input] of [['--init-image', args.initImage], ['--mask', args.mask]] as const) {
      if (input !== null && paths.includes(resolve(cwd, input))) throw new UsageError(`--out: ${resolve(cwd, input)} is the ${flag} file; inputs are never overwritten`);
    }
  }
  const dir = dirname(paths[0]);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--out: the folder ${dir} does not exist`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`--out: the folder ${dir} is not writable`);
  }
  return paths;
}

/** Each preview upscaled (nearest neighbour) to the image's size, as the panel shows it: 8×8 latent pixels → 64×64. */
function writePreviews(dir: string, step: number, previews: readonly RgbImage[], width: number, height: number, seed: number, pass: number): void {
  previews.forEach((p, i) => {
    const big = upscaleNearest(p, width, height);
    writeFileAtomic(join(dir, previewName(step, previews.length, seed + i, pass)), encodePng(big.rgb, big.width, big.height), false);
  });
}

export { EngineError };
