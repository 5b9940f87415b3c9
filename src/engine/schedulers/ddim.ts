/**
 * DDIM: Song, Meng & Ermon 2020, "Denoising Diffusion Implicit Models" (https://arxiv.org/abs/2010.02502),
 * the non-Markovian sampler of eq. 12, as diffusers' `DDIMScheduler`.
 *
 * Symbols: `alphaProdT` is ᾱₜ ("α_t" in the paper), `alphaProdTPrev` ᾱₜ₋₁, `stdDevT` σₜ(η), x̂₀ `predOriginalSample`.
 */
import { AlphaScheduler } from './alphaScheduler';
import {
  clipOrThreshold, drawNoise, f32, predictOriginal, readBaseConfig, withClassDefaults, type BaseConfig,
  type RawConfig,
} from './common';
import type { StepOptions, StepResult } from './types';
import { SCHEDULER_CLASS_DEFAULTS } from './classDefaults';

export type DDIMConfig = BaseConfig;

export class DDIMScheduler extends AlphaScheduler<DDIMConfig> {
  /** ᾱ used before the first training step: 1 with set_alpha_to_one, else ᾱ₀. */
  readonly finalAlphaCumprod: number;

  constructor(raw: RawConfig = {}) {
    super('DDIMScheduler', readBaseConfig(withClassDefaults(raw, SCHEDULER_CLASS_DEFAULTS.DDIMScheduler)));
    this.finalAlphaCumprod = this.config.setAlphaToOne ? 1 : this.alphasCumprod[0];
  }

  setTimesteps(numInferenceSteps: number): void {
    this.schedule = this.spacedTimesteps(numInferenceSteps);
    this.numInferenceSteps = numInferenceSteps;
  }

  /**
   * One DDIM step x_t → x_{t−1} (eq. 12). The pipeline's sample is batch-major (B×4×h×w); `opts.eta` > 0 needs
   * `opts.generator` for the σₜ·ε noise.
   */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, opts: StepOptions = {}): StepResult {
    const numInferenceSteps = this.checkStep(modelOutput, sample);
    const eta = opts.eta ?? 0;
    const cfg = this.config;
    // 1. previous step: t − T/n (diffusers does not look the timestep up in the schedule)
    const prevTimestep = timestep - Math.floor(cfg.numTrainTimesteps / numInferenceSteps);
    // 2. ᾱₜ, ᾱₜ₋₁, 1 − ᾱₜ
    const alphaProdT = this.alphaAt(timestep);
    const alphaProdTPrev = prevTimestep >= 0 ? this.alphaAt(prevTimestep) : this.finalAlphaCumprod;
    const betaProdT = f32(1 - alphaProdT);
    const sqrtAlphaT = f32(Math.sqrt(alphaProdT));
    const sqrtBetaT = f32(Math.sqrt(betaProdT));
    // 3. x̂₀ ("predicted x_0", eq. 12) and ε̂ from the model output
    let predOriginalSample = predictOriginal(cfg.predictionType, modelOutput, sample, alphaProdT);
    let predEpsilon: Float32Array;
    if (cfg.predictionType === 'epsilon') predEpsilon = modelOutput;
    else if (cfg.predictionType === 'sample') {
      predEpsilon = sample.map((x, i) => f32(f32(x - f32(sqrtAlphaT * predOriginalSample[i])) / sqrtBetaT));
    } else predEpsilon = modelOutput.map((v, i) => f32(f32(sqrtAlphaT * v) + f32(sqrtBetaT * sample[i])));
    // 4. clip or threshold x̂₀
    predOriginalSample = clipOrThreshold(predOriginalSample, cfg, opts);
    // 5. σₜ(η) = η·√((1 − ᾱₜ₋₁)/(1 − ᾱₜ)·(1 − ᾱₜ/ᾱₜ₋₁)) (eq. 16)
    const variance = f32(f32(f32(1 - alphaProdTPrev) / betaProdT) * f32(1 - f32(alphaProdT / alphaProdTPrev)));
    const stdDevT = f32(f32(eta) * f32(Math.sqrt(variance)));
    // 6. "direction pointing to x_t": √(1 − ᾱₜ₋₁ − σₜ²)·ε̂
    const dirCoeff = f32(Math.sqrt(f32(f32(1 - alphaProdTPrev) - f32(stdDevT * stdDevT))));
    const sqrtAlphaPrev = f32(Math.sqrt(alphaProdTPrev));
    const prevSample = new Float32Array(sample.length);
    for (let i = 0; i < prevSample.length; i++) {
      prevSample[i] = f32(sqrtAlphaPrev * predOriginalSample[i]) + f32(dirCoeff * predEpsilon[i]); // stored: rounded
    }
    // 7. x_{t−1} = √ᾱₜ₋₁·x̂₀ + direction + σₜ·z
    if (eta > 0) {
      const noise = drawNoise(opts.generator, sample.length);
      for (let i = 0; i < prevSample.length; i++) prevSample[i] = f32(prevSample[i] + f32(stdDevT * noise[i]));
    }
    return { prevSample, predOriginalSample };
  }
}
