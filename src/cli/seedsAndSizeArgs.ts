/**
 * The CLI's "Seeds and size" flags (issue 17): --variation-seed / --variation-strength (A1111's subseed),
 * --seed-resize-from WxH, and hires. fix (--hires-scale turns it on; --hires-steps, --hires-strength,
 * --hires-upscaler). Parsed to request fields; the engine's validateRequest checks their ranges.
 */
import type { GenerateRequest, HiresRequest } from '../protocol/engineMessages';
import { HIRES_DEFAULTS, HIRES_UPSCALERS, type HiresUpscaler } from '../common/hires';

export const SEEDS_AND_SIZE_FLAGS = {
  'variation-seed': { type: 'string' },
  'variation-strength': { type: 'string' },
  'seed-resize-from': { type: 'string' },
  'hires-scale': { type: 'string' },
  'hires-steps': { type: 'string' },
  'hires-strength': { type: 'string' },
  'hires-upscaler': { type: 'string' },
} as const;

export const SEEDS_AND_SIZE_USAGE = `  --variation-seed N       A1111's variation seed: its noise slerped into the seed's (image i: N + i;
                           default with --variation-strength: random, printed)
  --variation-strength X   how far toward the variation seed's noise, 0…1 (A1111's "Variation strength")
  --seed-resize-from WxH   A1111's "Resize seed from": the seed's noise as made for that size, centred
  --hires-scale X          hires. fix: make the image at the size, upscale by X (above 1, at most 4), then
                           image to image at the larger size
  --hires-steps N          hires. fix's second pass steps (default 0: as many as --steps)
  --hires-strength X       hires. fix's denoising strength, above 0 and at most 1 (default ${HIRES_DEFAULTS.strength})
  --hires-upscaler NAME    ${HIRES_UPSCALERS.map((n) => `"${n}"`).join(', ')} (default "${HIRES_DEFAULTS.upscaler}"; also
                           written as latent-bicubic-antialiased, lanczos, …)`;

/** The request-field names in the flags' words, for validateRequest's messages. */
export const SEEDS_AND_SIZE_FLAG_WORDS: Readonly<Record<string, string>> = {
  variationSeed: '--variation-seed', variationStrength: '--variation-strength', seedResizeFrom: '--seed-resize-from',
  hires: '--hires-scale', 'hires.scale': '--hires-scale', 'hires.steps': '--hires-steps', 'hires.strength': '--hires-strength',
  'hires.upscaler': '--hires-upscaler',
};

export interface SeedsAndSizeArgs {
  readonly variationSeed: number | null;
  readonly variationStrength: number | null;
  readonly seedResizeFrom: { readonly width: number; readonly height: number } | null;
  readonly hires: HiresRequest | null;
}

type Read = (flag: keyof typeof SEEDS_AND_SIZE_FLAGS) => string | null;
type Fail = (message: string) => Error;

/** An upscaler by its A1111 name (any case) or its id ("latent-bicubic-antialiased", "lanczos"). */
export function hiresUpscalerFromFlag(raw: string): HiresUpscaler | undefined {
  const key = raw.trim().toLowerCase();
  const id = (name: string): string => name.toLowerCase().replace(/[()]/g, '').trim().replace(/\s+/g, '-');
  return HIRES_UPSCALERS.find((name) => name.toLowerCase() === key || id(name) === key);
}

export function parseSeedsAndSize(read: Read, fail: Fail): SeedsAndSizeArgs {
  const num = (flag: keyof typeof SEEDS_AND_SIZE_FLAGS, integer: boolean): number | null => {
    const raw = read(flag);
    if (raw === null) return null;
    const ok = integer ? /^\+?\d+$/.test(raw.trim()) : raw.trim() !== '' && Number.isFinite(Number(raw));
    if (!ok) throw fail(`--${flag}: expected ${integer ? 'a non-negative integer' : 'a number'}, got '${raw}'`);
    return Number(raw);
  };
  const variationSeed = num('variation-seed', true);
  const variationStrength = num('variation-strength', false);
  if (variationSeed !== null && variationStrength === null) {
    throw fail('--variation-seed needs --variation-strength (how far toward its noise, 0…1)');
  }
  let seedResizeFrom: SeedsAndSizeArgs['seedResizeFrom'] = null;
  const resize = read('seed-resize-from');
  if (resize !== null) {
    const m = /^(\d+)x(\d+)$/i.exec(resize.trim());
    if (!m) throw fail(`--seed-resize-from: expected WIDTHxHEIGHT in pixels (e.g. 512x768), got '${resize}'`);
    seedResizeFrom = { width: Number(m[1]), height: Number(m[2]) };
  }
  const scale = num('hires-scale', false);
  const steps = num('hires-steps', true);
  const strength = num('hires-strength', false);
  const upscalerRaw = read('hires-upscaler');
  if (scale === null) {
    const stray = (['hires-steps', 'hires-strength', 'hires-upscaler'] as const).find((f) => read(f) !== null);
    if (stray !== undefined) throw fail(`--${stray} needs --hires-scale (hires. fix is on when --hires-scale is given)`);
    return { variationSeed, variationStrength, seedResizeFrom, hires: null };
  }
  let upscaler: HiresUpscaler = HIRES_DEFAULTS.upscaler;
  if (upscalerRaw !== null) {
    const found = hiresUpscalerFromFlag(upscalerRaw);
    if (found === undefined) throw fail(`--hires-upscaler: expected one of ${HIRES_UPSCALERS.map((n) => `"${n}"`).join(', ')}, got '${upscalerRaw}'`);
    upscaler = found;
  }
  return {
    variationSeed, variationStrength, seedResizeFrom,
    hires: { scale, steps: steps ?? HIRES_DEFAULTS.steps, strength: strength ?? HIRES_DEFAULTS.strength, upscaler },
  };
}

/** The request fields of the flags given (a random variation seed drawn when only the strength is). */
export function seedsAndSizeRequest(args: SeedsAndSizeArgs, drawSeed: () => number): Partial<GenerateRequest> {
  return {
    ...(args.variationStrength === null ? {} : { variationSeed: args.variationSeed ?? drawSeed(), variationStrength: args.variationStrength }),
    ...(args.seedResizeFrom === null ? {} : { seedResizeFrom: args.seedResizeFrom }),
    ...(args.hires === null ? {} : { hires: args.hires }),
  };
}
