/**
 * DEIS (Zhang & Chen 2023, "Fast Sampling of Diffusion Models with Exponential Integrator"), the log-ρ multistep
 * variant, as diffusers' DEISMultistepScheduler: each model output becomes ε, and a step of order 1–3 integrates the
 * Lagrange polynomial through the last outputs in ρ = σₜ/αₜ exactly (`indefinite2`/`indefinite3` are the
 * antiderivatives diffusers calls ind_fn). Order 1 is DDIM. Scalars are float32 0-dim tensors or numpy float32 in
 * diffusers, so each operation is rounded with `f32`.
 */
import {
  batchOf, f32, readEnum, sigmasFromAlphasCumprod, thresholdSample, withClassDefaults, type RawConfig,
} from './common';
import { dataPrediction, MultistepScheduler, multistepSigmaGrid, noiseFromData } from './multistepScheduler';
import { readMultistepExtras, type MultistepExtras } from './multistepConfig';
import { alphaSigmaFromSigma, levelOf, multistepTimesteps, readSigmaBaseConfig, type SigmaBaseConfig } from './sigmas';
import type { StepOptions, StepResult } from './types';
import { SCHEDULER_CLASS_DEFAULTS } from './classDefaults';

export type DeisConfig = SigmaBaseConfig & MultistepExtras;

export function readDeisConfig(raw: RawConfig): DeisConfig {
  const c = withClassDefaults(raw, SCHEDULER_CLASS_DEFAULTS.DEISMultistepScheduler);
  // diffusers maps the DPM-Solver names onto its only algorithm and solver type (logrho)
  readEnum(c, 'algorithm_type', ['deis', 'dpmsolver', 'dpmsolver++'] as const);
  readEnum(c, 'solver_type', ['logrho', 'midpoint', 'heun', 'bh1', 'bh2'] as const);
  return { ...readSigmaBaseConfig(c), ...readMultistepExtras(c, 'DEISMultistepScheduler') };
}

const log = (x: number): number => f32(Math.log(x));

/** ∫ (log t − log c)/(log b − log c) dt = t·(log t − log c − 1)/(log b − log c) (diffusers' second-order ind_fn). */
function indefinite2(t: number, b: number, c: number): number {
  const inner = f32(f32(-log(c) + log(t)) - 1);
  return f32(f32(t * inner) / f32(log(b) - log(c)));
}

/** ∫ (log t − log c)(log t − log d)/((log b − log c)(log b − log d)) dt (diffusers' third-order ind_fn). */
function indefinite3(t: number, b: number, c: number, d: number): number {
  const lt = log(t);
  const lc = log(c);
  const ld = log(d);
  let inner = f32(lc * f32(f32(ld - lt) + 1));
  inner = f32(inner - f32(ld * lt));
  inner = f32(inner + ld);
  inner = f32(inner + f32(lt * lt));
  inner = f32(inner - f32(2 * lt));
  inner = f32(inner + 2);
  const numerator = f32(t * inner);
  const denominator = f32(f32(log(b) - lc) * f32(log(b) - ld));
  return f32(numerator / denominator);
}

/** α·(x/αₛ₀ + Σ cⱼ·mⱼ), each operation float32 as torch does it. */
function combine(alphaT: number, sample: Float32Array, alphaS0: number, terms: ReadonlyArray<readonly [number, Float32Array]>): Float32Array {
  const out = new Float32Array(sample.length);
  for (let k = 0; k < out.length; k++) {
    let acc = f32(sample[k] / alphaS0);
    for (const [c, m] of terms) acc = f32(acc + f32(c * m[k]));
    out[k] = alphaT * acc;
  }
  return out;
}

export class DEISMultistepScheduler extends MultistepScheduler<DeisConfig> {
  constructor(config: RawConfig) {
    super('DEISMultistepScheduler', readDeisConfig(config));
  }

