/**
 * Scheduler config parsing: scheduler_config.json's snake_case keys, over the class's own diffusers defaults
 * (withClassDefaults: unknown keys ignored, a missing key or `null` takes the default), become one readonly camelCase
 * config; a wrong value throws naming what was expected.
 */

export type RawConfig = Readonly<Record<string, unknown>>;

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return value === null ? 'null' : `${typeof value} ${String(value)}`;
}

/**
 * diffusers' defaults of one scheduler class: its `__init__` keyword arguments (None as null), written once, in the
 * class's own file. They are also the keys the class accepts.
 */
export type ClassDefaults = Readonly<Record<string, unknown>>;

/**
 * The config a class is built from: each key it accepts, from `raw` where `raw` has a value (not null), else the
 * class's default; keys it does not accept are dropped (diffusers ignores them). Readers below read only such
 * complete configs, so a missing key is a bug here, not in the file.
 */
export function withClassDefaults(raw: RawConfig, defaults: ClassDefaults): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(defaults)) out[key] = raw[key] ?? value;
  return out;
}

function present(config: RawConfig, key: string): unknown {
  if (!(key in config)) throw new Error(`Scheduler config: no "${key}" (not a key of this class)`);
  return config[key];
}

/** A finite number. */
export function readNumber(config: RawConfig, key: string): number {
  const value = present(config, key);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`Scheduler config "${key}" must be a finite number; got ${describe(value)}`);
  }
  return value;
}

/** A finite number, or `null`. */
export function readNullableNumber(config: RawConfig, key: string): number | null {
  return present(config, key) === null ? null : readNumber(config, key);
}

/** A whole number ≥ `min`. */
export function readInteger(config: RawConfig, key: string, min = 0): number {
  const value = readNumber(config, key);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`Scheduler config "${key}" must be an integer ≥ ${min}; got ${value}`);
  }
  return value;
}

export function readBool(config: RawConfig, key: string): boolean {
  const value = present(config, key);
  if (typeof value !== 'boolean') {
    throw new Error(`Scheduler config "${key}" must be true or false; got ${describe(value)}`);
  }
  return value;
}

/** One of `allowed`; anything else throws and lists the allowed values. */
export function readEnum<T extends string>(config: RawConfig, key: string, allowed: readonly T[]): T {
  const value = present(config, key);
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new Error(
      `Scheduler config "${key}" must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}; got ${describe(value)}`,
    );
  }
  return value as T;
}

/** An array of finite numbers, or `null`. */
export function readNumberArray(config: RawConfig, key: string): number[] | null {
  const value = present(config, key);
  if (value === null) return null;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new Error(`Scheduler config "${key}" must be an array of finite numbers; got ${describe(value)}`);
  }
  return value as number[];
}

export const BETA_SCHEDULES = ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const;
export type BetaSchedule = (typeof BETA_SCHEDULES)[number];
export const PREDICTION_TYPES = ['epsilon', 'v_prediction', 'sample'] as const;
export type PredictionType = (typeof PREDICTION_TYPES)[number];
export const TIMESTEP_SPACINGS = ['leading', 'linspace', 'trailing'] as const;
export type TimestepSpacing = (typeof TIMESTEP_SPACINGS)[number];

/** The keys every DDPM-family scheduler shares, in camelCase, defaults merged. */
export interface BaseConfig {
  readonly numTrainTimesteps: number;
  readonly betaStart: number;
  readonly betaEnd: number;
  readonly betaSchedule: BetaSchedule;
  readonly trainedBetas: readonly number[] | null;
  readonly predictionType: PredictionType;
  readonly timestepSpacing: TimestepSpacing;
  readonly stepsOffset: number;
  readonly rescaleBetasZeroSnr: boolean;
  readonly clipSample: boolean;
  readonly clipSampleRange: number;
  readonly setAlphaToOne: boolean;
  readonly thresholding: boolean;
  readonly dynamicThresholdingRatio: number;
  readonly sampleMaxValue: number;
}

/** The keys that decide the noise schedule (every DDPM-family class has them). */
export type NoiseScheduleConfig = Pick<
  BaseConfig, 'numTrainTimesteps' | 'betaStart' | 'betaEnd' | 'betaSchedule' | 'trainedBetas' | 'rescaleBetasZeroSnr'
>;

/** `read(key)` where the class accepts `key`; else what a class without that option does (`absent`). */
function optional<T>(config: RawConfig, key: string, read: (c: RawConfig, k: string) => T, absent: T): T {
  return key in config ? read(config, key) : absent;
}

/**
 * Reads the shared keys of a class's complete config (withClassDefaults). Options a class lacks (PNDM has no
 * clip_sample, Heun no rescale_betas_zero_snr, …) read as that option switched off.
 */
export function readBaseConfig(config: RawConfig): BaseConfig {
  const trainedBetas = readNumberArray(config, 'trained_betas');
  const numTrainTimesteps = readInteger(config, 'num_train_timesteps', 1);
  if (trainedBetas !== null && trainedBetas.length !== numTrainTimesteps) {
    throw new Error(`trained_betas must have num_train_timesteps (${numTrainTimesteps}) values; got ${trainedBetas.length}`);
  }
  return {
    numTrainTimesteps,
    betaStart: readNumber(config, 'beta_start'),
    betaEnd: readNumber(config, 'beta_end'),
    betaSchedule: readEnum(config, 'beta_schedule', BETA_SCHEDULES),
    trainedBetas,
    predictionType: readEnum(config, 'prediction_type', PREDICTION_TYPES),
    timestepSpacing: readEnum(config, 'timestep_spacing', TIMESTEP_SPACINGS),
    stepsOffset: readInteger(config, 'steps_offset'),
    rescaleBetasZeroSnr: optional(config, 'rescale_betas_zero_snr', readBool, false),
    clipSample: optional(config, 'clip_sample', readBool, false),
    clipSampleRange: optional(config, 'clip_sample_range', readNumber, 1),
    setAlphaToOne: optional(config, 'set_alpha_to_one', readBool, false),
    thresholding: optional(config, 'thresholding', readBool, false),
    dynamicThresholdingRatio: optional(config, 'dynamic_thresholding_ratio', readNumber, 1),
    sampleMaxValue: optional(config, 'sample_max_value', readNumber, 1),
  };
}

/** Throws unless `n` is a whole number of inference steps in [1, numTrainTimesteps]. */
export function checkInferenceSteps(n: number, numTrainTimesteps: number): void {
  if (!Number.isInteger(n) || n < 1 || n > numTrainTimesteps) {
    throw new Error(`numInferenceSteps must be an integer in [1, ${numTrainTimesteps}] (num_train_timesteps); got ${n}`);
  }
}
