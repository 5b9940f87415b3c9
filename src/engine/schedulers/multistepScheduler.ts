/**
 * What the multistep solvers DPM-Solver(++) and UniPC share (diffusers copies it between the two classes): the
 * training ᾱ, the σ grid of `set_timesteps`, the conversion of a model output to x̂₀ or ε at a noise level, the history
 * of converted outputs, the step index and the variance-preserving `add_noise` αₜ·x₀ + σₜ·ε. Each solver's own file
 * adds its config, `setTimesteps`, `step` and update formulas. `alphaT`/`sigmaT` are αₜ, σₜ of the VP process.
 */
import { checkSameLength, f32, numpyLinspace, roundHalfEven, type PredictionType } from './common';
import type { MultistepExtras } from './multistepConfig';
import {
  alphaSigmaFromSigma, convertSigmas, interpolateSigmas, logSigmasF32, requireTimesteps, sigmaToT, StepIndex,
  trainAlphasCumprod, type SigmaBaseConfig, type SigmaSchedule,
} from './sigmas';
import type { Scheduler, StepOptions, StepResult } from './types';

/**
 * σ per integer timestep (interpolated over the training σs), or n σs of a Karras / exponential / uniform-log-σ
 * (`lu`, Lu et al.'s λ spacing) grid between the training σs' ends (or sigmaMin/sigmaMax), whose timesteps are mapped
 * back through σ→t, rounded when `roundTimesteps`, then cast to integers (int64, truncating) as diffusers does.
 */
export function multistepSigmaGrid(
  grid: SigmaSchedule | 'lu', timesteps: number[], trainSigmas: Float32Array, n: number,
  opts: { readonly roundTimesteps: boolean; readonly sigmaMin?: number | null; readonly sigmaMax?: number | null },
): { sigmas: number[]; timesteps: number[] } {
  if (grid === 'interpolated') return { sigmas: interpolateSigmas(timesteps, trainSigmas), timesteps };
  const logSigmas = logSigmasF32(trainSigmas);
  let sigmas: number[];
  if (grid === 'lu') {
    const hi = logSigmas[logSigmas.length - 1];
    const lo = logSigmas[0];
    sigmas = numpyLinspace(0, 1, n).map((r) => Math.exp(hi + r * (lo - hi)));
  } else sigmas = convertSigmas(grid, Array.from(trainSigmas).reverse(), n, opts.sigmaMin ?? null, opts.sigmaMax ?? null);
  const toT = (s: number): number => (opts.roundTimesteps ? roundHalfEven(sigmaToT(s, logSigmas)) : sigmaToT(s, logSigmas));
  return { sigmas, timesteps: sigmas.map((s) => Math.trunc(toT(s))) };
}

/** x̂₀ = (x − σₜ·ε)/αₜ from a noise prediction (float32). */
export function dataFromNoise(sample: Float32Array, eps: Float32Array, alphaT: number, sigmaT: number): Float32Array {
  return sample.map((x, k) => f32(x - f32(sigmaT * eps[k])) / alphaT);
}

/** ε = (x − αₜ·x̂₀)/σₜ from a data prediction (float32). */
export function noiseFromData(sample: Float32Array, x0: Float32Array, alphaT: number, sigmaT: number): Float32Array {
  return sample.map((x, k) => f32(x - f32(alphaT * x0[k])) / sigmaT);
}

/** The model output as x̂₀: epsilon (x − σₜ·ε)/αₜ; sample: itself (copied); v_prediction αₜ·x − σₜ·v. */
export function dataPrediction(
  predictionType: PredictionType, modelOutput: Float32Array, sample: Float32Array, alphaT: number, sigmaT: number,
): Float32Array {
  if (predictionType === 'epsilon') return dataFromNoise(sample, modelOutput, alphaT, sigmaT);
  if (predictionType === 'sample') return modelOutput.slice();
  return sample.map((x, k) => f32(alphaT * x) - f32(sigmaT * modelOutput[k]));
}

/** The model output as ε: epsilon: itself (copied); sample (x − αₜ·x̂₀)/σₜ; v_prediction αₜ·v + σₜ·x. */
export function noisePrediction(
  predictionType: PredictionType, modelOutput: Float32Array, sample: Float32Array, alphaT: number, sigmaT: number,
): Float32Array {
  if (predictionType === 'epsilon') return modelOutput.slice();
  if (predictionType === 'sample') return noiseFromData(sample, modelOutput, alphaT, sigmaT);
  return modelOutput.map((v, k) => f32(alphaT * v) + f32(sigmaT * sample[k]));
}

export abstract class MultistepScheduler<C extends SigmaBaseConfig & MultistepExtras> implements Scheduler {
  readonly order = 1;
  readonly initNoiseSigma = 1;
  readonly config: C;
  timesteps: number[] = [];
  /** σ per timestep plus the final σ (float32). */
  sigmas = new Float32Array(0);
  protected readonly alphasCumprod: Float32Array;
  protected readonly index = new StepIndex(true);
  /** The last `solver_order` converted model outputs, newest last (null until filled). */
  protected modelOutputs: Array<Float32Array | null> = [];
  /** How many steps have filled the history (up to `solver_order`). */
  protected lowerOrderNums = 0;

  /** `className` names the scheduler in errors. */
  protected constructor(private readonly className: string, config: C) {
    this.config = config;
    this.alphasCumprod = trainAlphasCumprod(config);
  }

  /** The index of the first step, for a loop that starts mid-schedule (diffusers `set_begin_index`). */
  setBeginIndex(beginIndex: number): void {
    this.index.begin = beginIndex;
  }

  abstract setTimesteps(numInferenceSteps: number): void;

  scaleModelInput(sample: Float32Array, _timestep: number): Float32Array {
    return sample;
  }

  abstract step(modelOutput: Float32Array, timestep: number, sample: Float32Array, opts?: StepOptions): StepResult;

  /** VP forward process αₜ·x₀ + σₜ·ε at the timestep's σ. */
  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    requireTimesteps(this.timesteps, this.className);
    checkSameLength(original, noise, 'noise');
    const { alphaT, sigmaT } = alphaSigmaFromSigma(this.sigmas[this.index.forNoise(this.timesteps, timestep)]);
    return original.map((x, k) => f32(alphaT * x) + f32(sigmaT * noise[k]));
  }

  /** The current step's index (found from `timestep` on the first step); throws before setTimesteps. */
  protected stepIndexOf(timestep: number): number {
    requireTimesteps(this.timesteps, this.className);
    return this.index.at(this.timesteps, timestep);
  }

  /** Empties the output history and forgets the step index (after a new schedule). */
  protected resetHistory(): void {
    this.modelOutputs = new Array<Float32Array | null>(this.config.solverOrder).fill(null);
    this.lowerOrderNums = 0;
    this.index.reset();
  }

  /** Appends the newest converted output to the history, dropping the oldest. */
  protected remember(converted: Float32Array): void {
    this.modelOutputs.shift();
    this.modelOutputs.push(converted);
  }
}
