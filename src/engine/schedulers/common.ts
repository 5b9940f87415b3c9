/**
 * Shared scheduler math and config parsing, named as in diffusers and k-diffusion.
 *
 * diffusers keeps its buffers in float32 (`torch.linspace(..., dtype=torch.float32)`, `torch.cumprod`), and where
 * that changes results we do the same: `f32` (Math.fround) after every float32 operation. Functions that mirror
 * numpy's double-precision code (`interp`, `numpyLinspace`, `numpyArange`) stay in double.
 */
import type { Rng } from '../random';
import type { StepOptions } from './types';

export const f32 = Math.fround;

// ---------------------------------------------------------------------------------------------------------------
// Config parsing: scheduler_config.json's snake_case keys; unknown keys ignored; missing or `null` = default.
// ---------------------------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------------------------
// numpy / torch arithmetic, reproduced exactly
// ---------------------------------------------------------------------------------------------------------------

/** numpy's `round` (half to even). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** `np.linspace(start, stop, n)` in double: `i·step + start`, the last value exactly `stop`. */
export function numpyLinspace(start: number, stop: number, n: number): number[] {
  const div = n - 1;
  const delta = stop - start;
  const step = delta / div;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(div > 0 ? (step === 0 ? (i / div) * delta : i * step) + start : i * delta + start);
  if (n > 1) out[n - 1] = stop;
  return out;
}

/** `np.arange(start, stop, step)` for doubles: length ceil((stop−start)/step), values start + i·((start+step)−start). */
export function numpyArange(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  const out: number[] = [];
  for (let i = 0; i < length; i++) out.push(start + i * delta);
  return out;
}

