/**
 * UniPC (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of Diffusion Models"),
 * as diffusers' UniPCMultistepScheduler: each step first corrects the current sample with the new model output
 * (UniC, Algorithm 2) and then predicts the next one (UniP, Algorithm 1), both of order p in λ.
 * Symbols: `h` = λₜ − λₛ₀, `rks` rₖ = (λₛₖ − λₛ₀)/h, `D1s` (mₖ − m₀)/rₖ, `hPhi1` e^{±h} − 1, `bH` B(h) (bh1: h,
 * bh2: e^h − 1), `rhos` the solved ρ coefficients. Scalars are float32 0-dim tensors in diffusers (`f32`).
 */
import {
  batchOf, f32, readBool, readEnum, readNullableNumber, readNumberArray, sigmasFromAlphasCumprod, thresholdSample,
  withClassDefaults, type RawConfig,
} from './common';
import { readMultistepExtras, type MultistepExtras } from './multistepConfig';
import { dataFromNoise, dataPrediction, MultistepScheduler, multistepSigmaGrid, noisePrediction } from './multistepScheduler';
import { alphaSigmaFromSigma, levelOf, multistepTimesteps, readSigmaBaseConfig, type SigmaBaseConfig } from './sigmas';
import type { StepOptions, StepResult } from './types';
import { SCHEDULER_CLASS_DEFAULTS } from './classDefaults';

export interface UniPcConfig extends SigmaBaseConfig, MultistepExtras {
  readonly predictX0: boolean;
  readonly solverType: 'bh1' | 'bh2';
  /** Step indices whose following step skips the corrector. */
  readonly disableCorrector: readonly number[];
  readonly sigmaMin: number | null;
  readonly sigmaMax: number | null;
}

export function readUniPcConfig(raw: RawConfig): UniPcConfig {
  const c = withClassDefaults(raw, SCHEDULER_CLASS_DEFAULTS.UniPCMultistepScheduler);
  const solver = readEnum(c, 'solver_type', ['bh1', 'bh2', 'midpoint', 'heun', 'logrho'] as const);
  if (c.shift_terminal !== null) throw new Error('shift_terminal needs use_flow_sigmas, which is not supported; got a value');
  if (c.solver_p !== null) throw new Error('solver_p (a second scheduler as UniPC\'s predictor) is not supported; got a value');
  const extras = readMultistepExtras(c, 'UniPCMultistepScheduler');
  const predictX0 = readBool(c, 'predict_x0');
  if (!predictX0 && extras.finalSigmasType === 'zero') {
    throw new Error('UniPCMultistepScheduler with predict_x0 false needs final_sigmas_type "sigma_min"; got "zero" (its last step would be 0·∞ = NaN in diffusers)');
  }
  return {
    ...readSigmaBaseConfig(c),
    ...extras,
    predictX0,
    solverType: solver === 'bh1' ? 'bh1' : 'bh2', // diffusers maps DPM-Solver's names to bh2
    disableCorrector: readNumberArray(c, 'disable_corrector') ?? [],
    sigmaMin: readNullableNumber(c, 'sigma_min'),
    sigmaMax: readNullableNumber(c, 'sigma_max'),
  };
}

