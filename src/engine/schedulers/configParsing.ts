/**
 * Scheduler config parsing: scheduler_config.json's snake_case keys become one readonly camelCase config; unknown
 * keys are ignored, a missing key or `null` takes the default, a wrong value throws naming what was expected.
 */

export type RawConfig = Readonly<Record<string, unknown>>;

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return value === null ? 'null' : `${typeof value} ${String(value)}`;
}

/** A finite number (`null`/missing → `fallback`). */
export function readNumber(config: RawConfig, key: string, fallback: number): number {
  const value = config[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`Scheduler config "${key}" must be a finite number; got ${describe(value)}`);
  }
  return value;
}

/** A finite number, or `null` when missing/`null`. */
export function readNullableNumber(config: RawConfig, key: string): number | null {
  return config[key] == null ? null : readNumber(config, key, 0);
}

/** A whole number ≥ `min` (`null`/missing → `fallback`). */
export function readInteger(config: RawConfig, key: string, fallback: number, min = 0): number {
  const value = readNumber(config, key, fallback);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`Scheduler config "${key}" must be an integer ≥ ${min}; got ${value}`);
  }
  return value;
}

export function readBool(config: RawConfig, key: string, fallback: boolean): boolean {
  const value = config[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') {
    throw new Error(`Scheduler config "${key}" must be true or false; got ${describe(value)}`);
  }
  return value;
}

/** One of `allowed` (`null`/missing → `fallback`); anything else throws and lists the allowed values. */
export function readEnum<T extends string>(config: RawConfig, key: string, allowed: readonly T[], fallback: T): T {
  const value = config[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new Error(
      `Scheduler config "${key}" must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}; got ${describe(value)}`,
    );
  }
  return value as T;
}

/** An array of finite numbers, or `null` when missing/`null`. */
export function readNumberArray(config: RawConfig, key: string): number[] | null {
  const value = config[key];
  if (value === undefined || value === null) return null;
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

/** diffusers' common defaults (DDIMScheduler's); each scheduler passes its own differences. */
export const BASE_DEFAULTS: BaseConfig = {
  numTrainTimesteps: 1000,
  betaStart: 0.0001,
  betaEnd: 0.02,
  betaSchedule: 'linear',
  trainedBetas: null,
  predictionType: 'epsilon',
  timestepSpacing: 'leading',
  stepsOffset: 0,
  rescaleBetasZeroSnr: false,
  clipSample: true,
  clipSampleRange: 1.0,
  setAlphaToOne: true,
  thresholding: false,
  dynamicThresholdingRatio: 0.995,
  sampleMaxValue: 1.0,
};

/** Reads the shared keys of a raw scheduler_config.json over `defaults` (BASE_DEFAULTS with a scheduler's own). */
export function readBaseConfig(raw: RawConfig, defaults: Partial<BaseConfig> = {}): BaseConfig {
  const d: BaseConfig = { ...BASE_DEFAULTS, ...defaults };
  const trainedBetas = readNumberArray(raw, 'trained_betas') ?? d.trainedBetas;
  const numTrainTimesteps = readInteger(raw, 'num_train_timesteps', d.numTrainTimesteps, 1);
  if (trainedBetas !== null && trainedBetas.length !== numTrainTimesteps) {
    throw new Error(`trained_betas must have num_train_timesteps (${numTrainTimesteps}) values; got ${trainedBetas.length}`);
  }
  return {
    numTrainTimesteps,
    betaStart: readNumber(raw, 'beta_start', d.betaStart),
    betaEnd: readNumber(raw, 'beta_end', d.betaEnd),
    betaSchedule: readEnum(raw, 'beta_schedule', BETA_SCHEDULES, d.betaSchedule),
    trainedBetas,
    predictionType: readEnum(raw, 'prediction_type', PREDICTION_TYPES, d.predictionType),
    timestepSpacing: readEnum(raw, 'timestep_spacing', TIMESTEP_SPACINGS, d.timestepSpacing),
    stepsOffset: readInteger(raw, 'steps_offset', d.stepsOffset),
    rescaleBetasZeroSnr: readBool(raw, 'rescale_betas_zero_snr', d.rescaleBetasZeroSnr),
    clipSample: readBool(raw, 'clip_sample', d.clipSample),
    clipSampleRange: readNumber(raw, 'clip_sample_range', d.clipSampleRange),
    setAlphaToOne: readBool(raw, 'set_alpha_to_one', d.setAlphaToOne),
    thresholding: readBool(raw, 'thresholding', d.thresholding),
    dynamicThresholdingRatio: readNumber(raw, 'dynamic_thresholding_ratio', d.dynamicThresholdingRatio),
    sampleMaxValue: readNumber(raw, 'sample_max_value', d.sampleMaxValue),
  };
}

/** Throws unless `n` is a whole number of inference steps in [1, numTrainTimesteps]. */
export function checkInferenceSteps(n: number, numTrainTimesteps: number): void {
  if (!Number.isInteger(n) || n < 1 || n > numTrainTimesteps) {
    throw new Error(`numInferenceSteps must be an integer in [1, ${numTrainTimesteps}] (num_train_timesteps); got ${n}`);
  }
}