/**
 * `torch.linspace(start, end, steps, dtype=torch.float32)` on the CPU, bit for bit as torch 1.13's AVX2 kernel:
 * the first half counts up from `start`, the second half down from `end`. Each vector of 8 starts from one fused
 * multiply-add (start + step·idx, rounded once) and adds k·step (rounded) to it; the tail after the last pair of
 * vectors is element by element (fused). step·idx is exact in double here, so one rounding reproduces the FMA.
 */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const s = f32(start);
  const e = f32(end);
  const step = f32(f32(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const fused = (idx: number): number => (idx < halfway ? f32(s + step * idx) : f32(e - step * (steps - idx - 1)));
  let i = 0;
  for (; i + 16 <= steps; i += 16) {
    for (let v = i; v < i + 16; v += 8) {
      const base = fused(v);
      for (let k = 0; k < 8; k++) out[v + k] = f32(base + f32(k * step));
    }
  }
  for (; i < steps; i++) out[i] = fused(i);
  return out;
}

/** `torch.cumprod` of a float32 tensor on the CPU: the product accumulates in double, each element stored as float32. */
export function cumprodF32(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  let acc = 1;
  for (let i = 0; i < values.length; i++) {
    acc *= values[i];
    out[i] = acc;
  }
  return out;
}

/** `np.interp(x, xp, fp)` (xp increasing): linear interpolation in double, clamped to fp's ends. */
export function interp(x: ArrayLike<number>, xp: ArrayLike<number>, fp: ArrayLike<number>): number[] {
  const n = xp.length;
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (Number.isNaN(v)) out.push(v);
    else if (v >= xp[n - 1]) out.push(fp[n - 1]);
    else if (v < xp[0]) out.push(fp[0]);
    else {
      let lo = 0;
      let hi = n - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (xp[mid] <= v) lo = mid;
        else hi = mid;
      }
      if (xp[lo] === v) out.push(fp[lo]);
      else {
        const slope = (fp[lo + 1] - fp[lo]) / (xp[lo + 1] - xp[lo]);
        let r = slope * (v - xp[lo]) + fp[lo];
        if (Number.isNaN(r)) r = slope * (v - xp[lo + 1]) + fp[lo + 1];
        out.push(r);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Noise schedules
// ---------------------------------------------------------------------------------------------------------------

/**
 * diffusers' `betas_for_alpha_bar` (Nichol & Dhariwal, "Improved DDPM", cosine schedule):
 * βᵢ = min(1 − ᾱ((i+1)/T)/ᾱ(i/T), maxBeta) with ᾱ(t) = cos((t + 0.008)/1.008 · π/2)², in double, stored as float32.
 */
export function betasForAlphaBar(numDiffusionTimesteps: number, maxBeta = 0.999): Float32Array {
  const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
  const betas = new Float32Array(numDiffusionTimesteps);
  for (let i = 0; i < numDiffusionTimesteps; i++) {
    const t1 = i / numDiffusionTimesteps;
    const t2 = (i + 1) / numDiffusionTimesteps;
    betas[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return betas;
}

/** The training betas (float32, length numTrainTimesteps) a config describes, zero-SNR rescaled when asked. */
export function betasForSchedule(config: BaseConfig): Float32Array {
  let betas: Float32Array;
  if (config.trainedBetas !== null) betas = Float32Array.from(config.trainedBetas);
  else if (config.betaSchedule === 'linear') betas = torchLinspaceF32(config.betaStart, config.betaEnd, config.numTrainTimesteps);
  else if (config.betaSchedule === 'scaled_linear') {
    betas = torchLinspaceF32(Math.sqrt(config.betaStart), Math.sqrt(config.betaEnd), config.numTrainTimesteps);
    for (let i = 0; i < betas.length; i++) betas[i] = f32(betas[i] * betas[i]);
  } else betas = betasForAlphaBar(config.numTrainTimesteps);
  return config.rescaleBetasZeroSnr ? rescaleZeroTerminalSnr(betas) : betas;
}

/** ᾱₜ = ∏ₛ≤ₜ (1 − βₛ), as diffusers' float32 `torch.cumprod(1.0 - betas)`. */
export function alphasCumprodFrom(betas: Float32Array): Float32Array {
  const alphas = new Float32Array(betas.length);
  for (let i = 0; i < betas.length; i++) alphas[i] = f32(1 - betas[i]);
  return cumprodF32(alphas);
}

/**
 * Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed", Algorithm 1: shift and scale
 * √ᾱ so that √ᾱ_T = 0 while √ᾱ₀ is kept, then recover the betas (float32, as diffusers).
 */
export function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const n = betas.length;
  // 1. √ᾱ
  const sqrtAbar = alphasCumprodFrom(betas).map(Math.sqrt);
  const first = sqrtAbar[0];
  const last = sqrtAbar[n - 1];
  // 2. shift so the last is 0, scale so the first is unchanged
  const scale = f32(first / f32(first - last));
  const abar = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const shifted = f32(sqrtAbar[i] - last);
    const scaled = f32(shifted * scale);
    abar[i] = f32(scaled * scaled);
  }
  // 3. undo the cumulative product: αₜ = ᾱₜ / ᾱₜ₋₁, βₜ = 1 − αₜ
  const out = new Float32Array(n);
  out[0] = f32(1 - abar[0]);
  for (let i = 1; i < n; i++) out[i] = f32(1 - f32(abar[i] / abar[i - 1]));
  return out;
}

/** Karras/k-diffusion σₜ = √((1 − ᾱₜ)/ᾱₜ), float32 as diffusers computes it from its alphas_cumprod tensor. */
export function sigmasFromAlphasCumprod(alphasCumprod: Float32Array): Float32Array {
  return alphasCumprod.map((a) => f32(Math.sqrt(f32(f32(1 - a) / a))));
}

/**
 * Karras et al. 2022 (EDM), eq. 5, as k-diffusion's `get_sigmas_karras` / diffusers' `_convert_to_karras`:
 * σᵢ = (σ_max^(1/ρ) + i/(n−1)·(σ_min^(1/ρ) − σ_max^(1/ρ)))^ρ, in double. Returns the n sigmas, descending,
 * WITHOUT k-diffusion's appended 0 (append it yourself where the sampler wants one).
 */
export function getSigmasKarras(n: number, sigmaMin: number, sigmaMax: number, rho = 7): number[] {
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  return numpyLinspace(0, 1, n).map((r) => (maxInvRho + r * (minInvRho - maxInvRho)) ** rho);
}

// ---------------------------------------------------------------------------------------------------------------
// Timesteps
// ---------------------------------------------------------------------------------------------------------------

/**
 * diffusers' `index_for_timestep`: the position of `timestep` in `timesteps`; when it occurs more than once, the
 * second occurrence (so a loop that starts mid-schedule, as img2img does, does not skip a sigma).
 * `fallbackToLast` returns the last index instead of throwing when it is absent (DPM-Solver's behaviour).
 */
export function indexForTimestep(timesteps: ArrayLike<number>, timestep: number, fallbackToLast = false): number {
  let first = -1;
  for (let i = 0; i < timesteps.length; i++) {
    if (timesteps[i] === timestep) {
      if (first >= 0) return i;
      first = i;
    }
  }
  if (first >= 0) return first;
  if (fallbackToLast) return timesteps.length - 1;
  throw new Error(`Timestep ${timestep} is not in the schedule [${Array.from(timesteps).join(', ')}]; call setTimesteps first`);
}

// ---------------------------------------------------------------------------------------------------------------
// Element-wise math (flat batch-major Float32Arrays; scalars are float32 as diffusers' 0-dim tensors)
// ---------------------------------------------------------------------------------------------------------------

/** DDPM forward process q(x_t | x_0): √ᾱₜ·x₀ + √(1−ᾱₜ)·ε, with ᾱₜ a float32 value. */
export function addNoiseWithAlphas(original: Float32Array, noise: Float32Array, alphaProd: number): Float32Array {
  checkSameLength(original, noise, 'noise');
  const a = f32(Math.sqrt(alphaProd));
  const b = f32(Math.sqrt(f32(1 - alphaProd)));
  const out = new Float32Array(original.length);
  for (let i = 0; i < out.length; i++) out[i] = f32(f32(a * original[i]) + f32(b * noise[i]));
  return out;
}

/**
 * x̂₀ from the model output for the three prediction types (DDPM eq. 15; Salimans & Ho 2022 §4 for v):
 * epsilon (x − √(1−ᾱ)·ε)/√ᾱ; sample: the output itself; v_prediction √ᾱ·x − √(1−ᾱ)·v. float32 as diffusers.
 */
export function predictOriginal(
  predictionType: PredictionType, modelOutput: Float32Array, sample: Float32Array, alphaProd: number,
): Float32Array {
  checkSameLength(sample, modelOutput, 'modelOutput');
  const sqrtA = f32(Math.sqrt(alphaProd));
  const sqrtB = f32(Math.sqrt(f32(1 - alphaProd)));
  const out = new Float32Array(sample.length);
  if (predictionType === 'epsilon') {
    for (let i = 0; i < out.length; i++) out[i] = f32(f32(sample[i] - f32(sqrtB * modelOutput[i])) / sqrtA);
  } else if (predictionType === 'sample') out.set(modelOutput);
  else for (let i = 0; i < out.length; i++) out[i] = f32(f32(sqrtA * sample[i]) - f32(sqrtB * modelOutput[i]));
  return out;
}

/** Clamps every element to [−range, range] in place and returns the array. */
export function clampInto(x: Float32Array, range: number): Float32Array {
  const r = f32(range);
  for (let i = 0; i < x.length; i++) x[i] = x[i] < -r ? -r : x[i] > r ? r : x[i];
  return x;
}

/**
 * Saharia et al. 2022 (Imagen), dynamic thresholding: per image, s = clamp(quantile(|x̂₀|, ratio), 1, maxValue),
 * then x̂₀ = clamp(x̂₀, −s, s)/s. `batch` images in x (batch-major). Returns a new array.
 */
export function thresholdSample(x: Float32Array, batch: number, ratio: number, maxValue: number): Float32Array {
  const out = new Float32Array(x.length);
  const n = x.length / batch;
  for (let b = 0; b < batch; b++) {
    const row = x.subarray(b * n, (b + 1) * n);
    const sorted = Float32Array.from(row, Math.abs).sort();
    // torch.quantile: linear interpolation between the two closest ranks, in the sample's dtype
    const pos = f32(f32(ratio) * (n - 1));
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, n - 1);
    const w = f32(pos - lo);
    const a = sorted[lo];
    const e = sorted[hi];
    const q = w < 0.5 ? f32(a + f32(w * f32(e - a))) : f32(e - f32(f32(e - a) * f32(1 - w)));
    const s = f32(Math.min(Math.max(q, 1), maxValue));
    for (let i = 0; i < n; i++) out[b * n + i] = f32(Math.min(Math.max(row[i], -s), s) / s);
  }
  return out;
}

/** k-diffusion `to_d`: the ODE derivative d = (x − x̂₀)/σ. */
export function toD(x: Float32Array, sigma: number, denoised: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f32(x[i] - denoised[i]) / sigma;
  return out;
}

/**
 * k-diffusion `get_ancestral_step`: σ_up = min(σ_to, η·√(σ_to²(σ_from² − σ_to²)/σ_from²)), σ_down = √(σ_to² − σ_up²).
 * `float32` rounds after each operation, as diffusers does on its float32 sigma tensors.
 */
export function getAncestralStep(
  sigmaFrom: number, sigmaTo: number, eta = 1, float32 = false,
): { sigmaDown: number; sigmaUp: number } {
  const r = float32 ? f32 : (v: number): number => v;
  if (eta === 0) return { sigmaDown: sigmaTo, sigmaUp: 0 };
  const from2 = r(sigmaFrom * sigmaFrom);
  const to2 = r(sigmaTo * sigmaTo);
  const sigmaUp = Math.min(sigmaTo, r(eta * r(Math.sqrt(r(r(to2 * r(from2 - to2)) / from2)))));
  const sigmaDown = r(Math.sqrt(r(to2 - r(sigmaUp * sigmaUp))));
  return { sigmaDown, sigmaUp };
}

/**
 * Noise for a batch-major sample of `count` elements: one Rng draws all of it (diffusers' `randn_tensor` with one
 * generator); an array of Rngs gives image i of the batch its own `count / batch` numbers from generator i.
 */
export function drawNoise(generator: Rng | readonly Rng[] | undefined, count: number): Float32Array {
  if (generator === undefined) {
    throw new Error('This scheduler step draws noise: pass opts.generator (an Rng, or one per image)');
  }
  if (!Array.isArray(generator)) return (generator as Rng).randn(count);
  const gens = generator as readonly Rng[];
  if (gens.length === 0 || count % gens.length !== 0) {
    throw new Error(`A generator array needs one Rng per image dividing ${count} elements; got ${gens.length}`);
  }
  const per = count / gens.length;
  const out = new Float32Array(count);
  gens.forEach((g, i) => out.set(g.randn(per), i * per));
  return out;
}

export function checkSameLength(a: Float32Array, b: Float32Array, name: string): void {
  if (a.length !== b.length) throw new Error(`${name} must have the sample's ${a.length} elements; got ${b.length}`);
}

/**
 * The DDIM/DDPM `set_timesteps` grid, descending integers (Lin et al. 2023, Table 2):
 * leading: i·⌊T/n⌋ + stepsOffset; linspace: round(linspace(0, T−1, n)); trailing: round(arange(T, 0, −T/n)) − 1
 * (numpy rounding, half to even).
 */
export function spacedTimesteps(spacing: TimestepSpacing, numTrainTimesteps: number, n: number, stepsOffset: number): number[] {
  if (spacing === 'linspace') return numpyLinspace(0, numTrainTimesteps - 1, n).map(roundHalfEven).reverse();
  if (spacing === 'leading') {
    const stepRatio = Math.floor(numTrainTimesteps / n);
    return Array.from({ length: n }, (_, i) => (n - 1 - i) * stepRatio + stepsOffset);
  }
  return numpyArange(numTrainTimesteps, 0, -numTrainTimesteps / n).map((t) => roundHalfEven(t) - 1);
}

/** ᾱ at an integer training timestep; anything else throws. */
export function alphaAt(alphasCumprod: Float32Array, timestep: number): number {
  if (!Number.isInteger(timestep) || timestep < 0 || timestep >= alphasCumprod.length) {
    throw new Error(`timestep must be an integer in [0, ${alphasCumprod.length - 1}]; got ${timestep}`);
  }
  return alphasCumprod[timestep];
}

/** The batch size for per-image work (thresholding): one per generator when an array is given, else 1. */
export function batchOf(opts: StepOptions, length: number): number {
  const g = opts.generator;
  const batch = Array.isArray(g) ? g.length : 1;
  if (batch < 1 || length % batch !== 0) throw new Error(`A generator array of ${batch} does not divide ${length} elements`);
  return batch;
}
