/**
 * Bounds on the numbers a model's config files may hold, checked before anything is sized by them: a
 * scheduler_config.json saying `num_train_timesteps: 300000000` made the engine allocate gigabytes for 20 s and
 * abort. Real models use 1000 train timesteps and a UNet sample_size of 128 at most; the bounds leave ample room.
 * One function for every reader (scheduler configs, the UNet and VAE configs), so the limits live in one place.
 */

/** The largest value accepted for each key (for arrays: the largest length). */
export const CONFIG_BOUNDS: Readonly<Record<string, number>> = {
  num_train_timesteps: 100_000,
  trained_betas: 100_000,
  original_inference_steps: 100_000,
  steps_offset: 100_000,
  sample_size: 1024,
};

/** What real models hold, for the message. */
const USUAL: Readonly<Record<string, string>> = {
  num_train_timesteps: 'real models use 1000',
  trained_betas: 'one value per train timestep',
  original_inference_steps: 'LCM models use 50',
  steps_offset: 'real models use 0 or 1',
  sample_size: 'SD 1.x uses 64, SDXL 128',
};

function sizeOf(value: unknown): number | undefined {
  if (Array.isArray(value)) return value.length;
  return typeof value === 'number' ? Math.abs(value) : undefined;
}

/**
 * Throws one line naming the file, the key, its value and the bound when a value of `config` is larger than
 * CONFIG_BOUNDS allows (the types are checked by the readers; only sizes are checked here). `sample_size` may be
 * a number or a [height, width] pair.
 */
export function checkConfigBounds(config: Readonly<Record<string, unknown>>, file: string): void {
  for (const [key, max] of Object.entries(CONFIG_BOUNDS)) {
    const value = config[key];
    if (value === undefined || value === null) continue;
    const sizes = key === 'sample_size' && Array.isArray(value) ? value.map(sizeOf) : [sizeOf(value)];
    for (const size of sizes) {
      if (size === undefined || size <= max) continue;
      const shown = Array.isArray(value) && key !== 'sample_size' ? `${value.length} values` : JSON.stringify(value);
      throw new Error(`${file}: "${key}" is ${shown}; at most ${max} is accepted (${USUAL[key]})`);
    }
  }
}
