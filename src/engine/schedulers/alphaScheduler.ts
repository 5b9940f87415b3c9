/**
 * What DDIM, DDPM, PNDM and LCM share (diffusers copies it between these classes): the training ᾱ, the timestep
 * schedule (every training timestep, highest first, until setTimesteps), the spaced `set_timesteps` grid, an identity
 * `scale_model_input` and the DDPM forward process √ᾱₜ·x₀ + √(1−ᾱₜ)·ε as `add_noise`. Each scheduler's own file adds
 * its config, `setTimesteps` and `step`.
 */
import {
  addNoiseWithAlphas, alphaAt, alphasCumprodFrom, betasForSchedule, checkInferenceSteps, checkSameLength,
  spacedTimesteps, type BaseConfig,
} from './common';
import type { Scheduler, StepOptions, StepResult } from './types';

export abstract class AlphaScheduler<C extends BaseConfig> implements Scheduler {
  readonly order = 1;
  readonly initNoiseSigma = 1;
  readonly config: C;
  /** ᾱₜ per training timestep (float32). */
  readonly alphasCumprod: Float32Array;
  protected numInferenceSteps: number | null = null;
  protected schedule: number[];

  /** `className` names the scheduler in errors; `schedule` is the one before setTimesteps (default T−1 … 0). */
  protected constructor(private readonly className: string, config: C, schedule?: number[]) {
    this.config = config;
    this.alphasCumprod = alphasCumprodFrom(betasForSchedule(config));
    const t = config.numTrainTimesteps;
    this.schedule = schedule ?? Array.from({ length: t }, (_, i) => t - 1 - i);
  }

  get timesteps(): number[] {
    return this.schedule;
  }

  abstract setTimesteps(numInferenceSteps: number): void;

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  abstract step(modelOutput: Float32Array, timestep: number, sample: Float32Array, opts?: StepOptions): StepResult;

  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    return addNoiseWithAlphas(original, noise, this.alphaAt(timestep));
  }

  /** ᾱ at an integer training timestep; anything else throws. */
  protected alphaAt(timestep: number): number {
    return alphaAt(this.alphasCumprod, timestep);
  }

  /** The `timestep_spacing` grid of n steps, descending (throws unless 1 ≤ n ≤ num_train_timesteps). */
  protected spacedTimesteps(numInferenceSteps: number): number[] {
    const { numTrainTimesteps, timestepSpacing, stepsOffset } = this.config;
    checkInferenceSteps(numInferenceSteps, numTrainTimesteps);
    return spacedTimesteps(timestepSpacing, numTrainTimesteps, numInferenceSteps, stepsOffset);
  }

  /** The number of inference steps; throws unless setTimesteps has run and the model output matches the sample. */
  protected checkStep(modelOutput: Float32Array, sample: Float32Array): number {
    if (this.numInferenceSteps === null) throw new Error(`${this.className}: call setTimesteps before step`);
    checkSameLength(sample, modelOutput, 'modelOutput');
    return this.numInferenceSteps;
  }
}
