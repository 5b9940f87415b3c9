/**
 * DPM-Solver / DPM-Solver++ multistep (Lu et al. 2022; "DPM++ 2M" with solver_order 2), as diffusers'
 * DPMSolverMultistepScheduler: convert each model output to x̂₀ (++) or ε, keep the last `solver_order` of them, and
 * take a 1st/2nd/3rd-order step in λ (update formulas in dpmSolverUpdates.ts).
 */
import {
  batchOf, drawNoise, f32, readBool, readEnum, sigmasFromAlphasCumprod, thresholdSample, withClassDefaults,
  type RawConfig,
} from './common';
import { dpmSolverUpdate, type DpmAlgorithm, type DpmSolverType } from './dpmSolverUpdates';
import { readMultistepExtras, readNumberOrInfinity, type MultistepExtras } from './multistepConfig';
import {
  dataFromNoise, dataPrediction, MultistepScheduler, multistepSigmaGrid, noiseFromData, noisePrediction,
} from './multistepScheduler';
import {
  alphaSigmaFromSigma, lambdaOf, multistepTimesteps, readSigmaBaseConfig, type SigmaBaseConfig, type SigmaSchedule,
} from './sigmas';
import type { StepOptions, StepResult } from './types';
import { SCHEDULER_CLASS_DEFAULTS } from './classDefaults';

export interface DpmSolverConfig extends SigmaBaseConfig, MultistepExtras {
  readonly algorithmType: DpmAlgorithm;
  readonly solverType: DpmSolverType;
  readonly eulerAtFinal: boolean;
  /** use_lu_lambdas: uniform steps in log σ (Lu et al.'s "logSNR" spacing) instead of the σ schedule. */
  readonly useLuLambdas: boolean;
  readonly lambdaMinClipped: number;
}

export function readDpmSolverConfig(raw: RawConfig): DpmSolverConfig {
  const c = withClassDefaults(raw, SCHEDULER_CLASS_DEFAULTS.DPMSolverMultistepScheduler);
  const extras = readMultistepExtras(c, 'DPMSolverMultistepScheduler');
  // diffusers maps the other solvers' names onto its own ones
  const algorithmRaw = readEnum(c, 'algorithm_type', ['dpmsolver++', 'dpmsolver', 'sde-dpmsolver++', 'sde-dpmsolver', 'deis'] as const);
  const algorithmType: DpmAlgorithm = algorithmRaw === 'deis' ? 'dpmsolver++' : algorithmRaw;
  const solverRaw = readEnum(c, 'solver_type', ['midpoint', 'heun', 'logrho', 'bh1', 'bh2'] as const);
  const solverType: DpmSolverType = solverRaw === 'heun' ? 'heun' : 'midpoint';
  if (!algorithmType.endsWith('++') && extras.finalSigmasType === 'zero') {
    throw new Error(`final_sigmas_type "zero" is not supported with algorithm_type "${algorithmType}"; use "sigma_min"`);
  }
  if (algorithmType === 'sde-dpmsolver' && extras.solverOrder === 3) {
    throw new Error('algorithm_type "sde-dpmsolver" supports solver_order 1 or 2; got 3');
  }
  // diffusers only looks for the learned kinds (a UNet with 2× output channels); a DDPM config's "fixed_small" is inert
  const variance = c.variance_type;
  if (variance === 'learned' || variance === 'learned_range') {
    throw new Error(`variance_type ${JSON.stringify(variance)} (learned-variance UNets) is not supported`);
  }
  return {
    ...readSigmaBaseConfig(c),
    ...extras,
    algorithmType,
    solverType,
    eulerAtFinal: readBool(c, 'euler_at_final'),
    useLuLambdas: readBool(c, 'use_lu_lambdas'),
    lambdaMinClipped: readNumberOrInfinity(c, 'lambda_min_clipped'),
  };
}

export class DPMSolverMultistepScheduler extends MultistepScheduler<DpmSolverConfig> {
  constructor(config: RawConfig) {
    super('DPMSolverMultistepScheduler', readDpmSolverConfig(config));
  }

