/**
 * `inline-diffusion generate`: builds a GenerateRequest from the command line and the model's own defaults,
 * checks everything before any model is loaded, runs the engine in-process and writes the PNGs.
 */
import { accessSync, constants, existsSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { freemem, totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { GenerateRequest, RgbImage } from '../protocol/engineMessages';
import { defaultModelDir } from '../engine/model';
import { Engine, EngineError } from '../engine/engine';
import { readModelFolder } from '../engine/model';
import type { ModelInfo } from '../engine/model';
import { imageFileName, uniquePath, writeFileAtomic } from '../engine/image';
import { encodePng } from '../engine/image';
import { estimateMemory, judgeMemory, modelWeightsBytes, unetAttentionOf } from '../engine/model';
import { defaultRequest, validateRequest } from '../engine/request';
import type { GenerateArgs } from './args';
import { UsageError } from './args';
import { requestProblemsInFlagWords } from './flagWords';
import { ProgressBar } from './progressBar';
import { seedsAndSizeRequest } from './seedsAndSizeArgs';

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

/**
 * Runs one generate command; resolves with the summary, throws UsageError / EngineError / Error.
 * `releaseAtEnd` false leaves the sessions to the process's exit (the CLI exits next; freeing them costs ~5 ms).
 */
export async function runGenerate(args: GenerateArgs, io: CliIo, signal?: AbortSignal, releaseAtEnd = true): Promise<GenerateSummary> {
  const { request, info, warnings } = await buildRequest(args, io.cwd);
  const outputs = planOutputs(args, request, io.cwd);
  if (args.previews !== null) {
    checkPreviewsFree(resolve(io.cwd, args.previews), request);
    mkdirSync(resolve(io.cwd, args.previews), { recursive: true });
  }
  for (const w of warnings) io.stderr.write(`warning: ${w}\n`);

  const showBar = !args.quiet && io.stderr.isTTY === true;
  const bar = new ProgressBar(io.stderr);
  const engine = new Engine({
    log: (level, message) => {
      if (level !== 'info') io.stderr.write(`${showBar ? '\n' : ''}${level}: ${message}\n`);
    },
  });
  let step = 0;
  let pass = 1;
  try {
    bar.start();
    const output = await engine.generate(request, {
      signal,
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
        if (args.previews !== null) writePreviews(resolve(io.cwd, args.previews), p.step, p.previews, request.seed, pass);
      },
    });
    if (showBar && step > 0) bar.finish();
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
    if (releaseAtEnd) await engine.release();
  }
}

/**
 * The request from flags + the model's defaults; validated (every problem at once) before anything loads.
 * Also returns the model folder as read, for the engine not to read it again.
 */
export async function buildRequest(args: GenerateArgs, cwd: string): Promise<{ request: GenerateRequest; info: ModelInfo; warnings: string[] }> {
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
    previews: args.previews !== null,
    rng: args.rng,
    ...(args.clipSkip === null ? {} : { clipSkip: args.clipSkip }),
    ...(args.emphasis === 'original' ? {} : { emphasis: args.emphasis }),
    ...(args.oldPromptEditingTimelines ? { oldPromptEditingTimelines: true } : {}),
    executionProvider: args.provider,
    threads: args.threads,
    ...seedsAndSizeRequest(args.seedsAndSize, () => randomSeed()),
  };
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
  const warnings: string[] = [];
  const verdict = memoryVerdict(validated, info);
  if (verdict.kind === 'refuse') throw new UsageError(verdict.message);
  if (verdict.kind === 'warn') warnings.push(verdict.message);
  return { request: validated, info, warnings };
}

/** "owner/name" as the Hub spells repo ids (a relative folder of that shape that does not exist is likely one). */
const HUB_REPO_ID = /^[A-Za-z0-9][\w.-]{0,95}\/[A-Za-z0-9][\w.-]{0,95}$/;

/** The memory estimate of a validated request against this machine's memory (total and free now). */
function memoryVerdict(request: GenerateRequest, info: ModelInfo): ReturnType<typeof judgeMemory> {
  const components = ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', ...(request.initImage ? ['vae_encoder'] : [])];
  const estimate = estimateMemory(modelWeightsBytes(info.dir, components), {
    width: request.width, height: request.height, batchSize: request.batchSize, guidance: request.cfgScale > 1, vaeScaleFactor: info.vaeScaleFactor,
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

function writePreviews(dir: string, step: number, previews: readonly RgbImage[], seed: number, pass: number): void {
  previews.forEach((p, i) => {
    writeFileAtomic(join(dir, previewName(step, previews.length, seed + i, pass)), encodePng(p.rgb, p.width, p.height), false);
  });
}

export { EngineError };
