/**
 * Linear multistep sampler (k-diffusion `sample_lms`; Karras et al. 2022 cite it as the classic LMS ODE solver),
 * as diffusers' LMSDiscreteScheduler: x ← x + Σⱼ cⱼ·d₍ᵢ₋ⱼ₎, where cⱼ = ∫_{σᵢ}^{σᵢ₊₁} ℓⱼ(τ) dτ integrates the Lagrange
 * basis polynomial through the last `order` σs. diffusers integrates with scipy's adaptive quadrature; the integrand
 * is a polynomial of degree < 4, so Gauss–Legendre with 4 nodes is exact.
 */
import { f32, type RawConfig } from './common';
import {
  addNoiseWithSigma, convertSigmas, denoise, discreteTimesteps, initNoiseSigmaFor, interpolateSigmas, logSigmasF32,
  readSigmaBaseConfig, readSigmaSchedule, requireTimesteps, scaleBySigma, sigmaToT, StepIndex, trainSigmas,
  type SigmaBaseConfig, type SigmaSchedule,
} from './sigmas';
import type { Scheduler, StepOptions, StepResult } from './types';

export interface LmsConfig extends SigmaBaseConfig {
  readonly sigmaSchedule: SigmaSchedule;
}

/** diffusers' default `order` argument of `step`. */
const LMS_ORDER = 4;

export function readLmsConfig(raw: RawConfig): LmsConfig {
  const base = readSigmaBaseConfig(raw, { timestepSpacing: 'linspace' });
  return { ...base, rescaleBetasZeroSnr: false, sigmaSchedule: readSigmaSchedule(raw) };
}

/** 4-point Gauss–Legendre nodes and weights on [−1, 1]: exact for polynomials of degree ≤ 7. */
const GL_NODES = [-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526];
const GL_WEIGHTS = [0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538];

/**
 * cⱼ = ∫_{σ[t]}^{σ[t+1]} Πₖ≠ⱼ (τ − σ[t−k]) / (σ[t−j] − σ[t−k]) dτ, k < order (diffusers `get_lms_coefficient`).
 */
export function lmsCoefficient(sigmas: Float32Array, order: number, t: number, j: number): number {
  const basis = (tau: number): number => {
    let prod = 1;
    for (let k = 0; k < order; k++) {
      if (k !== j) prod *= (tau - sigmas[t - k]) / (sigmas[t - j] - sigmas[t - k]);
    }
    return prod;
  };
  const a = sigmas[t];
  const b = sigmas[t + 1];
  const half = (b - a) / 2;
  const mid = (a + b) / 2;
  let sum = 0;
  for (let n = 0; n < GL_NODES.length; n++) sum += GL_WEIGHTS[n] * basis(mid + half * GL_NODES[n]);
  return sum * half;
}

export class LMSDiscreteScheduler implements Scheduler {
  readonly order = 1;
  readonly config: LmsConfig;
  timesteps: number[] = [];
  /** σ per timestep plus the final 0 (float32). */
  sigmas: Float32Array;
  private readonly trainSigmas: Float32Array;
  private readonly index = new StepIndex();
  /** The last ≤ 4 derivatives, oldest first. */
  private derivatives: Float32Array[] = [];

  constructor(config: RawConfig) {
    this.config = readLmsConfig(config);
    this.trainSigmas = trainSigmas(this.config);
    this.sigmas = Float32Array.from([...this.trainSigmas].reverse().concat(0));
  }

  get initNoiseSigma(): number {
    return initNoiseSigmaFor(this.sigmas, this.config.timestepSpacing);
  }

  /** The index of the first step, for a loop that starts mid-schedule (diffusers `set_begin_index`). */
  setBeginIndex(beginIndex: number): void {
    this.index.begin = beginIndex;
  }

  setTimesteps(numInferenceSteps: number): void {
    const c = this.config;
    let timesteps = discreteTimesteps(c.timestepSpacing, c.numTrainTimesteps, numInferenceSteps, c.stepsOffset);
    let sigmas: number[] = interpolateSigmas(timesteps, this.trainSigmas);
    if (c.sigmaSchedule !== 'interpolated') {
      const logSigmas = logSigmasF32(this.trainSigmas);
      sigmas = convertSigmas(c.sigmaSchedule, sigmas, numInferenceSteps);
      timesteps = sigmas.map((s) => sigmaToT(s, logSigmas));
    }
    this.sigmas = Float32Array.from([...sigmas, 0]);
    this.timesteps = timesteps.map(f32);
    this.derivatives = [];
    this.index.reset();
  }

  scaleModelInput(sample: Float32Array, timestep: number): Float32Array {
    requireTimesteps(this.timesteps, 'LMSDiscreteScheduler');
    return scaleBySigma(sample, this.sigmas[this.index.at(this.timesteps, timestep)]);
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _opts?: StepOptions): StepResult {
    requireTimesteps(this.timesteps, 'LMSDiscreteScheduler');
    const i = this.index.at(this.timesteps, timestep);
    const sigma = this.sigmas[i];
    // 1. x̂₀ and d = (x − x̂₀)/σ, kept in a window of the last 4
    const predOriginalSample = denoise(this.config.predictionType, modelOutput, sample, sigma);
    this.derivatives.push(sample.map((x, k) => f32(x - predOriginalSample[k]) / sigma));
    if (this.derivatives.length > LMS_ORDER) this.derivatives.shift();
    // 2. the Lagrange coefficients of the newest derivatives (the order grows with the step index, as diffusers)
    const order = Math.min(i + 1, LMS_ORDER);
    const terms = Math.min(order, this.derivatives.length);
    const update = new Float32Array(sample.length);
    for (let j = 0; j < terms; j++) {
      const coeff = f32(lmsCoefficient(this.sigmas, order, i, j));
      const d = this.derivatives[this.derivatives.length - 1 - j];
      for (let k = 0; k < update.length; k++) update[k] = j === 0 ? f32(coeff * d[k]) : update[k] + f32(coeff * d[k]);
    }
    // 3. x + Σⱼ cⱼ·dⱼ
    const prevSample = sample.map((x, k) => x + update[k]);
    this.index.current = i + 1;
    return { prevSample, predOriginalSample };
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    requireTimesteps(this.timesteps, 'LMSDiscreteScheduler');
    return addNoiseWithSigma(original, noise, this.sigmas[this.index.forNoise(this.timesteps, timestep)]);
  }
}
