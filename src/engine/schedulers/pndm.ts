/**
 * PNDM: Liu, Ren, Lin & Zhao 2022, "Pseudo Numerical Methods for Diffusion Models on Manifolds"
 * (https://arxiv.org/abs/2202.09778), as diffusers' `PNDMScheduler`: three pseudo Runge–Kutta steps (PRK, four model
 * calls each) warm up the history, then the pseudo linear multistep method (PLMS, eq. 12) runs with one call a step.
 * With `skip_prk_steps` (Stable Diffusion's "PLMS") the warm-up is a Heun-like pair of calls on one step instead.
 *
 * Symbols: `ets` the history of ε outputs e_t, `alphaProdT` ᾱₜ, the transfer φ(x_t, e_t, t, t−δ) is `prevSampleFrom`
 * (eq. 11).
 */
import { AlphaScheduler } from './alphaScheduler';
import { f32, readBaseConfig, readBool, readEnum, withClassDefaults, type BaseConfig, type RawConfig } from './common';
import type { StepResult } from './types';
import { SCHEDULER_CLASS_DEFAULTS } from './classDefaults';

export interface PNDMConfig extends BaseConfig {
  readonly skipPrkSteps: boolean;
}

const PNDM_ORDER = 4;

export class PNDMScheduler extends AlphaScheduler<PNDMConfig> {
  readonly finalAlphaCumprod: number;
  private prkTimesteps: number[] = [];
  // state of the multistep method
  private counter = 0;
  private ets: Float32Array[] = [];
  private curSample: Float32Array | null = null;
  private curModelOutput: Float32Array | null = null;

  constructor(raw: RawConfig = {}) {
    // PNDM has no x̂₀ step, so no clipping, thresholding or "sample" prediction
    const c = withClassDefaults(raw, SCHEDULER_CLASS_DEFAULTS.PNDMScheduler);
    const predictionType = readEnum(c, 'prediction_type', ['epsilon', 'v_prediction'] as const);
    super('PNDMScheduler', { ...readBaseConfig(c), predictionType, skipPrkSteps: readBool(c, 'skip_prk_steps') }, []);
    this.finalAlphaCumprod = this.config.setAlphaToOne ? 1 : this.alphasCumprod[0];
  }

  /** PRK timesteps (each twice, halves between) then PLMS timesteps; n + 1 entries with skip_prk_steps. */
  setTimesteps(numInferenceSteps: number): void {
    const { numTrainTimesteps, skipPrkSteps } = this.config;
    const ascending = this.spacedTimesteps(numInferenceSteps).reverse();
    if (!skipPrkSteps && numInferenceSteps < PNDM_ORDER) {
      throw new Error(`PNDMScheduler with skip_prk_steps false needs at least ${PNDM_ORDER} steps; got ${numInferenceSteps}`);
    }
    this.numInferenceSteps = numInferenceSteps;
    const n = ascending.length;
    let plms: number[];
    if (skipPrkSteps) {
      // the second-to-last training step is repeated: the Heun-like warm-up evaluates it twice
      plms = [...ascending.slice(0, -1), ...ascending.slice(-2, -1), ...ascending.slice(-1)].reverse();
      this.prkTimesteps = [];
    } else {
      const half = Math.floor(Math.floor(numTrainTimesteps / numInferenceSteps) / 2);
      const pairs = ascending.slice(-PNDM_ORDER).flatMap((t) => [t, t + half]);
      this.prkTimesteps = pairs.slice(0, -1).flatMap((t) => [t, t]).slice(1, -1).reverse();
      plms = ascending.slice(0, Math.max(0, n - 3)).reverse();
    }
    this.schedule = [...this.prkTimesteps, ...plms];
    this.counter = 0;
    this.ets = [];
    this.curSample = null;
    this.curModelOutput = null;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array): StepResult {
    this.checkStep(modelOutput, sample);
    const usePrk = this.counter < this.prkTimesteps.length && !this.config.skipPrkSteps;
    return { prevSample: usePrk ? this.stepPrk(modelOutput, timestep, sample) : this.stepPlms(modelOutput, timestep, sample) };
  }

