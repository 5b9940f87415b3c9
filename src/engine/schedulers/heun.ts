/**
 * Heun's 2nd-order sampler, Algorithm 1 of Karras et al. 2022 (k-diffusion `sample_heun`), as diffusers'
 * HeunDiscreteScheduler: each σ interval takes two model calls, so the timesteps after the first appear twice.
 * Symbols: `derivative` d, `prevDerivative` d of the first (Euler) stage, `dt` σᵢ₊₁ − σᵢ.
 */
import { clampInto, f32, readBool, readNumber, type RawConfig } from './common';
import {
  addNoiseWithSigma, convertSigmas, denoise, discreteTimesteps, initNoiseSigmaFor, interpolateSigmas, logSigmasF32,
  readSigmaBaseConfig, readSigmaSchedule, requireTimesteps, scaleBySigma, sigmaToT, StepIndex, trainSigmas,
  type SigmaBaseConfig, type SigmaSchedule,
} from './sigmas';
import type { Scheduler, StepOptions, StepResult } from './types';

export interface HeunConfig extends SigmaBaseConfig {
  readonly sigmaSchedule: SigmaSchedule;
  readonly clipSample: boolean;
  readonly clipSampleRange: number;
}

export function readHeunConfig(raw: RawConfig): HeunConfig {
  const base = readSigmaBaseConfig(raw, { betaStart: 0.00085, betaEnd: 0.012, timestepSpacing: 'linspace' });
  return {
    ...base,
    rescaleBetasZeroSnr: false, // not a HeunDiscreteScheduler option
    sigmaSchedule: readSigmaSchedule(raw),
    clipSample: readBool(raw, 'clip_sample', false),
    clipSampleRange: readNumber(raw, 'clip_sample_range', 1.0),
  };
}

/** The first (Euler) stage's state, kept until the correcting second stage. */
interface FirstStage {
  readonly derivative: Float32Array;
  readonly dt: number;
  readonly sample: Float32Array;
}

export class HeunDiscreteScheduler implements Scheduler {
  readonly order = 2;
  readonly config: HeunConfig;
  /** [t₀, t₁, t₁, t₂, t₂, …] after setTimesteps. */
  timesteps: number[] = [];
  /** [σ₀, σ₁, σ₁, σ₂, σ₂, …, 0] (float32). */
  sigmas: Float32Array;
  private readonly trainSigmas: Float32Array;
  private readonly index = new StepIndex();
  private firstStage: FirstStage | null = null;

  constructor(config: RawConfig) {
    this.config = readHeunConfig(config);
    this.trainSigmas = trainSigmas(this.config);
    this.sigmas = Float32Array.from([...this.trainSigmas].reverse().concat(0));
  }

  get initNoiseSigma(): number {
    return initNoiseSigmaFor(this.sigmas, this.config.timestepSpacing);
  }

  /** True when the next step is an interval's first (Euler) stage. */
  get isFirstStage(): boolean {
    return this.firstStage === null;
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
    const s = Float32Array.from([...sigmas, 0]);
    // 1. double every σ but the first and the last, every timestep but the first
    this.sigmas = Float32Array.from([s[0], ...Array.from(s.subarray(1, s.length - 1)).flatMap((v) => [v, v]), 0]);
    const t = timesteps.map(f32);
    this.timesteps = [t[0], ...t.slice(1).flatMap((v) => [v, v])];
    this.firstStage = null;
    this.index.reset();
  }

  scaleModelInput(sample: Float32Array, timestep: number): Float32Array {
    requireTimesteps(this.timesteps, 'HeunDiscreteScheduler');
    return scaleBySigma(sample, this.sigmas[this.index.at(this.timesteps, timestep)]);
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _opts?: StepOptions): StepResult {
    requireTimesteps(this.timesteps, 'HeunDiscreteScheduler');
    const i = this.index.at(this.timesteps, timestep);
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
      const derivative = sample.map((x, k) => f32(x - predOriginalSample[k]) / sigma);
      const dt = f32(sigmaNext - sigma);
      this.firstStage = { derivative, dt, sample };
      prevSample = sample.map((x, k) => x + f32(derivative[k] * dt));
    } else {
      // 3. second stage: restart from the first stage's x with the mean of both derivatives
      const { derivative: d1, dt, sample: x0 } = first;
      const derivative = sample.map((x, k) => f32(f32(x - predOriginalSample[k]) / sigmaNext));
      prevSample = x0.map((x, k) => x + f32(f32(f32(d1[k] + derivative[k]) / 2) * dt));
      this.firstStage = null;
    }
    this.index.current = i + 1;
    return { prevSample, predOriginalSample };
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    requireTimesteps(this.timesteps, 'HeunDiscreteScheduler');
    return addNoiseWithSigma(original, noise, this.sigmas[this.index.forNoise(this.timesteps, timestep)]);
  }
}
