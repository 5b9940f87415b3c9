/**
 * The panel's "Seeds and size" parameters in the host (issue 17): the variation seed (+ random) and strength, and
 * hires. fix — checked when the webview posts them, turned into request fields (image i of a batch count: seed + i
 * and variation seed + i, as A1111), read back from an infotext ("Reuse Parameters"), and a result's "Variations".
 * No `vscode` import.
 */
import type { GenerateRequest } from '../protocol/engineMessages';
import type { HiresParams, PanelParams } from '../protocol/webviewMessages';
import { HIRES_LIMITS, HIRES_UPSCALERS, isHiresUpscaler } from '../common/hires';
import { describeValue, LIMITS } from '../engine/request';

/** The settings a result's Variations uses (inlineDiffusion.variationCount / variationStrength). */
export interface VariationSettings {
  readonly count: number;
  readonly strength: number;
}

export const VARIATION_DEFAULTS: VariationSettings = { count: 4, strength: 0.2 };
export const VARIATION_COUNT_MAX = 16;

function isIntIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** The first problem with the seed-and-size fields of a posted PanelParams ([field, expected]), or undefined. */
export function seedsAndSizeProblem(p: Record<string, unknown>): { field: keyof PanelParams; problem: string } | undefined {
  const fail = (field: keyof PanelParams, label: string, expected: string, value: unknown = p[field]) =>
    ({ field, problem: `${label}: expected ${expected}, got ${describeValue(value)}` });
  if (p.variationSeed !== undefined && !isIntIn(p.variationSeed, 0, LIMITS.seedMax)) {
    return fail('variationSeed', 'Variation seed', `a whole number from 0 to ${LIMITS.seedMax}`);
  }
  if (p.randomVariationSeed !== undefined && typeof p.randomVariationSeed !== 'boolean') {
    return fail('randomVariationSeed', 'Random variation seed', 'true or false');
  }
  const strength = p.variationStrength;
  if (strength !== undefined && (typeof strength !== 'number' || !Number.isFinite(strength) || strength < 0 || strength > 1)) {
    return fail('variationStrength', 'Variation strength', 'a number from 0 to 1');
  }
  if (typeof strength === 'number' && strength > 0 && p.variationSeed === undefined && p.randomVariationSeed !== true) {
    return { field: 'variationSeed', problem: `Variation seed: a variation strength of ${strength} needs a variation seed or "random"` };
  }
  const batch = typeof p.batchCount === 'number' ? p.batchCount : 1;
  if (p.randomVariationSeed !== true && typeof p.variationSeed === 'number' && p.variationSeed + batch - 1 > LIMITS.seedMax) {
    return {
      field: 'variationSeed',
      problem: `Variation seed: image i of a batch uses variation seed + i, so variation seed + batch count − 1 must be at most ${LIMITS.seedMax}; got ${p.variationSeed} with batch count ${batch}`,
    };
  }
  if (p.hires === undefined || p.hires === null) return undefined;
  const h = p.hires;
  if (typeof h !== 'object' || Array.isArray(h)) return fail('hires', 'Hires. fix', 'null or {scale, steps, strength, upscaler}');
  const hr = h as Record<string, unknown>;
  const extra = Object.keys(hr).filter((k) => !['scale', 'steps', 'strength', 'upscaler'].includes(k));
  if (extra.length > 0) return { field: 'hires', problem: `Hires. fix: unknown field "${extra[0]}" (expected only scale, steps, strength, upscaler)` };
  if (typeof hr.scale !== 'number' || !Number.isFinite(hr.scale) || hr.scale <= 1 || hr.scale > HIRES_LIMITS.scaleMax) {
    return fail('hires', 'Hires upscale', `a number above 1 and at most ${HIRES_LIMITS.scaleMax}`, hr.scale);
  }
  if (!isIntIn(hr.steps, 0, HIRES_LIMITS.stepsMax)) return fail('hires', 'Hires steps', `a whole number from 0 to ${HIRES_LIMITS.stepsMax}`, hr.steps);
  if (typeof hr.strength !== 'number' || !Number.isFinite(hr.strength) || hr.strength <= 0 || hr.strength > 1) {
    return fail('hires', 'Hires denoising strength', 'a number above 0 and at most 1', hr.strength);
  }
  if (!isHiresUpscaler(hr.upscaler)) return fail('hires', 'Hires upscaler', `one of ${HIRES_UPSCALERS.join(', ')}`, hr.upscaler);
  return undefined;
}

/** The params with a concrete variation seed (drawn when randomVariationSeed is on and a strength is set). */
export function withConcreteVariationSeed(params: PanelParams, draw: (batchCount: number) => number): PanelParams {
  if (params.randomVariationSeed !== true || !((params.variationStrength ?? 0) > 0)) return params;
  return { ...params, variationSeed: draw(params.batchCount) };
}

/** The request fields of image i of a batch count (nothing for the fields left at their defaults). */
export function seedsAndSizeRequestFields(params: PanelParams, i: number): Partial<GenerateRequest> {
  const strength = params.variationStrength ?? 0;
  return {
    ...(strength > 0 && params.variationSeed !== undefined ? { variationSeed: params.variationSeed + i, variationStrength: strength } : {}),
    ...(params.hires ? { hires: { ...params.hires } } : {}),
  };
}

/**
 * What a result's "Variations" generates: the image's own parameters and seed, new random variation seeds at the
 * configured strength, `count` images. Refused (a sentence) for an image that is itself a variation: A1111's
 * variation seeds do not nest, so its variations would not look like it.
 */
