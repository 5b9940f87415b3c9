/**
 * DPM-Solver-2 (Lu et al. 2022, "DPM-Solver", Algorithm 1 with k = 2) as k-diffusion's `sample_dpm_2` and diffusers'
 * KDPM2DiscreteScheduler: each σ interval takes an Euler half step to the geometric mean σ_mid = √(σᵢ·σᵢ₊₁) and then a
 * full step with the derivative taken there, so the timesteps after the first come in pairs (σ_mid's, then σᵢ₊₁'s).
 * Symbols: `sigmasInterpol` σ_mid per interval, `derivative` d, `dt` the step in σ.
 */
import { f32, roundHalfEven, toD, withClassDefaults, type RawConfig } from './common';
import { SCHEDULER_CLASS_DEFAULTS } from './classDefaults';
import { DiscreteSigmaScheduler } from './discreteSigmaScheduler';
import {
  denoise, discreteSigmaSchedule, doubled, logMidpoint, logSigmasF32, readSigmaBaseConfig, readSigmaSchedule, scaleBySigma,
  sigmaToT, type SigmaBaseConfig, type SigmaSchedule,
} from './sigmas';
import type { StepOptions, StepResult } from './types';

export interface Kdpm2Config extends SigmaBaseConfig {
  readonly sigmaSchedule: SigmaSchedule;
}

/** The KDPM2 classes' config (the ancestral one has the same keys and defaults). */
export function readKdpm2Config(raw: RawConfig): Kdpm2Config {
  const c = withClassDefaults(raw, SCHEDULER_CLASS_DEFAULTS.KDPM2DiscreteScheduler);
  const config = { ...readSigmaBaseConfig(c), sigmaSchedule: readSigmaSchedule(c) };
  if (config.predictionType === 'sample') {
    throw new Error('KDPM2DiscreteScheduler supports prediction_type "epsilon" or "v_prediction"; got "sample"');
  }
  return config;
}


export class KDPM2DiscreteScheduler extends DiscreteSigmaScheduler<Kdpm2Config> {
  readonly order = 2;
  /** [t₀, t_mid₁, t₁, t_mid₂, t₂, …] after setTimesteps. */
  declare timesteps: number[];
  /** [σ₀, σ₁, σ₁, σ₂, σ₂, …, 0, 0, 0] (float32). */
  declare sigmas: Float32Array;
  /** σ_mid laid out as `sigmas`: [NaN, σ_mid₁, σ_mid₁, …]. */
  sigmasInterpol: Float32Array = new Float32Array(0);
  /** The interval's starting sample, kept between the two stages (null: the next step is a first stage). */
  private firstSample: Float32Array | null = null;

  constructor(config: RawConfig) {
    super('KDPM2DiscreteScheduler', readKdpm2Config(config));
  }

  setTimesteps(numInferenceSteps: number): void {
    const c = this.config;
    const grid = discreteSigmaSchedule(c, this.trainSigmas, numInferenceSteps);
    // Karras timesteps are rounded here (not in Euler's schedule)
    const timesteps = c.sigmaSchedule === 'karras' ? grid.timesteps.map(roundHalfEven) : grid.timesteps;
    const s = grid.sigmas;
    const n = s.length;
    // σ_mid between each σ and the one before it (σ_mid₀ is NaN in diffusers: log 0 − log 0; never used)
    const mid = Float32Array.from(s, (v, i) => (i === 0 ? NaN : logMidpoint(v, s[i - 1])));
    this.sigmas = doubled(s);
    this.sigmasInterpol = doubled(mid);
    const logSigmas = logSigmasF32(this.trainSigmas);
    // cast to the timesteps' dtype: float32, float64 for the (rounded) Karras ones
    const tMid = Array.from(mid.subarray(1, n - 1), (v) => (c.sigmaSchedule === 'karras' ? sigmaToT(v, logSigmas) : f32(sigmaToT(v, logSigmas))));
    this.timesteps = [timesteps[0], ...timesteps.slice(1).flatMap((t, i) => [tMid[i], t])];
    this.firstSample = null;
    this.index.reset();
  }

  /** x/√(σ²+1) at σ (first stage) or σ_mid (second stage). */
  override scaleModelInput(sample: Float32Array, timestep: number): Float32Array {
    const i = this.stepIndexOf(timestep);
    return scaleBySigma(sample, this.firstSample === null ? this.sigmas[i] : this.sigmasInterpol[i]);
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _opts?: StepOptions): StepResult {
    const i = this.stepIndexOf(timestep);
    const first = this.firstSample === null;
    const sigma = first ? this.sigmas[i] : this.sigmas[i - 1];
    const sigmaMid = first ? this.sigmasInterpol[i + 1] : this.sigmasInterpol[i];
    const sigmaNext = first ? this.sigmas[i + 1] : this.sigmas[i];
    // 1. x̂₀ at the stage's σ (σᵢ first, σ_mid second)
    const sigmaInput = first ? sigma : sigmaMid;
    const predOriginalSample = denoise(this.config.predictionType, modelOutput, sample, sigmaInput);
    const derivative = toD(sample, sigmaInput, predOriginalSample);
    let prevSample: Float32Array;
    if (first) {
      // 2. Euler half step to σ_mid
      const dt = f32(sigmaMid - sigma);
      this.firstSample = sample;
      prevSample = sample.map((x, k) => x + f32(derivative[k] * dt));
    } else {
      // 3. the full step from the interval's start with the derivative at σ_mid
      const dt = f32(sigmaNext - sigma);
      const start = this.firstSample!;
      this.firstSample = null;
      prevSample = start.map((x, k) => x + f32(derivative[k] * dt));
    }
    this.index.current = i + 1;
    return { prevSample, predOriginalSample };
  }
}
