/**
 * Shared scheduler math, named as in diffusers and k-diffusion: noise schedules, timestep grids, element-wise
 * steps. Config parsing (configParsing.ts) and numpy/torch arithmetic (numpyTorch.ts) are re-exported from here,
 * so schedulers import everything shared from './common'.
 *
 * diffusers keeps its buffers in float32 (`torch.linspace(..., dtype=torch.float32)`, `torch.cumprod`), and where
 * that changes results we do the same: `f32` (Math.fround) after every float32 operation. Functions that mirror
 * numpy's double-precision code (`interp`, `numpyLinspace`, `numpyArange`) stay in double.
 */
import type { Rng } from '../random';
import type { StepOptions } from './types';
import type { BaseConfig, NoiseScheduleConfig, PredictionType, TimestepSpacing } from './configParsing';
import { cumprodF32, f32, numpyArange, numpyLinspace, roundHalfEven, torchLinspaceF32 } from './numpyTorch';

export * from './configParsing';
export * from './numpyTorch';

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
export function betasForSchedule(config: NoiseScheduleConfig): Float32Array {
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
    // The store into a Float32Array rounds the quotient as f32() would (a double quotient of float32 values rounds
    // to the float32 quotient): no call for it in a loop that mostly runs before V8 optimizes it.
    for (let i = 0; i < out.length; i++) out[i] = f32(sample[i] - f32(sqrtB * modelOutput[i])) / sqrtA;
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

/**
 * x̂₀ limited as the config asks (diffusers' DDPM-family `step`): dynamically thresholded per image (a new array) when
 * `thresholding`, else clipped to ±clip_sample_range in place when `clip_sample`, else returned as is.
 */
export function clipOrThreshold(x0: Float32Array, config: BaseConfig, opts: StepOptions): Float32Array {
  if (config.thresholding) {
    return thresholdSample(x0, batchOf(opts, x0.length), config.dynamicThresholdingRatio, config.sampleMaxValue);
  }
  return config.clipSample ? clampInto(x0, config.clipSampleRange) : x0;
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
