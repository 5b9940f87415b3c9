/**
 * LCM: Luo, Tan, Huang, Li & Zhao 2023, "Latent Consistency Models" (https://arxiv.org/abs/2310.04378),
 * multistep consistency sampling (Algorithm 3), as diffusers' `LCMScheduler`.
 *
 * The consistency function f(x, t) = c_skip(t)·x + c_out(t)·x̂₀ (eq. 9, the boundary condition f(x, 0) = x) gives
 * the denoised sample; between steps it is noised forward again to the next timestep with fresh noise.
 * Symbols: `cSkip`/`cOut` c_skip, c_out with σ_data = 0.5 and t scaled by `timestep_scaling`; `denoised` f(x, t).
 */
import { AlphaScheduler } from './alphaScheduler';
import {
  clipOrThreshold, drawNoise, f32, indexForTimestep, predictOriginal, readBaseConfig, readInteger, readNumber,
  withClassDefaults, type BaseConfig, type RawConfig,
} from './common';
import type { StepOptions, StepResult } from './types';
import { SCHEDULER_CLASS_DEFAULTS } from './classDefaults';

export interface LCMConfig extends BaseConfig {
  /** The number of skipped-step teacher timesteps the model was distilled on (the "original" DDIM schedule). */
  readonly originalInferenceSteps: number;
  readonly timestepScaling: number;
}

const SIGMA_DATA = 0.5;

export class LCMScheduler extends AlphaScheduler<LCMConfig> {
  readonly finalAlphaCumprod: number;
  private stepIndex: number | null = null;

  constructor(raw: RawConfig = {}) {
    const c = withClassDefaults(raw, SCHEDULER_CLASS_DEFAULTS.LCMScheduler);
    super('LCMScheduler', {
      ...readBaseConfig(c),
      originalInferenceSteps: readInteger(c, 'original_inference_steps', 1),
      timestepScaling: readNumber(c, 'timestep_scaling'),
    });
    this.finalAlphaCumprod = this.config.setAlphaToOne ? 1 : this.alphasCumprod[0];
  }

  /** img2img for LCM UNets (the Scheduler interface's hook): setTimesteps with the strength. */
  setTimestepsForStrength(numInferenceSteps: number, strength: number): void {
    this.setTimesteps(numInferenceSteps, strength);
  }

  /**
   * n timesteps taken evenly (by index) from the distillation schedule k−1, 2k−1, …, M·k−1 (k = ⌊T/N⌋,
   * N = original_inference_steps), highest first. img2img (diffusers' LCM img2img pipeline) passes its strength:
   * the distillation schedule shrinks to M = ⌊N·strength⌋ timesteps and all n steps run on it; otherwise M = N.
   */
  setTimesteps(numInferenceSteps: number, strength = 1): void {
    const { numTrainTimesteps, originalInferenceSteps } = this.config;
    if (originalInferenceSteps > numTrainTimesteps) {
      throw new Error(`original_inference_steps (${originalInferenceSteps}) cannot exceed num_train_timesteps (${numTrainTimesteps})`);
    }
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1 || numInferenceSteps > originalInferenceSteps) {
      throw new Error(`numInferenceSteps must be an integer in [1, ${originalInferenceSteps}] (original_inference_steps); got ${numInferenceSteps}`);
    }
    if (!(strength >= 0 && strength <= 1)) throw new Error(`strength must be in [0, 1]; got ${strength}`);
    const k = Math.floor(numTrainTimesteps / originalInferenceSteps);
    // Python's int(original_steps * strength): a double product, truncated
    const originLength = Math.trunc(originalInferenceSteps * strength);
    if (originLength < numInferenceSteps) {
      throw new Error(`original_inference_steps × strength = ${originalInferenceSteps} × ${strength} leaves ${originLength} `
        + `timesteps, fewer than the ${numInferenceSteps} steps asked for: use at most ${originLength} steps or a strength of at least `
        + `${numInferenceSteps / originalInferenceSteps}`);
    }
    const origin = Array.from({ length: originLength }, (_, i) => (originLength - i) * k - 1);
    // np.linspace(0, M, n, endpoint=False) = i·(M/n), floored
    const stride = originLength / numInferenceSteps;
    this.schedule = Array.from({ length: numInferenceSteps }, (_, i) => origin[Math.floor(i * stride)]);
    this.numInferenceSteps = numInferenceSteps;
    this.stepIndex = null;
  }

  /** One multistep consistency step; every step but the last draws noise from `opts.generator`. */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, opts: StepOptions = {}): StepResult {
    const numInferenceSteps = this.checkStep(modelOutput, sample);
    const cfg = this.config;
    // 1. this step's index (found on the first call, so a loop may start mid-schedule) and the next timestep
    if (this.stepIndex === null) this.stepIndex = indexForTimestep(this.schedule, timestep);
    const prevIndex = this.stepIndex + 1;
    const prevTimestep = prevIndex < this.schedule.length ? this.schedule[prevIndex] : timestep;
    // 2. ᾱₜ, ᾱ_prev
    const alphaProdT = this.alphaAt(timestep);
    const alphaProdTPrev = prevTimestep >= 0 ? this.alphaAt(prevTimestep) : this.finalAlphaCumprod;
    const betaProdTPrev = f32(1 - alphaProdTPrev);
    // 3. boundary-condition scalings c_skip, c_out
    const { cSkip, cOut } = boundaryScalings(timestep, cfg.timestepScaling);
    // 4. x̂₀ from the model output, clipped or thresholded
    let predOriginalSample = predictOriginal(cfg.predictionType, modelOutput, sample, alphaProdT);
    predOriginalSample = clipOrThreshold(predOriginalSample, cfg, opts);
    // 5. f(x, t) = c_out·x̂₀ + c_skip·x
    const denoised = predOriginalSample.map((x0, i) => f32(f32(cOut * x0) + f32(cSkip * sample[i])));
    // 6. noise forward to the next timestep: √ᾱ_prev·f + √(1−ᾱ_prev)·z (not after the last step)
    let prevSample = denoised;
    if (this.stepIndex !== numInferenceSteps - 1) {
      const noise = drawNoise(opts.generator, sample.length);
      const a = f32(Math.sqrt(alphaProdTPrev));
      const b = f32(Math.sqrt(betaProdTPrev));
      prevSample = denoised.map((d, i) => f32(f32(a * d) + f32(b * noise[i])));
    }
    this.stepIndex += 1;
    return { prevSample, predOriginalSample: denoised };
  }
}

/**
 * c_skip(t) = σ²_data/((s·t)² + σ²_data), c_out(t) = s·t/√((s·t)² + σ²_data), s = timestep_scaling, in float32 as
 * diffusers computes them from a timestep tensor.
 */
export function boundaryScalings(timestep: number, timestepScaling: number): { cSkip: number; cOut: number } {
  const scaled = f32(timestep * f32(timestepScaling));
  const denom = f32(f32(scaled * scaled) + SIGMA_DATA ** 2);
  return { cSkip: f32(SIGMA_DATA ** 2 / denom), cOut: f32(scaled / f32(Math.sqrt(denom))) };
}
