/**
 * Helpers shared by the σ-parameterised (k-diffusion style) schedulers: Euler, Euler a, Heun, LMS, DPM-Solver and
 * UniPC. Timestep grids, σ schedules (interpolated, Karras, exponential, Lu λ), σ→t, and the step-index bookkeeping,
 * each reproducing diffusers' numpy-double / torch-float32 arithmetic (`f32` where diffusers holds float32).
 * The DDPM-family basics (betas, ᾱ, Karras formula, interp, rounding) come from `common.ts`.
 */
import {
  alphasCumprodFrom, betasForSchedule, checkInferenceSteps, checkSameLength, f32, getSigmasKarras,
  indexForTimestep, interp, numpyArange, numpyLinspace, readBaseConfig, readBool, roundHalfEven, sigmasFromAlphasCumprod,
  spacedTimesteps, torchLinspaceF32, type BaseConfig, type PredictionType, type RawConfig, type TimestepSpacing,
} from './common';

/** The DDPM-family keys the σ samplers read (the rest of BaseConfig does not apply to them). */
export type SigmaBaseConfig = Pick<
  BaseConfig,
  | 'numTrainTimesteps' | 'betaStart' | 'betaEnd' | 'betaSchedule' | 'trainedBetas' | 'predictionType'
  | 'timestepSpacing' | 'stepsOffset' | 'rescaleBetasZeroSnr'
>;

/** Reads the shared keys of a class's complete config (withClassDefaults). */
export function readSigmaBaseConfig(config: RawConfig): SigmaBaseConfig {
  const c = readBaseConfig(config);
  return {
    numTrainTimesteps: c.numTrainTimesteps, betaStart: c.betaStart, betaEnd: c.betaEnd, betaSchedule: c.betaSchedule,
    trainedBetas: c.trainedBetas, predictionType: c.predictionType, timestepSpacing: c.timestepSpacing,
    stepsOffset: c.stepsOffset, rescaleBetasZeroSnr: c.rescaleBetasZeroSnr,
  };
}

/** Training ᾱ (float32); with zero-terminal-SNR rescaling the last is set to 2⁻²⁴ so σ stays finite, as diffusers. */
export function trainAlphasCumprod(config: SigmaBaseConfig): Float32Array {
  const alphasCumprod = alphasCumprodFrom(betasForSchedule(config));
  if (config.rescaleBetasZeroSnr) alphasCumprod[alphasCumprod.length - 1] = 2 ** -24;
  return alphasCumprod;
}

/** Training σₜ = √((1−ᾱₜ)/ᾱₜ) (float32, ascending with t). */
export function trainSigmas(config: SigmaBaseConfig): Float32Array {
  return sigmasFromAlphasCumprod(trainAlphasCumprod(config));
}

/** Which σ grid replaces the interpolated one (diffusers' `use_karras_sigmas` / `use_exponential_sigmas`). */
export type SigmaSchedule = 'interpolated' | 'karras' | 'exponential';

/** Reads `use_karras_sigmas`, `use_exponential_sigmas` and `use_beta_sigmas` (at most one may be true). */
export function readSigmaSchedule(config: RawConfig): SigmaSchedule {
  const karras = readBool(config, 'use_karras_sigmas');
  const exponential = readBool(config, 'use_exponential_sigmas');
  const beta = readBool(config, 'use_beta_sigmas');
  if (Number(karras) + Number(exponential) + Number(beta) > 1) {
    throw new Error('Only one of use_karras_sigmas, use_exponential_sigmas, use_beta_sigmas can be true');
  }
  if (beta) {
    throw new Error('use_beta_sigmas is not supported (it needs scipy.stats.beta.ppf); use use_karras_sigmas or use_exponential_sigmas');
  }
  return karras ? 'karras' : exponential ? 'exponential' : 'interpolated';
}