/** Solves A·x = b (small, dense) by Gaussian elimination with partial pivoting; float32 results. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row.slice(0, n), b[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = col + 1; r < n; r++) {
      const l = m[r][col] / m[col][col];
      for (let k = col; k <= n; k++) m[r][k] -= l * m[col][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let k = r + 1; k < n; k++) s -= m[r][k] * x[k];
    x[r] = s / m[r][r];
  }
  return x.map(f32);
}

export class UniPCMultistepScheduler extends MultistepScheduler<UniPcConfig> {
  private lastSample: Float32Array | null = null;
  private thisOrder = 1;

  constructor(config: RawConfig) {
    super('UniPCMultistepScheduler', readUniPcConfig(config));
  }

  setTimesteps(numInferenceSteps: number): void {
    const c = this.config;
    const train = sigmasFromAlphasCumprod(this.alphasCumprod);
    const timesteps = multistepTimesteps(c.timestepSpacing, c.numTrainTimesteps, c.numTrainTimesteps, numInferenceSteps, c.stepsOffset);
    // Karras timesteps are rounded, exponential ones truncated by the int64 cast
    const schedule = multistepSigmaGrid(c.sigmaSchedule, timesteps, train, numInferenceSteps, {
      roundTimesteps: c.sigmaSchedule === 'karras', sigmaMin: c.sigmaMin, sigmaMax: c.sigmaMax,
    });
    const sigmaLast = c.sigmaSchedule === 'interpolated' ? train[0] : schedule.sigmas[schedule.sigmas.length - 1];
    this.sigmas = Float32Array.from([...schedule.sigmas, c.finalSigmasType === 'sigma_min' ? sigmaLast : 0]);
    this.timesteps = schedule.timesteps;
    this.lastSample = null;
    this.resetHistory();
  }

  /** Returns x̂₀ as predOriginalSample (diffusers returns none). */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, opts: StepOptions = {}): StepResult {
    const c = this.config;
    const i = this.stepIndexOf(timestep);
    const batch = batchOf(opts, sample.length);
    const { converted, predOriginalSample } = this.convertModelOutput(modelOutput, sample, this.sigmas[i], batch);
    // 1. UniC: correct the sample the previous prediction made, using this step's model output
    let x = sample;
    if (i > 0 && !c.disableCorrector.includes(i - 1) && this.lastSample !== null) {
      x = this.update(i, this.thisOrder, this.lastSample, converted);
    }
    this.remember(converted);
    // 2. the order: warm up from 1, and lower it near the end when lower_order_final
    // (deviation: a step to σ = 0 is always first order; diffusers' higher orders divide by h = ∞ there → NaN)
    const order = c.lowerOrderFinal ? Math.min(c.solverOrder, this.timesteps.length - i) : c.solverOrder;
    this.thisOrder = this.sigmas[i + 1] === 0 ? 1 : Math.min(order, this.lowerOrderNums + 1);
    this.lastSample = x;
    // 3. UniP: predict the next sample
    const prevSample = this.update(i + 1, this.thisOrder, x, null);
    if (this.lowerOrderNums < c.solverOrder) this.lowerOrderNums++;
    this.index.current = i + 1;
    return { prevSample, predOriginalSample };
  }

  /**
   * The shared B(h) update from σ[target−1] to σ[target]: the predictor (modelT null) extrapolates from the stored
   * outputs; the corrector (modelT = the new output at σ[target]) adds its ρ-weighted difference.
   */
  private update(target: number, order: number, x: Float32Array, modelT: Float32Array | null): Float32Array {
    const c = this.config;
    const outputs = this.modelOutputs as Float32Array[];
    const t = levelOf(this.sigmas[target]);
    const s0 = levelOf(this.sigmas[target - 1]);
    const m0 = outputs[outputs.length - 1];
    const h = f32(t.lambda - s0.lambda);
    // 1. rₖ and D1ₖ from the earlier outputs
    const rks: number[] = [];
    const d1s: Float32Array[] = [];
    for (let k = 1; k < order; k++) {
      const mk = outputs[outputs.length - 1 - k];
      const rk = f32(f32(levelOf(this.sigmas[target - 1 - k]).lambda - s0.lambda) / h);
      rks.push(rk);
      d1s.push(mk.map((v, e) => f32(v - m0[e]) / rk));
    }
    rks.push(1);
    // 2. R = [rₖ^(i−1)], b = [i!·φ_{i+1}(h)·h/B(h)]
    const hh = c.predictX0 ? -h : h;
    const hPhi1 = f32(Math.expm1(hh));
    const bH = c.solverType === 'bh1' ? hh : hPhi1;
    let hPhiK = f32(f32(hPhi1 / hh) - 1);
    let factorial = 1;
    const rMat: number[][] = [];
    const b: number[] = [];
    for (let k = 1; k <= order; k++) {
      rMat.push(rks.map((r) => (k === 1 ? 1 : k === 2 ? r : f32(r * r))));
      b.push(f32(f32(hPhiK * factorial) / bH));
      factorial *= k + 1;
      hPhiK = f32(f32(hPhiK / hh) - f32(1 / factorial));
    }
    // 3. ρ: predictor order p uses p−1 of them, the corrector p
    const isCorrector = modelT !== null;
    const rhos = isCorrector
      ? (order === 1 ? [0.5] : solve(rMat, b))
      : (order === 2 ? [0.5] : order > 2 ? solve(rMat.slice(0, -1).map((row) => row.slice(0, -1)), b.slice(0, -1)) : []);
    // 4. x_t = (σₜ/σₛ₀)·x − αₜ·(e^{−h}−1)·m₀ − αₜ·B(h)·Σρₖ·D1ₖ (data prediction; the ε form mirrors it)
    const cx = c.predictX0 ? f32(t.sigma / s0.sigma) : f32(t.alpha / s0.alpha);
    const cm = c.predictX0 ? f32(t.alpha * hPhi1) : f32(t.sigma * hPhi1);
    const cb = c.predictX0 ? f32(t.alpha * bH) : f32(t.sigma * bH);
    const out = new Float32Array(x.length);
    for (let e = 0; e < out.length; e++) {
      const base = f32(f32(cx * x[e]) - f32(cm * m0[e]));
      let res = d1s.length > 0 ? f32(rhos[0] * d1s[0][e]) : 0;
      for (let k = 1; k < d1s.length; k++) res = f32(res + f32(rhos[k] * d1s[k][e]));
      if (modelT !== null) res = f32(res + f32(rhos[rhos.length - 1] * f32(modelT[e] - m0[e])));
      // no B(h) term at all for a first-order prediction (diffusers multiplies B(h) = −∞ by 0 for bh1 at σ = 0)
      out[e] = d1s.length === 0 && modelT === null ? base : base - f32(cb * res);
    }
    return out;
  }

  private convertModelOutput(
    modelOutput: Float32Array, sample: Float32Array, sigma: number, batch: number,
  ): { converted: Float32Array; predOriginalSample: Float32Array } {
    const c = this.config;
    const { alphaT, sigmaT } = alphaSigmaFromSigma(sigma);
    if (c.predictX0) {
      let x0 = dataPrediction(c.predictionType, modelOutput, sample, alphaT, sigmaT);
      if (c.thresholding) x0 = thresholdSample(x0, batch, c.dynamicThresholdingRatio, c.sampleMaxValue);
      return { converted: x0, predOriginalSample: x0.slice() };
    }
    const eps = noisePrediction(c.predictionType, modelOutput, sample, alphaT, sigmaT);
    return { converted: eps, predOriginalSample: dataFromNoise(sample, eps, alphaT, sigmaT) };
  }
}
