/**
 * Euler sampler, Algorithm 2 of Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative
 * Models" (k-diffusion `sample_euler`), as diffusers' EulerDiscreteScheduler. Symbols: `sigma` σᵢ, `sigmaHat` σ̂
 * (σ raised by the churn γ), `derivative` d, `dt` σᵢ₊₁ − σ̂.
 */
import { drawNoise, f32, readEnum, readNumber, torchLinspaceF32, type RawConfig } from './common';
import {
  addNoiseWithSigma, convertSigmas, denoise, discreteTimesteps, initNoiseSigmaFor, interpolateSigmas,
  logSigmasF32, readSigmaBaseConfig, readSigmaSchedule, requireTimesteps, scaleBySigma, sigmaToT, StepIndex,
  trainSigmas, type SigmaBaseConfig, type SigmaSchedule,
} from './sigmas';
import type { Scheduler, StepOptions, StepResult } from './types';

export interface EulerConfig extends SigmaBaseConfig {
  readonly interpolationType: 'linear' | 'log_linear';
  readonly sigmaSchedule: SigmaSchedule;
  /** Ends of the Karras/exponential grid (null: the interpolated σs' ends). */
  readonly sigmaMin: number | null;
  readonly sigmaMax: number | null;
  readonly timestepType: 'discrete' | 'continuous';
  readonly finalSigmasType: 'zero' | 'sigma_min';
}

/** Karras' stochastic churn (diffusers' `step` arguments): γ = min(s_churn/N, √2−1) where s_tmin ≤ σ ≤ s_tmax. */
export interface EulerStepOptions extends StepOptions {
  readonly sChurn?: number;
  readonly sTmin?: number;
  readonly sTmax?: number;
  readonly sNoise?: number;
}

export function readEulerConfig(raw: RawConfig): EulerConfig {
  const nullableNumber = (key: string): number | null => (raw[key] == null ? null : readNumber(raw, key, 0));
  return {
    ...readSigmaBaseConfig(raw, { timestepSpacing: 'linspace' }),
    interpolationType: readEnum(raw, 'interpolation_type', ['linear', 'log_linear'] as const, 'linear'),
    sigmaSchedule: readSigmaSchedule(raw),
    sigmaMin: nullableNumber('sigma_min'),
    sigmaMax: nullableNumber('sigma_max'),
    timestepType: readEnum(raw, 'timestep_type', ['discrete', 'continuous'] as const, 'discrete'),
    finalSigmasType: readEnum(raw, 'final_sigmas_type', ['zero', 'sigma_min'] as const, 'zero'),
  };
}

export class EulerDiscreteScheduler implements Scheduler {
  readonly order = 1;
  readonly config: EulerConfig;
  timesteps: number[] = [];
  /** σ per timestep plus the final σ (float32). */
  sigmas: Float32Array;
  private readonly trainSigmas: Float32Array;
  private readonly index = new StepIndex();

  constructor(config: RawConfig) {
    this.config = readEulerConfig(config);
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
    const logSigmas = logSigmasF32(this.trainSigmas);
    let sigmas: ArrayLike<number>;
    if (c.interpolationType === 'linear') sigmas = interpolateSigmas(timesteps, this.trainSigmas);
    else {
      // diffusers: torch.linspace(log σ_min, log σ_max, n + 1).exp() — n + 1 σs, then the final σ appended
      const lo = f32(Math.log(this.trainSigmas[this.trainSigmas.length - 1]));
      const hi = f32(Math.log(this.trainSigmas[0]));
      sigmas = torchLinspaceF32(lo, hi, numInferenceSteps + 1).map((v) => Math.exp(v));
    }
    if (c.sigmaSchedule !== 'interpolated') {
      sigmas = convertSigmas(c.sigmaSchedule, sigmas, numInferenceSteps, c.sigmaMin, c.sigmaMax);
      timesteps = Array.from(sigmas, (s) => sigmaToT(s, logSigmas));
    }
    const sigmaLast = c.finalSigmasType === 'sigma_min' ? this.trainSigmas[0] : 0;
    this.sigmas = Float32Array.from([...Array.from(sigmas), sigmaLast]);
    this.timesteps = c.timestepType === 'continuous' && c.predictionType === 'v_prediction'
      ? Array.from(this.sigmas.subarray(0, this.sigmas.length - 1), (s) => f32(0.25 * f32(Math.log(s))))
      : timesteps.map(f32);
    this.index.reset();
  }

  scaleModelInput(sample: Float32Array, timestep: number): Float32Array {
    requireTimesteps(this.timesteps, 'EulerDiscreteScheduler');
    return scaleBySigma(sample, this.sigmas[this.index.at(this.timesteps, timestep)]);
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, opts: EulerStepOptions = {}): StepResult {
    requireTimesteps(this.timesteps, 'EulerDiscreteScheduler');
    const i = this.index.at(this.timesteps, timestep);
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
    // 3. Euler step to σᵢ₊₁: x + d·(σᵢ₊₁ − σ̂)
    const dt = f32(this.sigmas[i + 1] - sigmaHat);
    const prevSample = x.map((v, k) => v + f32(f32(f32(v - predOriginalSample[k]) / sigmaHat) * dt));
    this.index.current = i + 1;
    return { prevSample, predOriginalSample };
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    requireTimesteps(this.timesteps, 'EulerDiscreteScheduler');
    return addNoiseWithSigma(original, noise, this.sigmas[this.index.forNoise(this.timesteps, timestep)]);
  }
}