/**
 * Timesteps of the Euler/Heun/LMS family (diffusers `set_timesteps`, float32, descending):
 * linspace = np.linspace(0, T−1, n); leading = i·(T // n) + steps_offset; trailing = round(arange(T, 0, −T/n)) − 1.
 */
export function discreteTimesteps(spacing: TimestepSpacing, numTrain: number, n: number, stepsOffset: number): number[] {
  checkInferenceSteps(n, numTrain);
  if (spacing === 'linspace') return numpyLinspace(0, numTrain - 1, n).map(f32).reverse();
  return spacedTimesteps(spacing, numTrain, n, stepsOffset).map(f32);
}

/**
 * Integer timesteps of the multistep solvers (DPM-Solver, UniPC), descending: linspace = round(linspace(0, last−1,
 * n+1)) without its 0; leading = i·(last // (n+1)) + steps_offset for i = n…1; trailing = round(arange(last, 0, −T/n)) − 1.
 */
export function multistepTimesteps(
  spacing: TimestepSpacing, numTrain: number, lastTimestep: number, n: number, stepsOffset: number,
): number[] {
  checkInferenceSteps(n, numTrain);
  if (spacing === 'linspace') return numpyLinspace(0, lastTimestep - 1, n + 1).map(roundHalfEven).reverse().slice(0, n);
  if (spacing === 'leading') {
    const ratio = Math.floor(lastTimestep / (n + 1));
    return Array.from({ length: n }, (_, i) => (n - i) * ratio + stepsOffset);
  }
  return numpyArange(lastTimestep, 0, -numTrain / n).map((t) => roundHalfEven(t) - 1);
}

/** `np.log` of the float32 σ table: float32 logs, ascending with t. */
export function logSigmasF32(sigmas: Float32Array): Float32Array {
  return sigmas.map((s) => f32(Math.log(s)));
}

/**
 * diffusers' `_sigma_to_t`: the fractional timestep whose log σ lies at log `sigma`, interpolating linearly in
 * log σ between the two neighbouring training timesteps (clamped to [0, T−1]).
 */
export function sigmaToT(sigma: number, logSigmas: Float32Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let count = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i] >= 0) count++;
  const lowIdx = Math.min(Math.max(count - 1, 0), logSigmas.length - 2);
  const low = logSigmas[lowIdx];
  const high = logSigmas[lowIdx + 1];
  const w = Math.min(Math.max((low - logSigma) / f32(low - high), 0), 1);
  return (1 - w) * lowIdx + w * (lowIdx + 1);
}

/**
 * Replaces a descending σ grid by `n` Karras or exponential σs between its ends (or the configured
 * `sigmaMin`/`sigmaMax`), in double as diffusers' `_convert_to_karras` / `_convert_to_exponential`.
 */
export function convertSigmas(
  schedule: Exclude<SigmaSchedule, 'interpolated'>, inSigmas: ArrayLike<number>, n: number,
  sigmaMin: number | null = null, sigmaMax: number | null = null,
): number[] {
  const lo = sigmaMin ?? inSigmas[inSigmas.length - 1];
  const hi = sigmaMax ?? inSigmas[0];
  if (schedule === 'karras') return getSigmasKarras(n, lo, hi);
  return numpyLinspace(Math.log(hi), Math.log(lo), n).map(Math.exp);
}

/** σ at each timestep by linear interpolation in t over the training σs (`np.interp`), in double. */
export function interpolateSigmas(timesteps: readonly number[], trainSigmas: Float32Array): number[] {
  return interp(timesteps, Array.from(trainSigmas, (_, i) => i), trainSigmas);
}

/** The σ-grid keys of Euler, Euler a, Heun and LMS beyond SigmaBaseConfig (absent: diffusers' default). */
export interface DiscreteSigmaGrid {
  readonly sigmaSchedule?: SigmaSchedule;
  /** Euler's `interpolation_type`: `log_linear` takes n + 1 σs uniform in log σ instead of interpolating. */
  readonly interpolationType?: 'linear' | 'log_linear';
  /** Ends of the Karras/exponential grid (null: the interpolated σs' ends). */
  readonly sigmaMin?: number | null;
  readonly sigmaMax?: number | null;
  readonly finalSigmasType?: 'zero' | 'sigma_min';
}

