/**
 * Linear multistep sampler (k-diffusion `sample_lms`; Karras et al. 2022 cite it as the classic LMS ODE solver),
 * as diffusers' LMSDiscreteScheduler: x ← x + Σⱼ cⱼ·d₍ᵢ₋ⱼ₎, where cⱼ = ∫_{σᵢ}^{σᵢ₊₁} ℓⱼ(τ) dτ integrates the Lagrange
 * basis polynomial through the last `order` σs. diffusers integrates with scipy's adaptive quadrature; the integrand
 * is a polynomial of degree < 4, so Gauss–Legendre with 4 nodes is exact.
 */
import { f32, toD, withClassDefaults, type RawConfig } from './common';
import { DiscreteSigmaScheduler } from './discreteSigmaScheduler';
import {
  denoise, discreteSigmaSchedule, readSigmaBaseConfig, readSigmaSchedule, type SigmaBaseConfig, type SigmaSchedule,
} from './sigmas';
import type { StepOptions, StepResult } from './types';
import { SCHEDULER_CLASS_DEFAULTS } from './classDefaults';

export interface LmsConfig extends SigmaBaseConfig {
  readonly sigmaSchedule: SigmaSchedule;
}

/** diffusers' default `order` argument of `step`. */
const LMS_ORDER = 4;

export function readLmsConfig(raw: RawConfig): LmsConfig {
  const c = withClassDefaults(raw, SCHEDULER_CLASS_DEFAULTS.LMSDiscreteScheduler);
  return { ...readSigmaBaseConfig(c), sigmaSchedule: readSigmaSchedule(c) };
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

export class LMSDiscreteScheduler extends DiscreteSigmaScheduler<LmsConfig> {
  readonly order = 1;
  /** The last ≤ 4 derivatives, oldest first. */
  private derivatives: Float32Array[] = [];

  constructor(config: RawConfig) {
    super('LMSDiscreteScheduler', readLmsConfig(config));
  }

  setTimesteps(numInferenceSteps: number): void {
    ({ sigmas: this.sigmas, timesteps: this.timesteps } = discreteSigmaSchedule(this.config, this.trainSigmas, numInferenceSteps));
    this.derivatives = [];
    this.index.reset();
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _opts?: StepOptions): StepResult {
    const i = this.stepIndexOf(timestep);
    const sigma = this.sigmas[i];
    // 1. x̂₀ and d = (x − x̂₀)/σ, kept in a window of the last 4
    const predOriginalSample = denoise(this.config.predictionType, modelOutput, sample, sigma);
    this.derivatives.push(toD(sample, sigma, predOriginalSample));
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
}
