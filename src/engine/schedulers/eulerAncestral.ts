/**
 * Ancestral Euler sampler ("Euler a"), k-diffusion's `sample_euler_ancestral` (Karras et al. 2022, Algorithm 2 with
 * the ancestral split of each step), as diffusers' EulerAncestralDiscreteScheduler. Symbols: `sigmaUp` σ↑ (fresh
 * noise added), `sigmaDown` σ↓ (the deterministic target), `derivative` d.
 */
import { drawNoise, f32, getAncestralStep, toD, withClassDefaults, type RawConfig } from './common';
import { DiscreteSigmaScheduler } from './discreteSigmaScheduler';
import { denoise, discreteSigmaSchedule, readSigmaBaseConfig, type SigmaBaseConfig } from './sigmas';
import type { StepOptions, StepResult } from './types';
import { SCHEDULER_CLASS_DEFAULTS } from './classDefaults';

export type EulerAncestralConfig = SigmaBaseConfig;

export function readEulerAncestralConfig(raw: RawConfig): EulerAncestralConfig {
  const config = readSigmaBaseConfig(withClassDefaults(raw, SCHEDULER_CLASS_DEFAULTS.EulerAncestralDiscreteScheduler));
  if (config.predictionType === 'sample') {
    throw new Error('EulerAncestralDiscreteScheduler supports prediction_type "epsilon" or "v_prediction"; got "sample"');
  }
  return config;
}

export class EulerAncestralDiscreteScheduler extends DiscreteSigmaScheduler<EulerAncestralConfig> {
  readonly order = 1;

  constructor(config: RawConfig) {
    super('EulerAncestralDiscreteScheduler', readEulerAncestralConfig(config));
  }

  setTimesteps(numInferenceSteps: number): void {
    ({ sigmas: this.sigmas, timesteps: this.timesteps } = discreteSigmaSchedule(this.config, this.trainSigmas, numInferenceSteps));
    this.index.reset();
  }

  /** Needs `opts.generator`: every step adds fresh noise. */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, opts: StepOptions = {}): StepResult {
    const i = this.stepIndexOf(timestep);
    const sigma = this.sigmas[i];
    // 1. x̂₀ from the model output
    const predOriginalSample = denoise(this.config.predictionType, modelOutput, sample, sigma);
    // 2. split the step to σᵢ₊₁ into a deterministic part to σ↓ and fresh noise of std σ↑
    const { sigmaDown, sigmaUp } = getAncestralStep(sigma, this.sigmas[i + 1], 1, true);
    // 3. Euler step to σ↓ with d = (x − x̂₀)/σ, then add σ↑·z
    const derivative = toD(sample, sigma, predOriginalSample);
    const dt = f32(sigmaDown - sigma);
    const noise = drawNoise(opts.generator, sample.length);
    const prevSample = sample.map((x, k) => f32(x + f32(derivative[k] * dt)) + f32(noise[k] * sigmaUp));
    this.index.current = i + 1;
    return { prevSample, predOriginalSample };
  }
}
