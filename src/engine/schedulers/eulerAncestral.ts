/**
 * Ancestral Euler sampler ("Euler a"), k-diffusion's `sample_euler_ancestral` (Karras et al. 2022, Algorithm 2 with
 * the ancestral split of each step), as diffusers' EulerAncestralDiscreteScheduler. Symbols: `sigmaUp` σ↑ (fresh
 * noise added), `sigmaDown` σ↓ (the deterministic target), `derivative` d.
 */
import { drawNoise, f32, getAncestralStep, type RawConfig } from './common';
import {
  addNoiseWithSigma, denoise, discreteTimesteps, initNoiseSigmaFor, interpolateSigmas, readSigmaBaseConfig,
  requireTimesteps, scaleBySigma, StepIndex, trainSigmas, type SigmaBaseConfig,
} from './sigmas';
import type { Scheduler, StepOptions, StepResult } from './types';

export type EulerAncestralConfig = SigmaBaseConfig;

export function readEulerAncestralConfig(raw: RawConfig): EulerAncestralConfig {
  const config = readSigmaBaseConfig(raw, { timestepSpacing: 'linspace' });
  if (config.predictionType === 'sample') {
    throw new Error('EulerAncestralDiscreteScheduler supports prediction_type "epsilon" or "v_prediction"; got "sample"');
  }
  return config;
}

export class EulerAncestralDiscreteScheduler implements Scheduler {
  readonly order = 1;
  readonly config: EulerAncestralConfig;
  timesteps: number[] = [];
  /** σ per timestep plus the final 0 (float32). */
  sigmas: Float32Array;
  private readonly trainSigmas: Float32Array;
  private readonly index = new StepIndex();

  constructor(config: RawConfig) {
    this.config = readEulerAncestralConfig(config);
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
    const timesteps = discreteTimesteps(c.timestepSpacing, c.numTrainTimesteps, numInferenceSteps, c.stepsOffset);
    this.sigmas = Float32Array.from([...interpolateSigmas(timesteps, this.trainSigmas), 0]);
    this.timesteps = timesteps;
    this.index.reset();
  }

  scaleModelInput(sample: Float32Array, timestep: number): Float32Array {
    requireTimesteps(this.timesteps, 'EulerAncestralDiscreteScheduler');
    return scaleBySigma(sample, this.sigmas[this.index.at(this.timesteps, timestep)]);
  }

  /** Needs `opts.generator`: every step adds fresh noise. */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, opts: StepOptions = {}): StepResult {
    requireTimesteps(this.timesteps, 'EulerAncestralDiscreteScheduler');
    const i = this.index.at(this.timesteps, timestep);
    const sigma = this.sigmas[i];
    // 1. x̂₀ from the model output
    const predOriginalSample = denoise(this.config.predictionType, modelOutput, sample, sigma);
    // 2. split the step to σᵢ₊₁ into a deterministic part to σ↓ and fresh noise of std σ↑
    const { sigmaDown, sigmaUp } = getAncestralStep(sigma, this.sigmas[i + 1], 1, true);
    // 3. Euler step to σ↓ with d = (x − x̂₀)/σ, then add σ↑·z
    const dt = f32(sigmaDown - sigma);
    const noise = drawNoise(opts.generator, sample.length);
    const prevSample = sample.map((x, k) => {
      const moved = f32(x + f32(f32(f32(x - predOriginalSample[k]) / sigma) * dt));
      return moved + f32(noise[k] * sigmaUp);
    });
    this.index.current = i + 1;
    return { prevSample, predOriginalSample };
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    requireTimesteps(this.timesteps, 'EulerAncestralDiscreteScheduler');
    return addNoiseWithSigma(original, noise, this.sigmas[this.index.forNoise(this.timesteps, timestep)]);
  }
}
