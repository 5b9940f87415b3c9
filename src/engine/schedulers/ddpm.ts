/**
 * DDPM: Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models" (https://arxiv.org/abs/2006.11239),
 * ancestral sampling with the posterior q(x_{t−1} | x_t, x₀) of eqs. 6–7, as diffusers' `DDPMScheduler`.
 *
 * Symbols: `alphaProdT` ᾱₜ, `currentBetaT` βₜ = 1 − ᾱₜ/ᾱₜ₋₁ (for the strided schedule), x̂₀ `predOriginalSample`,
 * μ̃ₜ `predPrevSample`, β̃ₜ the posterior variance.
 */
import { AlphaScheduler } from './alphaScheduler';
import {
  batchOf, clipOrThreshold, drawNoise, f32, predictOriginal, readBaseConfig, readEnum, withClassDefaults, type BaseConfig,
  type RawConfig,
} from './common';
import type { StepOptions, StepResult } from './types';
import { SCHEDULER_CLASS_DEFAULTS } from './classDefaults';

export const VARIANCE_TYPES = [
  'fixed_small', 'fixed_small_log', 'fixed_large', 'fixed_large_log', 'learned', 'learned_range',
] as const;
export type VarianceType = (typeof VARIANCE_TYPES)[number];

export interface DDPMConfig extends BaseConfig {
  readonly varianceType: VarianceType;
}

export class DDPMScheduler extends AlphaScheduler<DDPMConfig> {
  constructor(raw: RawConfig = {}) {
    const c = withClassDefaults(raw, SCHEDULER_CLASS_DEFAULTS.DDPMScheduler);
    super('DDPMScheduler', { ...readBaseConfig(c), varianceType: readEnum(c, 'variance_type', VARIANCE_TYPES) });
  }

  setTimesteps(numInferenceSteps: number): void {
    this.schedule = this.spacedTimesteps(numInferenceSteps);
    this.numInferenceSteps = numInferenceSteps;
  }

  /**
   * One ancestral step x_t → x_{t−1}. For `learned`/`learned_range` the model output may carry the predicted
   * variance as extra channels (B×2C×h×w, diffusers' split on dim 1); the batch B is then the generator array's
   * length (1 for a single Rng).
   */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, opts: StepOptions = {}): StepResult {
    const cfg = this.config;
    const { epsilon, predictedVariance } = this.splitModelOutput(modelOutput, sample.length, opts);
    // 1. ᾱₜ, ᾱₜ₋₁, βₜ (prev is the next entry of the schedule; 1 past its end)
    const prevT = this.previousTimestep(timestep);
    const alphaProdT = this.alphaAt(timestep);
    const alphaProdTPrev = prevT >= 0 ? this.alphaAt(prevT) : 1;
    const betaProdT = f32(1 - alphaProdT);
    const betaProdTPrev = f32(1 - alphaProdTPrev);
    const currentAlphaT = f32(alphaProdT / alphaProdTPrev);
    const currentBetaT = f32(1 - currentAlphaT);
    // 2. x̂₀, eq. 15
    let predOriginalSample = predictOriginal(cfg.predictionType, epsilon, sample, alphaProdT);
    // 3. clip or threshold x̂₀
    predOriginalSample = clipOrThreshold(predOriginalSample, cfg, opts);
    // 4. μ̃ₜ = √ᾱₜ₋₁·βₜ/(1−ᾱₜ)·x̂₀ + √αₜ·(1−ᾱₜ₋₁)/(1−ᾱₜ)·x_t, eq. 7
    const x0Coeff = f32(f32(f32(Math.sqrt(alphaProdTPrev)) * currentBetaT) / betaProdT);
    const sampleCoeff = f32(f32(f32(Math.sqrt(currentAlphaT)) * betaProdTPrev) / betaProdT);
    const prevSample = new Float32Array(sample.length);
    for (let i = 0; i < prevSample.length; i++) {
      prevSample[i] = f32(f32(x0Coeff * predOriginalSample[i]) + f32(sampleCoeff * sample[i]));
    }
    // 5. x_{t−1} = μ̃ₜ + σₜ·z for t > 0
    if (timestep > 0) {
      const noise = drawNoise(opts.generator, sample.length);
      const posterior = f32(Math.max(f32(f32(betaProdTPrev / betaProdT) * currentBetaT), f32(1e-20)));
      for (let i = 0; i < prevSample.length; i++) {
        const std = this.noiseScale(posterior, currentBetaT, predictedVariance?.[i]);
        prevSample[i] = f32(prevSample[i] + f32(std * noise[i]));
      }
    }
    return { prevSample, predOriginalSample };
  }

  /** diffusers' `previous_timestep`: the schedule's next entry (−1 after the last); t − 1 before setTimesteps. */
  private previousTimestep(timestep: number): number {
    if (this.numInferenceSteps === null) return timestep - 1;
    const index = this.schedule.indexOf(timestep);
    if (index < 0) throw new Error(`Timestep ${timestep} is not in the schedule [${this.schedule.join(', ')}]`);
    return index === this.schedule.length - 1 ? -1 : this.schedule[index + 1];
  }

  /** The factor on z: √β̃ₜ (fixed_small), √βₜ (fixed_large), exp(½ log β̃ₜ), or the learned interpolation. */
  private noiseScale(posterior: number, currentBetaT: number, predicted: number | undefined): number {
    switch (this.config.varianceType) {
      case 'fixed_small': return f32(Math.sqrt(posterior));
      case 'fixed_small_log': return f32(Math.exp(f32(0.5 * f32(Math.log(posterior)))));
      case 'fixed_large': return f32(Math.sqrt(currentBetaT));
      // diffusers returns log βₜ here and then takes its square root (NaN): reproduced, not fixed
      case 'fixed_large_log': return f32(Math.sqrt(f32(Math.log(currentBetaT))));
      case 'learned': return f32(Math.sqrt(requirePredicted(predicted)));
      case 'learned_range': {
        const minLog = f32(Math.log(posterior));
        const maxLog = f32(Math.log(currentBetaT));
        const frac = f32(f32(requirePredicted(predicted) + 1) / 2);
        const logVariance = f32(f32(frac * maxLog) + f32(f32(1 - frac) * minLog));
        return f32(Math.exp(f32(0.5 * logVariance)));
      }
    }
  }

  private splitModelOutput(
    modelOutput: Float32Array, length: number, opts: StepOptions,
  ): { epsilon: Float32Array; predictedVariance: Float32Array | null } {
    const learned = this.config.varianceType === 'learned' || this.config.varianceType === 'learned_range';
    if (modelOutput.length === length) return { epsilon: modelOutput, predictedVariance: null };
    if (!learned || modelOutput.length !== 2 * length) {
      throw new Error(`modelOutput must have the sample's ${length} elements${learned ? ` (or ${2 * length} with the predicted variance)` : ''}; got ${modelOutput.length}`);
    }
    const batch = batchOf(opts, length);
    const per = length / batch;
    const epsilon = new Float32Array(length);
    const predictedVariance = new Float32Array(length);
    for (let b = 0; b < batch; b++) {
      epsilon.set(modelOutput.subarray(2 * b * per, (2 * b + 1) * per), b * per);
      predictedVariance.set(modelOutput.subarray((2 * b + 1) * per, (2 * b + 2) * per), b * per);
    }
    return { epsilon, predictedVariance };
  }
}

function requirePredicted(value: number | undefined): number {
  if (value === undefined) throw new Error('variance_type learned/learned_range needs the model output to carry the predicted variance (2×channels)');
  return value;
}