/**
 * The `set_timesteps` σ schedule of Euler, Euler a, Heun and LMS (diffusers): timesteps by the spacing; σ
 * interpolated at them over the training σs; optionally a Karras or exponential grid of n σs between those σs' ends,
 * its timesteps mapped back through σ→t; then the final σ (0, or σ_min with final_sigmas_type "sigma_min").
 * Returns the σs (float32, the final one included) and the float32 timesteps.
 */
export function discreteSigmaSchedule(
  config: SigmaBaseConfig & DiscreteSigmaGrid, trainSigmas: Float32Array, n: number,
): { sigmas: Float32Array; timesteps: number[] } {
  let timesteps = discreteTimesteps(config.timestepSpacing, config.numTrainTimesteps, n, config.stepsOffset);
  // 1. σ at each timestep
  let sigmas = config.interpolationType === 'log_linear'
    ? logLinearSigmas(trainSigmas, n + 1)
    : interpolateSigmas(timesteps, trainSigmas);
  // 2. a Karras / exponential grid instead, with fractional timesteps
  const schedule = config.sigmaSchedule ?? 'interpolated';
  if (schedule !== 'interpolated') {
    const logSigmas = logSigmasF32(trainSigmas);
    sigmas = convertSigmas(schedule, sigmas, n, config.sigmaMin ?? null, config.sigmaMax ?? null);
    timesteps = sigmas.map((s) => sigmaToT(s, logSigmas));
  }
  // 3. the final σ
  const sigmaLast = config.finalSigmasType === 'sigma_min' ? trainSigmas[0] : 0;
  return { sigmas: Float32Array.from([...sigmas, sigmaLast]), timesteps: timesteps.map(f32) };
}

/**
 * Euler's log-linear σs, diffusers' `torch.linspace(log σ_max, log σ_min, count).exp()`: `count` σs (n + 1 of them
 * there, before the final σ is appended), float32 logs and float32 σs.
 */
function logLinearSigmas(trainSigmas: Float32Array, count: number): number[] {
  const logSigmaMax = f32(Math.log(trainSigmas[trainSigmas.length - 1]));
  const logSigmaMin = f32(Math.log(trainSigmas[0]));
  return Array.from(torchLinspaceF32(logSigmaMax, logSigmaMin, count).map((v) => Math.exp(v)));
}

/** √(σ² + 1) in float32, the input scale of the σ-parameterised samplers. */
export function inputScale(sigma: number): number {
  return f32(Math.sqrt(f32(f32(sigma * sigma) + 1)));
}

/** The k-diffusion model input x/√(σ²+1) (diffusers `scale_model_input`). */
export function scaleBySigma(sample: Float32Array, sigma: number): Float32Array {
  const scale = inputScale(sigma);
  return sample.map((x) => x / scale);
}

/**
 * x̂₀ from the model output at noise level σ (Karras et al. 2022 preconditioning): epsilon x − σ̂·ε;
 * v_prediction −σ/√(σ²+1)·v + x/(σ²+1); sample: the output itself. `sigmaHat` is σ̂ (Euler's churned σ), float32.
 */
export function denoise(
  predictionType: PredictionType, modelOutput: Float32Array, sample: Float32Array, sigma: number, sigmaHat = sigma,
): Float32Array {
  checkSameLength(sample, modelOutput, 'modelOutput');
  if (predictionType === 'sample') return modelOutput.slice();
  if (predictionType === 'epsilon') return sample.map((x, i) => x - f32(sigmaHat * modelOutput[i]));
  const cOut = f32(-sigma / inputScale(sigma));
  const cSkipDen = f32(f32(sigma * sigma) + 1);
  return sample.map((x, i) => f32(modelOutput[i] * cOut) + f32(x / cSkipDen));
}

