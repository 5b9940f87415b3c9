/**
 * `inline-diffusion generate`: builds a GenerateRequest from the command line and the model's own defaults,
 * checks everything before any model is loaded, runs the engine in-process and writes the PNGs.
 */
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { GenerateRequest, RgbImage } from '../protocol/engineMessages';
import { defaultModelDir } from '../engine/model';
import { Engine, EngineError } from '../engine/engine';
import { readModelFolder } from '../engine/model';
import type { ModelInfo } from '../engine/model';
import { imageFileName, uniquePath, writeFileAtomic } from '../engine/image';
import { encodePng } from '../engine/image';
import { defaultRequest, validateRequest } from '../engine/request';
import type { GenerateArgs } from './args';
import { UsageError } from './args';
import { ProgressBar } from './progressBar';

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
  const { request, info } = await buildRequest(args, io.cwd);
  const outputs = planOutputs(args, request, io.cwd);
  if (args.previews !== null) mkdirSync(resolve(io.cwd, args.previews), { recursive: true });

  const showBar = !args.quiet && io.stderr.isTTY === true;
  const bar = new ProgressBar(io.stderr);
  const engine = new Engine({
    log: (level, message) => {
      if (level !== 'info') io.stderr.write(`${showBar ? '\n' : ''}${level}: ${message}\n`);
    },
  });
  let step = 0;
  try {
    bar.start();
    const output = await engine.generate(request, {
      signal,
      modelInfo: info,
      onProgress: (p) => {
        step = p.step;
        if (showBar) bar.update(p.step, p.totalSteps);
        if (args.previews !== null) writePreviews(resolve(io.cwd, args.previews), p.step, p.previews, request.seed);
      },
    });
    if (showBar && step > 0) bar.finish();
    const files = output.images.map((image, i) => {
      const target = uniquePath(dirname(outputs[i]), basename(outputs[i]));
      writeFileAtomic(target, image.png, false);
      return target;
    });
    return {
      files,
      seeds: output.images.map((im) => im.seed),
      sampler: output.sampler,
      steps: request.steps,
      cfg: request.cfgScale,
      width: request.width,
      height: request.height,
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
export async function buildRequest(args: GenerateArgs, cwd: string): Promise<{ request: GenerateRequest; info: ModelInfo }> {
  const modelDir = args.model !== null ? resolve(cwd, args.model) : defaultModelDir();
  if (!existsSync(modelDir)) throw new UsageError(`--model: ${modelDir} does not exist`);
  const info = await readModelFolder(modelDir);
  const base = defaultRequest(info);
  if (args.strength !== null && args.initImage === null) throw new UsageError('--strength only applies with --init-image');
  let initImage: RgbImage | null = null;
  if (args.initImage !== null) {
    const file = resolve(cwd, args.initImage);
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
    executionProvider: args.provider,
    threads: args.threads,
  };
  const validated = validateRequest(request);
  if (validated.seed + validated.batchSize - 1 > 2 ** 32 - 1) {
    throw new UsageError(`--seed ${validated.seed} with --batch ${validated.batchSize}: the last seed would pass 4294967295`);
  }
  return { request: validated, info };
}

/** Output paths: --out as given (one image) or <stem>-<seed>.png each; default <prompt-slug>-<seed>.png here. */
export function planOutputs(args: GenerateArgs, request: GenerateRequest, cwd: string): string[] {
  const seeds = Array.from({ length: request.batchSize }, (_, i) => request.seed + i);
  let paths: string[];
  if (args.out === null) {
    paths = seeds.map((seed) => join(cwd, imageFileName(request.prompt, seed)));
  } else {
    const out = resolve(cwd, args.out);
    if (!out.toLowerCase().endsWith('.png')) throw new UsageError(`--out: expected a .png file name, got '${args.out}'`);
    paths = seeds.length === 1 ? [out] : seeds.map((seed) => `${out.slice(0, -4)}-${seed}.png`);
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

function writePreviews(dir: string, step: number, previews: readonly RgbImage[], seed: number): void {
  previews.forEach((p, i) => {
    const name = previews.length === 1 ? `step-${String(step).padStart(3, '0')}.png` : `step-${String(step).padStart(3, '0')}-${seed + i}.png`;
    writeFileAtomic(join(dir, name), encodePng(p.rgb, p.width, p.height));
  });
}

export { EngineError };