  setTimesteps(numInferenceSteps: number): void {
    const c = this.config;
    const train = sigmasFromAlphasCumprod(this.alphasCumprod);
    // 1. timesteps up to the last one whose λ is above lambda_min_clipped
    const clipped = this.clippedIdx(c.lambdaMinClipped);
    const timesteps = multistepTimesteps(c.timestepSpacing, c.numTrainTimesteps, c.numTrainTimesteps - clipped, numInferenceSteps, c.stepsOffset);
    // 2. σ per timestep, or a Karras / exponential / uniform-log-σ grid mapped back to timesteps
    // (diffusers' precedence: Karras, then Lu's λ, then exponential; fractional timesteps are rounded for Karras and
    // λ grids, not with the cosine schedule)
    const grid: SigmaSchedule | 'lu' = c.sigmaSchedule === 'karras' || !c.useLuLambdas ? c.sigmaSchedule : 'lu';
    const roundTimesteps = grid !== 'exponential' && c.betaSchedule !== 'squaredcos_cap_v2';
    const schedule = multistepSigmaGrid(grid, timesteps, train, numInferenceSteps, { roundTimesteps });
    const sigmaLast = c.finalSigmasType === 'sigma_min' ? train[0] : 0;
    this.sigmas = Float32Array.from([...schedule.sigmas, sigmaLast]);
    this.timesteps = schedule.timesteps;
    this.resetHistory();
  }

  /** Needs `opts.generator` for the SDE variants. Returns x̂₀ as predOriginalSample (diffusers returns none). */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, opts: StepOptions = {}): StepResult {
    const c = this.config;
    const i = this.stepIndexOf(timestep);
    const n = this.timesteps.length;
    // 1. lower the order at the end of short schedules (and always for the last step to σ = 0)
    const lowerOrderFinal = i === n - 1 && (c.eulerAtFinal || (c.lowerOrderFinal && n < 15) || c.finalSigmasType === 'zero');
    const lowerOrderSecond = i === n - 2 && c.lowerOrderFinal && n < 15;
    // 2. x̂₀ (DPM-Solver++) or ε (DPM-Solver) from the model output
    const { converted, predOriginalSample } = this.convertModelOutput(modelOutput, sample, this.sigmas[i], opts);
    this.remember(converted);
    const sde = c.algorithmType.startsWith('sde');
    const noise = sde ? drawNoise(opts.generator, sample.length) : null;
    // 3. the highest order the history allows
    const order = c.solverOrder === 1 || this.lowerOrderNums < 1 || lowerOrderFinal ? 1
      : c.solverOrder === 2 || this.lowerOrderNums < 2 || lowerOrderSecond ? 2 : 3;
    const sigmaList = [this.sigmas[i + 1], this.sigmas[i], this.sigmas[i - 1], this.sigmas[i - 2]];
    const history = this.modelOutputs.slice(-order) as Float32Array[];
    const prevSample = dpmSolverUpdate(c.algorithmType, c.solverType, order, sigmaList, history, sample, noise);
    if (this.lowerOrderNums < c.solverOrder) this.lowerOrderNums++;
    this.index.current = i + 1;
    return { prevSample, predOriginalSample };
  }

  private convertModelOutput(
    modelOutput: Float32Array, sample: Float32Array, sigma: number, opts: StepOptions,
  ): { converted: Float32Array; predOriginalSample: Float32Array } {
    const c = this.config;
    const { alphaT, sigmaT } = alphaSigmaFromSigma(sigma);
    const batch = batchOf(opts, sample.length);
    const threshold = (x: Float32Array): Float32Array =>
      c.thresholding ? thresholdSample(x, batch, c.dynamicThresholdingRatio, c.sampleMaxValue) : x;
    if (c.algorithmType.endsWith('++')) {
      const converted = threshold(dataPrediction(c.predictionType, modelOutput, sample, alphaT, sigmaT));
      return { converted, predOriginalSample: converted.slice() };
    }
    let eps = noisePrediction(c.predictionType, modelOutput, sample, alphaT, sigmaT);
    if (c.thresholding) eps = noiseFromData(sample, threshold(dataFromNoise(sample, eps, alphaT, sigmaT)), alphaT, sigmaT);
    return { converted: eps, predOriginalSample: dataFromNoise(sample, eps, alphaT, sigmaT) };
  }

  /** torch.searchsorted(flip(λ), lambda_min_clipped): how many of the highest-noise timesteps are clipped. */
  private clippedIdx(lambdaMin: number): number {
    if (lambdaMin === -Infinity) return 0;
    const lambdas = Array.from(this.alphasCumprod, (a) => lambdaOf(f32(Math.sqrt(a)), f32(Math.sqrt(f32(1 - a))))).reverse();
    let idx = 0;
    while (idx < lambdas.length && lambdas[idx] < lambdaMin) idx++;
    return idx;
  }
}