/** The variance-exploding forward process x₀ + σ·ε (diffusers' Euler-family `add_noise`). */
export function addNoiseWithSigma(original: Float32Array, noise: Float32Array, sigma: number): Float32Array {
  checkSameLength(original, noise, 'noise');
  const s = f32(sigma);
  return original.map((x, i) => x + f32(noise[i] * s));
}

/** diffusers' `init_noise_sigma` for σ samplers: max σ, or √(max σ² + 1) with `leading` spacing. */
export function initNoiseSigmaFor(sigmas: Float32Array, spacing: TimestepSpacing): number {
  let max = 0;
  for (const s of sigmas) if (s > max) max = s;
  return spacing === 'leading' ? inputScale(max) : max;
}

/** α and σ of the VP process at VE noise level σ: αₜ = 1/√(σ²+1), σₜ = σ·αₜ (float32). */
export function alphaSigmaFromSigma(sigma: number): { alphaT: number; sigmaT: number } {
  const alphaT = f32(1 / inputScale(sigma));
  return { alphaT, sigmaT: f32(sigma * alphaT) };
}

/** λ = log αₜ − log σₜ, the half log-SNR (float32). */
export function lambdaOf(alphaT: number, sigmaT: number): number {
  return f32(f32(Math.log(alphaT)) - f32(Math.log(sigmaT)));
}

/** α, σ and λ of the VP process at VE noise level σ (float32). */
export interface Level {
  readonly alpha: number;
  readonly sigma: number;
  readonly lambda: number;
}

export function levelOf(sigma: number): Level {
  const { alphaT, sigmaT } = alphaSigmaFromSigma(sigma);
  return { alpha: alphaT, sigma: sigmaT, lambda: lambdaOf(alphaT, sigmaT) };
}

/**
 * diffusers' step-index bookkeeping: the index starts at `begin` when set, else at the position of the first
 * timestep seen (second occurrence when repeated, so a loop may start mid-schedule), and advances once per step.
 */
export class StepIndex {
  current: number | null = null;
  begin: number | null = null;

  constructor(private readonly fallbackToLast = false) {}

  /** Forget the position (after setTimesteps). */
  reset(): void {
    this.current = null;
    this.begin = null;
  }

  /** The index for `timestep`, initialising it on first use. */
  at(timesteps: readonly number[], timestep: number): number {
    if (this.current === null) {
      this.current = this.begin ?? indexForTimestep(timesteps, timestep, this.fallbackToLast);
    }
    return this.current;
  }

  /** The index add_noise uses: lookup unless a begin index was set. */
  forNoise(timesteps: readonly number[], timestep: number): number {
    if (this.begin === null) return indexForTimestep(timesteps, timestep, this.fallbackToLast);
    return this.current ?? this.begin;
  }
}

/** Throws unless `setTimesteps` has run. */
export function requireTimesteps(timesteps: readonly number[], name: string): void {
  if (timesteps.length === 0) throw new Error(`${name}: call setTimesteps(numInferenceSteps) before stepping`);
}

/** exp(lerp(log a, log b, ½)) in float32 as torch computes it (weight ½ takes lerp's b − (b − a)·½ branch): DPM2's σ_mid. */
export function logMidpoint(a: number, b: number): number {
  const la = f32(Math.log(a));
  const lb = f32(Math.log(b));
  return f32(Math.exp(f32(lb - f32(f32(lb - la) * 0.5))));
}

/** [a₀, a₁, a₁, …, aₙ, aₙ, aₙ]: diffusers' cat([a[:1], a[1:].repeat_interleave(2), a[-1:]]) (the two-stage samplers' grids). */
export function doubled(a: Float32Array): Float32Array {
  return Float32Array.from([a[0], ...Array.from(a.subarray(1)).flatMap((v) => [v, v]), a[a.length - 1]]);
}
