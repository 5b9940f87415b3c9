/**
 * Heun's 2nd-order sampler, Algorithm 1 of Karras et al. 2022 (k-diffusion `sample_heun`), as diffusers'
 * HeunDiscreteScheduler: each σ interval takes two model calls, so the timesteps after the first appear twice.
 * Symbols: `derivative` d, `prevDerivative` d of the first (Euler) stage, `dt` σᵢ₊₁ − σᵢ.
 */
import { clampInto, f32, readBool, readNumber, toD, withClassDefaults, type RawConfig } from './common';
import { DiscreteSigmaScheduler } from './discreteSigmaScheduler';
import {
  denoise, discreteSigmaSchedule, readSigmaBaseConfig, readSigmaSchedule, type SigmaBaseConfig, type SigmaSchedule,
} from './sigmas';
import type { StepOptions, StepResult } from './types';
import { SCHEDULER_CLASS_DEFAULTS } from './classDefaults';

export interface HeunConfig extends SigmaBaseConfig {
  readonly sigmaSchedule: SigmaSchedule;
  readonly clipSample: boolean;
  readonly clipSampleRange: number;
}

export function readHeunConfig(raw: RawConfig): HeunConfig {
  const c = withClassDefaults(raw, SCHEDULER_CLASS_DEFAULTS.HeunDiscreteScheduler);
  return {
    ...readSigmaBaseConfig(c),
    sigmaSchedule: readSigmaSchedule(c),
    clipSample: readBool(c, 'clip_sample'),
    clipSampleRange: readNumber(c, 'clip_sample_range'),
  };
}

/** The first (Euler) stage's state, kept until the correcting second stage. */
interface FirstStage {
  readonly derivative: Float32Array;
  readonly dt: number;
  readonly sample: Float32Array;
}

export class HeunDiscreteScheduler extends DiscreteSigmaScheduler<HeunConfig> {
  readonly order = 2;
  /** [t₀, t₁, t₁, t₂, t₂, …] after setTimesteps. */
  declare timesteps: number[];
  /** [σ₀, σ₁, σ₁, σ₂, σ₂, …, 0] (float32). */
  declare sigmas: Float32Array;
  private firstStage: FirstStage | null = null;

  constructor(config: RawConfig) {
    super('HeunDiscreteScheduler', readHeunConfig(config));
  }

  /** True when the next step is an interval's first (Euler) stage. */
  get isFirstStage(): boolean {
    return this.firstStage === null;
  }

  setTimesteps(numInferenceSteps: number): void {
    const { sigmas, timesteps } = discreteSigmaSchedule(this.config, this.trainSigmas, numInferenceSteps);
    // 1. double every σ but the first and the last, every timestep but the first
    this.sigmas = Float32Array.from([sigmas[0], ...Array.from(sigmas.subarray(1, sigmas.length - 1)).flatMap((v) => [v, v]), 0]);
    this.timesteps = [timesteps[0], ...timesteps.slice(1).flatMap((v) => [v, v])];
    this.firstStage = null;
    this.index.reset();
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _opts?: StepOptions): StepResult {
    const i = this.stepIndexOf(timestep);
    const first = this.firstStage;
    const sigma = first === null ? this.sigmas[i] : this.sigmas[i - 1];
    const sigmaNext = first === null ? this.sigmas[i + 1] : this.sigmas[i];
    // 1. x̂₀ at the stage's own σ (σᵢ in the first stage, σᵢ₊₁ in the second)
    const sigmaInput = first === null ? sigma : sigmaNext;
    const predOriginalSample = denoise(this.config.predictionType, modelOutput, sample, sigmaInput);
    if (this.config.clipSample) clampInto(predOriginalSample, this.config.clipSampleRange);
    let prevSample: Float32Array;
    if (first === null) {
      // 2. first stage: Euler step x + d·dt with d = (x − x̂₀)/σᵢ; keep d, dt and x for the second stage
      const derivative = toD(sample, sigma, predOriginalSample);
      const dt = f32(sigmaNext - sigma);
      this.firstStage = { derivative, dt, sample };
      prevSample = sample.map((x, k) => x + f32(derivative[k] * dt));
    } else {
      // 3. second stage: restart from the first stage's x with the mean of both derivatives
      const { derivative: d1, dt, sample: x0 } = first;
      const derivative = toD(sample, sigmaNext, predOriginalSample);
      prevSample = x0.map((x, k) => x + f32(f32(f32(d1[k] + derivative[k]) / 2) * dt));
      this.firstStage = null;
    }
    this.index.current = i + 1;
    return { prevSample, predOriginalSample };
  }
}