  /** One of the four stages of a pseudo Runge–Kutta step (eq. 13): e = (e₁ + 2e₂ + 2e₃ + e₄)/6. */
  private stepPrk(modelOutput: Float32Array, timestep: number, sample: Float32Array): Float32Array {
    const ratio = Math.floor(this.config.numTrainTimesteps / (this.numInferenceSteps ?? 1));
    const diffToPrev = this.counter % 2 ? 0 : Math.floor(ratio / 2);
    const prevTimestep = timestep - diffToPrev;
    const t = this.prkTimesteps[Math.floor(this.counter / 4) * 4];
    let eps = modelOutput;
    const stage = this.counter % 4;
    if (stage === 0) {
      this.curModelOutput = addScaled(this.curModelOutput, 1 / 6, modelOutput);
      this.ets.push(modelOutput);
      this.curSample = sample;
    } else if (stage === 1 || stage === 2) {
      this.curModelOutput = addScaled(this.curModelOutput, 1 / 3, modelOutput);
    } else {
      eps = addScaled(this.curModelOutput, 1 / 6, modelOutput);
      this.curModelOutput = null;
    }
    const prev = this.prevSampleFrom(this.curSample ?? sample, t, prevTimestep, eps);
    this.counter += 1;
    return prev;
  }

  /** A pseudo linear multistep step (eq. 12): Adams–Bashforth over the ε history, lower orders while it fills. */
  private stepPlms(modelOutput: Float32Array, timestep: number, sample: Float32Array): Float32Array {
    if (!this.config.skipPrkSteps && this.ets.length < 3) {
      throw new Error('PNDMScheduler: PLMS steps need the 12 PRK steps first (run the whole schedule from its start)');
    }
    const ratio = Math.floor(this.config.numTrainTimesteps / (this.numInferenceSteps ?? 1));
    let t = timestep;
    let prevTimestep = timestep - ratio;
    if (this.counter !== 1) {
      this.ets = this.ets.slice(-3);
      this.ets.push(modelOutput);
    } else {
      prevTimestep = timestep;
      t = timestep + ratio;
    }
    const e = this.ets;
    const k = e.length;
    let x = sample;
    let eps: Float32Array;
    if (k === 1 && this.counter === 0) {
      eps = modelOutput;
      this.curSample = sample;
    } else if (k === 1 && this.counter === 1) {
      // 1. the Heun-like correction of the first step: average the two ε, restart from the saved sample
      eps = modelOutput.map((v, i) => f32(f32(v + e[0][i]) / 2));
      x = this.curSample ?? sample;
      this.curSample = null;
    } else if (k === 2) {
      eps = e[1].map((v, i) => f32(f32(f32(3 * v) - e[0][i]) / 2));
    } else if (k === 3) {
      eps = e[2].map((v, i) => f32(f32(f32(f32(23 * v) - f32(16 * e[1][i])) + f32(5 * e[0][i])) / 12));
    } else {
      const c = f32(1 / 24);
      eps = e[3].map((v, i) => f32(c * f32(f32(f32(f32(55 * v) - f32(59 * e[2][i])) + f32(37 * e[1][i])) - f32(9 * e[0][i]))));
    }
    const prev = this.prevSampleFrom(x, t, prevTimestep, eps);
    this.counter += 1;
    return prev;
  }

  /**
   * The transfer part φ (eq. 11): x_{t−δ} = √(ᾱ_{t−δ}/ᾱₜ)·xₜ − (ᾱ_{t−δ} − ᾱₜ)·eₜ / (ᾱₜ√(1−ᾱ_{t−δ}) + √((1−ᾱₜ)ᾱₜᾱ_{t−δ})).
   */
  private prevSampleFrom(sample: Float32Array, timestep: number, prevTimestep: number, modelOutput: Float32Array): Float32Array {
    const alphaProdT = this.alphaAt(timestep);
    const alphaProdTPrev = prevTimestep >= 0 ? this.alphaAt(prevTimestep) : this.finalAlphaCumprod;
    const betaProdT = f32(1 - alphaProdT);
    const betaProdTPrev = f32(1 - alphaProdTPrev);
    let eps = modelOutput;
    if (this.config.predictionType === 'v_prediction') {
      const a = f32(Math.sqrt(alphaProdT));
      const b = f32(Math.sqrt(betaProdT));
      eps = modelOutput.map((v, i) => f32(f32(a * v) + f32(b * sample[i])));
    }
    const sampleCoeff = f32(Math.sqrt(f32(alphaProdTPrev / alphaProdT)));
    const denom = f32(
      f32(alphaProdT * f32(Math.sqrt(betaProdTPrev))) + f32(Math.sqrt(f32(f32(alphaProdT * betaProdT) * alphaProdTPrev))),
    );
    const diff = f32(alphaProdTPrev - alphaProdT);
    return sample.map((x, i) => f32(f32(sampleCoeff * x) - f32(f32(diff * eps[i]) / denom)));
  }
}

/** acc + c·x in float32 (acc absent = 0), as diffusers' `cur_model_output += c * model_output`. */
function addScaled(acc: Float32Array | null, c: number, x: Float32Array): Float32Array {
  const cf = f32(c);
  return x.map((v, i) => (acc === null ? f32(cf * v) : f32(acc[i] + f32(cf * v))));
}
