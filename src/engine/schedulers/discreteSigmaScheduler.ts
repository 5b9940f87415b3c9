/**
 * What Euler, Euler a, Heun and LMS share (diffusers copies it between its `*DiscreteScheduler` classes): the training
 * σs, the σ and timestep arrays, the step index, `init_noise_sigma`, the model input x/√(σ²+1) and the
 * variance-exploding `add_noise` x₀ + σ·ε. Each sampler's own file adds its config, `setTimesteps` and `step`.
 */
import {
  addNoiseWithSigma, initNoiseSigmaFor, requireTimesteps, scaleBySigma, StepIndex, trainSigmas, type SigmaBaseConfig,
} from './sigmas';
import type { Scheduler, StepOptions, StepResult } from './types';

export abstract class DiscreteSigmaScheduler<C extends SigmaBaseConfig> implements Scheduler {
  abstract readonly order: number;
  readonly config: C;
  timesteps: number[] = [];
  /** σ per timestep plus the final σ (float32). */
  sigmas: Float32Array;
  protected readonly trainSigmas: Float32Array;
  protected readonly index = new StepIndex();

  /** `className` names the scheduler in errors. */
  protected constructor(private readonly className: string, config: C) {
    this.config = config;
    this.trainSigmas = trainSigmas(config);
    this.sigmas = Float32Array.from([...this.trainSigmas].reverse().concat(0));
  }

  get initNoiseSigma(): number {
    return initNoiseSigmaFor(this.sigmas, this.config.timestepSpacing);
  }

  /** The index of the first step, for a loop that starts mid-schedule (diffusers `set_begin_index`). */
  setBeginIndex(beginIndex: number): void {
    this.index.begin = beginIndex;
  }

  abstract setTimesteps(numInferenceSteps: number): void;

  scaleModelInput(sample: Float32Array, timestep: number): Float32Array {
    return scaleBySigma(sample, this.sigmas[this.stepIndexOf(timestep)]);
  }

  abstract step(modelOutput: Float32Array, timestep: number, sample: Float32Array, opts?: StepOptions): StepResult;

  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    requireTimesteps(this.timesteps, this.className);
    return addNoiseWithSigma(original, noise, this.sigmas[this.index.forNoise(this.timesteps, timestep)]);
  }

  /** The current step's index (found from `timestep` on the first step); throws before setTimesteps. */
  protected stepIndexOf(timestep: number): number {
    requireTimesteps(this.timesteps, this.className);
    return this.index.at(this.timesteps, timestep);
  }
}