  setTimesteps(numInferenceSteps: number): void {
    const c = this.config;
    const train = sigmasFromAlphasCumprod(this.alphasCumprod);
    const timesteps = multistepTimesteps(c.timestepSpacing, c.numTrainTimesteps, c.numTrainTimesteps, numInferenceSteps, c.stepsOffset);
    // Karras timesteps are rounded, exponential ones truncated by the int64 cast; the last σ repeats the grid's
    // last one, or is the first training σ for the interpolated grid
    const schedule = multistepSigmaGrid(c.sigmaSchedule, timesteps, train, numInferenceSteps, { roundTimesteps: c.sigmaSchedule === 'karras' });
    const sigmaLast = c.sigmaSchedule === 'interpolated' ? train[0] : schedule.sigmas[schedule.sigmas.length - 1];
    this.sigmas = Float32Array.from([...schedule.sigmas, sigmaLast]);
    this.timesteps = schedule.timesteps;
    this.resetHistory();
  }

  /** Returns x̂₀ as predOriginalSample (diffusers returns none). */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, opts: StepOptions = {}): StepResult {
    const c = this.config;
    const i = this.stepIndexOf(timestep);
    const n = this.timesteps.length;
    const lowerOrderFinal = i === n - 1 && c.lowerOrderFinal && n < 15;
    const lowerOrderSecond = i === n - 2 && c.lowerOrderFinal && n < 15;
    // 1. ε from the model output, through x̂₀ (thresholded when asked)
    const { alphaT, sigmaT } = alphaSigmaFromSigma(this.sigmas[i]);
    let x0 = dataPrediction(c.predictionType, modelOutput, sample, alphaT, sigmaT);
    if (c.thresholding) x0 = thresholdSample(x0, batchOf(opts, sample.length), c.dynamicThresholdingRatio, c.sampleMaxValue);
    this.remember(noiseFromData(sample, x0, alphaT, sigmaT));
    // 2. the highest order the history allows
    const order = c.solverOrder === 1 || this.lowerOrderNums < 1 || lowerOrderFinal ? 1
      : c.solverOrder === 2 || this.lowerOrderNums < 2 || lowerOrderSecond ? 2 : 3;
    const prevSample = this.update(order, i, sample);
    if (this.lowerOrderNums < c.solverOrder) this.lowerOrderNums++;
    this.index.current = i + 1;
    return { prevSample, predOriginalSample: x0 };
  }

  private update(order: number, i: number, sample: Float32Array): Float32Array {
    const m = this.modelOutputs as Float32Array[];
    const m0 = m[m.length - 1];
    const t = levelOf(this.sigmas[i + 1]);
    const s0 = levelOf(this.sigmas[i]);
    if (order === 1) {
      // DDIM: αₜ/αₛ·x − σₜ·(e^h − 1)·ε
      const h = f32(t.lambda - s0.lambda);
      const a = f32(t.alpha / s0.alpha);
      const b = f32(t.sigma * f32(f32(Math.exp(h)) - 1));
      return sample.map((x, k) => f32(a * x) - f32(b * m0[k]));
    }
    const rho = (l: { alpha: number; sigma: number }): number => f32(l.sigma / l.alpha);
    const s1 = levelOf(this.sigmas[i - 1]);
    const [rt, r0, r1] = [rho(t), rho(s0), rho(s1)];
    if (order === 2) {
      const c1 = f32(indefinite2(rt, r0, r1) - indefinite2(r0, r0, r1));
      const c2 = f32(indefinite2(rt, r1, r0) - indefinite2(r0, r1, r0));
      return combine(t.alpha, sample, s0.alpha, [[c1, m0], [c2, m[m.length - 2]]]);
    }
    const r2 = rho(levelOf(this.sigmas[i - 2]));
    const c1 = f32(indefinite3(rt, r0, r1, r2) - indefinite3(r0, r0, r1, r2));
    const c2 = f32(indefinite3(rt, r1, r2, r0) - indefinite3(r0, r1, r2, r0));
    const c3 = f32(indefinite3(rt, r2, r0, r1) - indefinite3(r0, r2, r0, r1));
    return combine(t.alpha, sample, s0.alpha, [[c1, m0], [c2, m[m.length - 2]], [c3, m[m.length - 3]]]);
  }
}
