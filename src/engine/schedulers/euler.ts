/**
 * Euler sampler, Algorithm 2 of Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative
 * Models" (k-diffusion `sample_euler`), as diffusers' EulerDiscreteScheduler. Symbols: `sigma` σᵢ, `sigmaHat` σ̂
 * (σ raised by the churn γ), `derivative` d, `dt` σᵢ₊₁ − σ̂.
 */
import { drawNoise, f32, readEnum, readNullableNumber, toD, withClassDefaults, type RawConfig } from './common';
import { DiscreteSigmaScheduler } from './discreteSigmaScheduler';
import {
  denoise, discreteSigmaSchedule, readSigmaBaseConfig, readSigmaSchedule, type DiscreteSigmaGrid, type SigmaBaseConfig,
} from './sigmas';
import type { StepOptions, StepResult } from './types';
import { SCHEDULER_CLASS_DEFAULTS } from './classDefaults';

export interface EulerConfig extends SigmaBaseConfig, Required<DiscreteSigmaGrid> {
  readonly timestepType: 'discrete' | 'continuous';
}

/** Karras' stochastic churn (diffusers' `step` arguments): γ = min(s_churn/N, √2−1) where s_tmin ≤ σ ≤ s_tmax. */
export interface EulerStepOptions extends StepOptions {
  readonly sChurn?: number;
  readonly sTmin?: number;
  readonly sTmax?: number;
  readonly sNoise?: number;
}

export function readEulerConfig(raw: RawConfig): EulerConfig {
  const c = withClassDefaults(raw, SCHEDULER_CLASS_DEFAULTS.EulerDiscreteScheduler);
  return {
    ...readSigmaBaseConfig(c),
    interpolationType: readEnum(c, 'interpolation_type', ['linear', 'log_linear'] as const),
    sigmaSchedule: readSigmaSchedule(c),
    sigmaMin: readNullableNumber(c, 'sigma_min'),
    sigmaMax: readNullableNumber(c, 'sigma_max'),
    timestepType: readEnum(c, 'timestep_type', ['discrete', 'continuous'] as const),
    finalSigmasType: readEnum(c, 'final_sigmas_type', ['zero', 'sigma_min'] as const),
  };
}

export class EulerDiscreteScheduler extends DiscreteSigmaScheduler<EulerConfig> {
  readonly order = 1;

  constructor(config: RawConfig) {
    super('EulerDiscreteScheduler', readEulerConfig(config));
  }

  setTimesteps(numInferenceSteps: number): void {
    const c = this.config;
    const { sigmas, timesteps } = discreteSigmaSchedule(c, this.trainSigmas, numInferenceSteps);
    this.sigmas = sigmas;
    this.timesteps = c.timestepType === 'continuous' && c.predictionType === 'v_prediction'
      ? Array.from(sigmas.subarray(0, sigmas.length - 1), (s) => f32(0.25 * f32(Math.log(s))))
      : timesteps;
    this.index.reset();
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, opts: EulerStepOptions = {}): StepResult {
    const i = this.stepIndexOf(timestep);
    const { sChurn = 0, sTmin = 0, sTmax = Infinity, sNoise = 1 } = opts;
    const sigma = this.sigmas[i];
    // 1. churn: raise σ to σ̂ = σ(1 + γ) by adding fresh noise of variance σ̂² − σ²
    const gamma = sTmin <= sigma && sigma <= sTmax ? Math.min(sChurn / (this.sigmas.length - 1), 2 ** 0.5 - 1) : 0;
    const sigmaHat = f32(sigma * f32(gamma + 1));
    let x = sample;
    if (gamma > 0) {
      const eps = drawNoise(opts.generator, sample.length).map((n) => n * f32(sNoise));
      const std = f32(Math.sqrt(f32(f32(sigmaHat * sigmaHat) - f32(sigma * sigma))));
      x = sample.map((v, k) => v + f32(eps[k] * std));
    }
    // 2. x̂₀ and the ODE derivative d = (x − x̂₀)/σ̂
    const predOriginalSample = denoise(this.config.predictionType, modelOutput, x, sigma, sigmaHat);
    const derivative = toD(x, sigmaHat, predOriginalSample);
    // 3. Euler step to σᵢ₊₁: x + d·(σᵢ₊₁ − σ̂)
    const dt = f32(this.sigmas[i + 1] - sigmaHat);
    const prevSample = x.map((v, k) => v + f32(derivative[k] * dt));
    this.index.current = i + 1;
    return { prevSample, predOriginalSample };
  }
}