export function variationsOf(params: PanelParams, seed: number, settings: VariationSettings):
    { ok: true; params: PanelParams } | { ok: false; reason: string } {
  if ((params.variationStrength ?? 0) > 0) {
    return {
      ok: false,
      reason: `this image is already a variation (variation seed ${params.variationSeed ?? 'random'} at strength ${params.variationStrength}); `
        + 'variation seeds do not nest (as in A1111): use Reuse Parameters and change its variation seed or strength instead',
    };
  }
  if (params.strength !== undefined || params.inpaint !== undefined || params.maskSettings !== undefined) {
    // the panel sends a strength only with an input image; Reuse Parameters reads one only from an image-to-image PNG
    return {
      ok: false,
      reason: `this image was made from another image (${params.inpaint !== undefined || params.maskSettings !== undefined ? 'inpainting' : 'image to image'}), `
        + 'which its parameters do not hold: use it as the input image (Use as Input, or Vary Image… on its file) and set a variation seed under Extra',
    };
  }
  const count = Math.max(1, Math.min(settings.count, LIMITS.batchMax));
  return {
    ok: true,
    params: {
      ...params, seed, randomSeed: false, batchCount: count,
      randomVariationSeed: true, variationStrength: settings.strength,
    },
  };
}

/** Reads a variation setting value, falling back to the default when it is missing or out of range. */
export function readVariationSettings(get: (key: 'variationCount' | 'variationStrength') => unknown): VariationSettings {
  const count = get('variationCount');
  const strength = get('variationStrength');
  return {
    count: isIntIn(count, 1, VARIATION_COUNT_MAX) ? count : VARIATION_DEFAULTS.count,
    strength: typeof strength === 'number' && Number.isFinite(strength) && strength > 0 && strength <= 1 ? strength : VARIATION_DEFAULTS.strength,
  };
}

/**
 * Reuse Parameters: "Variation seed", "Variation seed strength", and hires. fix as A1111's txt2img paste fields read
 * it — on when "Denoising strength" and one of "Hires upscale" / "Hires upscaler" / "Hires resize-1" are there;
 * "Hires upscale" (default 2), "Hires steps" (default 0), "Hires upscaler" (default "Latent"), "Denoising strength".
 */
export function seedsAndSizeFromInfotext(p: Readonly<Record<string, string>>, next: { -readonly [K in keyof PanelParams]: PanelParams[K] },
    notes: string[]): { hiresRead: boolean } {
  delete next.variationSeed;
  delete next.variationStrength;
  delete next.randomVariationSeed;
  delete next.hires;
  const vSeed = p['Variation seed'];
  const vStrength = p['Variation seed strength'];
  if (vSeed !== undefined || vStrength !== undefined) {
    const seed = vSeed !== undefined && /^\d+$/.test(vSeed.trim()) ? Number(vSeed.trim()) : undefined;
    const strength = vStrength === undefined ? undefined : Number(vStrength);
    if (seed !== undefined && seed <= LIMITS.seedMax && strength !== undefined && Number.isFinite(strength) && strength >= 0 && strength <= 1) {
      next.variationSeed = seed;
      next.variationStrength = strength;
    } else {
      notes.push(`Variation seed "${vSeed ?? ''}" with strength "${vStrength ?? ''}" is not a seed from 0 to ${LIMITS.seedMax} and a strength from 0 to 1; no variation loaded`);
    }
  }
  if (p['Seed resize from-1'] !== undefined) notes.push('"Seed resize from" is not offered by the panel (the CLI has --seed-resize-from); not loaded');
  const denoising = p['Denoising strength'];
  const hiresOn = denoising !== undefined && (p['Hires upscale'] !== undefined || p['Hires upscaler'] !== undefined || p['Hires resize-1'] !== undefined);
  if (!hiresOn) return { hiresRead: false };
  if (p['Hires resize-1'] !== undefined && p['Hires upscale'] === undefined) {
    notes.push(`hires. fix resized to ${p['Hires resize-1']}x${p['Hires resize-2']}: the panel upscales by a factor; hires. fix not loaded`);
    return { hiresRead: true };
  }
  const scale = Number(p['Hires upscale'] ?? '2');
  const steps = p['Hires steps'] === undefined ? 0 : Number(p['Hires steps']);
  const strength = Number(denoising);
  const upscaler = p['Hires upscaler'] ?? 'Latent';
  const hires: HiresParams | undefined = Number.isFinite(scale) && scale > 1 && scale <= HIRES_LIMITS.scaleMax
    && isIntIn(steps, 0, HIRES_LIMITS.stepsMax) && Number.isFinite(strength) && strength > 0 && strength <= 1 && isHiresUpscaler(upscaler)
    ? { scale, steps, strength, upscaler } : undefined;
  if (hires !== undefined) next.hires = hires;
  else {
    notes.push(`hires. fix (upscale "${p['Hires upscale'] ?? ''}", steps "${p['Hires steps'] ?? ''}", upscaler "${upscaler}", denoising `
      + `"${denoising}") is not one the panel offers (upscalers: ${HIRES_UPSCALERS.join(', ')}); not loaded`);
  }
  return { hiresRead: true };
}

/** The parameters of image i of a job (its own seed and variation seed, batch count 1): what its result restores. */
export function imageParams(jobParams: PanelParams, seed: number, index: number): PanelParams {
  const varied = (jobParams.variationStrength ?? 0) > 0 && jobParams.variationSeed !== undefined;
  return {
    ...jobParams, seed, randomSeed: false, batchCount: 1,
    ...(varied ? { variationSeed: (jobParams.variationSeed as number) + index, randomVariationSeed: false } : {}),
  };
}
