import type { Rng } from '../random';

/** Per-step options (diffusers' `step(..., generator=, eta=)`). */
export interface StepOptions {
  /** Noise source for stochastic samplers; an array gives image i of a batch-major sample its own stream. */
  readonly generator?: Rng | Rng[];
  /** DDIM's η (0 = deterministic). */
  readonly eta?: number;
}

export interface StepResult {
  readonly prevSample: Float32Array;
  /** x̂₀, the model's current estimate of the clean sample, where the scheduler computes one. */
  readonly predOriginalSample?: Float32Array;
}

/** The diffusers scheduler interface, over flat batch-major Float32Arrays (latents B×4×h×w). */
export interface Scheduler {
  readonly order: number;
  readonly initNoiseSigma: number;
  /** Valid after setTimesteps. */
  readonly timesteps: number[];
  setTimesteps(numInferenceSteps: number): void;
  scaleModelInput(sample: Float32Array, timestep: number): Float32Array;
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, opts?: StepOptions): StepResult;
  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array;
  /**
   * diffusers' `set_begin_index`, where the scheduler has it (the σ and multistep ones): the index of the first
   * step when img2img starts mid-schedule, so add_noise and the first step use it rather than looking it up.
   */
  setBeginIndex?(beginIndex: number): void;
  /**
   * LCMScheduler's `set_timesteps(steps, strength=…)`, which diffusers' LCM img2img pipeline calls for LCM UNets:
   * all `steps` run on the first ⌊N·strength⌋ distillation timesteps instead of the tail get_timesteps keeps.
   */
  setTimestepsForStrength?(numInferenceSteps: number, strength: number): void;
}
