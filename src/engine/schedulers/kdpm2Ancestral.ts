/**
 * Ancestral DPM-Solver-2 (k-diffusion's `sample_dpm_2_ancestral`) as diffusers' KDPM2AncestralDiscreteScheduler: each
 * interval splits σᵢ₊₁ into σ_down and fresh noise σ_up (k-diffusion `get_ancestral_step`), takes an Euler half step
 * to σ_mid = √(σᵢ·σ_down), then the full step to σ_down with the derivative at σ_mid plus σ_up·ε. The last interval
 * is one Euler step to σ = 0. Timesteps come in pairs after the first (σ_mid's, then σᵢ₊₁'s).
 */
import { drawNoise, f32, roundHalfEven, toD, withClassDefaults, type RawConfig } from './common';
import { SCHEDULER_CLASS_DEFAULTS } from './classDefaults';
import { DiscreteSigmaScheduler } from './discreteSigmaScheduler';
import { readKdpm2Config, type Kdpm2Config } from './kdpm2';
import { denoise, discreteSigmaSchedule, doubled, logMidpoint, logSigmasF32, scaleBySigma, sigmaToT } from './sigmas';
import type { StepOptions, StepResult } from './types';



export class KDPM2AncestralDiscreteScheduler extends DiscreteSigmaScheduler<Kdpm2Config> {
  readonly order = 2;
  declare timesteps: number[];
  declare sigmas: Float32Array;
  sigmasInterpol: Float32Array = new Float32Array(0);
  private sigmasUp: Float32Array = new Float32Array(0);
  private sigmasDown: Float32Array = new Float32Array(0);
  /** The interval's starting sample between the two stages (null: the next step is a first stage). */
  private firstSample: Float32Array | null = null;

  constructor(config: RawConfig) {
    super('KDPM2AncestralDiscreteScheduler', readKdpm2Config(withClassDefaults(config, SCHEDULER_CLASS_DEFAULTS.KDPM2AncestralDiscreteScheduler)));
  }

  setTimesteps(numInferenceSteps: number): void {
    const c = this.config;
    const grid = discreteSigmaSchedule(c, this.trainSigmas, numInferenceSteps);
    const timesteps = c.sigmaSchedule === 'karras' ? grid.timesteps.map(roundHalfEven) : grid.timesteps;
    const s = grid.sigmas;
    const n = s.length;
    // σ_up, σ_down per σ, float32 (the last: NaN and 0, as diffusers leaves them)
    const up = new Float32Array(n);
    const down = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const next = i + 1 < n ? s[i + 1] : 0;
      const next2 = f32(next * next);
      const cur2 = f32(s[i] * s[i]);
      up[i] = f32(Math.sqrt(f32(f32(next2 * f32(cur2 - next2)) / cur2)));
      down[i] = i === n - 1 ? 0 : f32(Math.sqrt(f32(next2 - f32(up[i] * up[i]))));
    }
    const mid = Float32Array.from(s, (v, i) => (i >= n - 2 ? 0 : logMidpoint(v, down[i])));
    this.sigmas = doubled(s);
    this.sigmasInterpol = doubled(mid);
    this.sigmasUp = doubled(up);
    this.sigmasDown = doubled(down);
    const logSigmas = logSigmasF32(this.trainSigmas);
    const tMid = Array.from(mid.subarray(0, n - 2), (v) => (c.sigmaSchedule === 'karras' ? sigmaToT(v, logSigmas) : f32(sigmaToT(v, logSigmas))));
    this.timesteps = [timesteps[0], ...timesteps.slice(1).flatMap((t, i) => [tMid[i], t])];
    this.firstSample = null;
    this.index.reset();
  }

  /** x/√(σ²+1) at σ (first stage) or σ_mid (second stage). */
  override scaleModelInput(sample: Float32Array, timestep: number): Float32Array {
    const i = this.stepIndexOf(timestep);
    return scaleBySigma(sample, this.firstSample === null ? this.sigmas[i] : this.sigmasInterpol[i - 1]);
  }

  /** The second stage draws σ_up·ε from `opts.generator`. */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, opts: StepOptions = {}): StepResult {
    const i = this.stepIndexOf(timestep);
    const first = this.firstSample === null;
    const sigma = first ? this.sigmas[i] : this.sigmas[i - 1];
    const sigmaMid = first ? this.sigmasInterpol[i] : this.sigmasInterpol[i - 1];
    const sigmaInput = first ? sigma : sigmaMid;
    const predOriginalSample = denoise(this.config.predictionType, modelOutput, sample, sigmaInput);
    const derivative = toD(sample, sigmaInput, predOriginalSample);
    let prevSample: Float32Array;
    if (first) {
      // 1. Euler half step to σ_mid
      const dt = f32(sigmaMid - sigma);
      this.firstSample = sample;
      prevSample = sample.map((x, k) => x + f32(derivative[k] * dt));
    } else {
      // 2. the full step to σ_down with the derivative at σ_mid, then σ_up·ε
      const dt = f32(this.sigmasDown[i - 1] - sigma);
      const start = this.firstSample!;
      this.firstSample = null;
      const noise = drawNoise(opts.generator, sample.length);
      const sigmaUp = this.sigmasUp[i - 1];
      prevSample = start.map((x, k) => f32(x + f32(derivative[k] * dt)) + f32(noise[k] * sigmaUp));
    }
    this.index.current = i + 1;
    return { prevSample, predOriginalSample };
  }
}
