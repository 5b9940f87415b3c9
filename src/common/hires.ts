/**
 * A1111's hires. fix settings as every side names them: the upscalers (the latent ones with the
 * torch.nn.functional.interpolate mode and antialias flag A1111's `shared.latent_upscale_modes` gives them, and the
 * plain pixel resamplers), the limits of its sliders, and the size the second pass runs at.
 */

/** A1111's latent upscalers: F.interpolate(mode, antialias) on the first pass's latents. */
export const LATENT_UPSCALERS = {
  'Latent': { mode: 'bilinear', antialias: false },
  'Latent (antialiased)': { mode: 'bilinear', antialias: true },
  'Latent (bicubic)': { mode: 'bicubic', antialias: false },
  'Latent (bicubic antialiased)': { mode: 'bicubic', antialias: true },
  'Latent (nearest)': { mode: 'nearest', antialias: false },
  'Latent (nearest-exact)': { mode: 'nearest-exact', antialias: false },
} as const;

export type LatentUpscaler = keyof typeof LATENT_UPSCALERS;
export type InterpolateMode = (typeof LATENT_UPSCALERS)[LatentUpscaler]['mode'];

/**
 * A1111's pixel upscalers without a model: "None" and "Lanczos" both resize the decoded image with PIL's LANCZOS;
 * the result is encoded by the VAE again.
 */
export const PIXEL_UPSCALERS = ['None', 'Lanczos'] as const;
export type PixelUpscaler = (typeof PIXEL_UPSCALERS)[number];

export type HiresUpscaler = LatentUpscaler | PixelUpscaler;

/** Every upscaler in the order the panel lists them ("Latent" first, A1111's default). */
export const HIRES_UPSCALERS: readonly HiresUpscaler[] = [...Object.keys(LATENT_UPSCALERS) as LatentUpscaler[], ...PIXEL_UPSCALERS];

export const HIRES_DEFAULTS = { scale: 2, steps: 0, strength: 0.7, upscaler: 'Latent' as HiresUpscaler } as const;

/** A1111's sliders: upscale by 1…4, hires steps 0 (= the first pass's steps) … 150. */
export const HIRES_LIMITS = { scaleMax: 4, stepsMax: 150 } as const;

export function isHiresUpscaler(name: unknown): name is HiresUpscaler {
  return typeof name === 'string' && (HIRES_UPSCALERS as readonly string[]).includes(name);
}

export function isLatentUpscaler(name: HiresUpscaler): name is LatentUpscaler {
  return Object.prototype.hasOwnProperty.call(LATENT_UPSCALERS, name);
}

/**
 * The second pass's size: A1111's int(width · scale) × int(height · scale), rounded down to whole latents (8 px) as
 * the latent upscale (target // 8) and the VAE do.
 */
export function hiresSize(width: number, height: number, scale: number, vaeScaleFactor = 8): { width: number; height: number } {
  const side = (n: number): number => Math.floor(Math.floor(n * scale) / vaeScaleFactor) * vaeScaleFactor;
  return { width: side(width), height: side(height) };
}
