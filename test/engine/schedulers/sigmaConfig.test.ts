/**
 * Config parsing, errors and the small pure pieces of the σ schedulers, checked against diffusers' defaults and
 * hand-worked values.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DPMSolverMultistepScheduler } from '../../../src/engine/schedulers/dpmSolverMultistep';
import { EulerDiscreteScheduler } from '../../../src/engine/schedulers/euler';
import { EulerAncestralDiscreteScheduler } from '../../../src/engine/schedulers/eulerAncestral';
import { HeunDiscreteScheduler } from '../../../src/engine/schedulers/heun';
import { lmsCoefficient } from '../../../src/engine/schedulers/lms';
import { UniPCMultistepScheduler } from '../../../src/engine/schedulers/uniPc';
import { multistepTimesteps, sigmaToT } from '../../../src/engine/schedulers/sigmas';
import { FakeRng } from '../../fixtures/schedulers/sigmaReplay';

/** Stable Diffusion 1.5's scheduler_config.json (written for PNDMScheduler). */
const SD15 = {
  _class_name: 'PNDMScheduler', _diffusers_version: '0.6.0', beta_end: 0.012, beta_schedule: 'scaled_linear',
  beta_start: 0.00085, clip_sample: false, num_train_timesteps: 1000, set_alpha_to_one: false, skip_prk_steps: true,
  steps_offset: 1, trained_betas: null,
};

describe('σ scheduler configs', () => {
  test('Euler reads SD 1.5 config keys, ignores the others and takes its own defaults for the rest', () => {
    assert.deepEqual(new EulerDiscreteScheduler(SD15).config, {
      numTrainTimesteps: 1000, betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear', trainedBetas: null,
      predictionType: 'epsilon', timestepSpacing: 'linspace', stepsOffset: 1, rescaleBetasZeroSnr: false,
      interpolationType: 'linear', sigmaSchedule: 'interpolated', sigmaMin: null, sigmaMax: null,
      timestepType: 'discrete', finalSigmasType: 'zero',
    });
  });

  test('Heun defaults to its own betas (0.00085 … 0.012, linear)', () => {
    const c = new HeunDiscreteScheduler({}).config;
    assert.deepEqual([c.betaStart, c.betaEnd, c.betaSchedule, c.clipSample], [0.00085, 0.012, 'linear', false]);
  });

  test('DPM-Solver: null means the default; deis and bh2 map to dpmsolver++ and midpoint as diffusers does', () => {
    const c = new DPMSolverMultistepScheduler({ solver_order: null, algorithm_type: 'deis', solver_type: 'bh2', lambda_min_clipped: null }).config;
    assert.deepEqual(
      [c.solverOrder, c.algorithmType, c.solverType, c.lowerOrderFinal, c.finalSigmasType, c.lambdaMinClipped],
      [2, 'dpmsolver++', 'midpoint', true, 'zero', -Infinity],
    );
  });

  test('an unsupported value throws and lists the allowed ones', () => {
    assert.throws(() => new EulerDiscreteScheduler({ timestep_spacing: 'middle' }),
      /"timestep_spacing" must be one of "leading", "linspace", "trailing"; got "middle"/);
    assert.throws(() => new EulerDiscreteScheduler({ interpolation_type: 'cubic' }),
      /"interpolation_type" must be one of "linear", "log_linear"; got "cubic"/);
    assert.throws(() => new DPMSolverMultistepScheduler({ solver_order: 4 }), /"solver_order" must be an integer in \[1, 3\]; got 4/);
  });

  test('combinations diffusers rejects or cannot run are refused with the reason', () => {
    assert.throws(() => new EulerAncestralDiscreteScheduler({ prediction_type: 'sample' }), /"epsilon" or "v_prediction"; got "sample"/);
    assert.throws(() => new EulerDiscreteScheduler({ use_karras_sigmas: true, use_exponential_sigmas: true }), /Only one of/);
    assert.throws(() => new HeunDiscreteScheduler({ use_beta_sigmas: true }), /use_beta_sigmas is not supported/);
    assert.throws(() => new DPMSolverMultistepScheduler({ algorithm_type: 'dpmsolver' }), /final_sigmas_type "zero" is not supported with algorithm_type "dpmsolver"/);
    assert.throws(() => new UniPCMultistepScheduler({ predict_x0: false }), /needs final_sigmas_type "sigma_min"/);
  });

  test('setTimesteps rejects a step count outside [1, num_train_timesteps]', () => {
    assert.throws(() => new EulerDiscreteScheduler({}).setTimesteps(0), /numInferenceSteps must be an integer in \[1, 1000\]/);
    assert.throws(() => new UniPCMultistepScheduler({}).setTimesteps(1001), /numInferenceSteps must be an integer in \[1, 1000\]/);
  });
});

describe('σ scheduler pieces', () => {
  test('LMS coefficients integrate the Lagrange basis exactly: Σ cⱼ·p(σ₍ₜ₋ⱼ₎) = ∫p for p of degree < order', () => {
    const sigmas = new Float32Array([14.6, 9.5, 6.25, 4.125, 2.5, 0]);
    const t = 3;
    const [a, b] = [sigmas[t], sigmas[t + 1]];
    const c = [0, 1, 2, 3].map((j) => lmsCoefficient(sigmas, 4, t, j));
    const integral = (p: (s: number) => number): number => c.reduce((acc, cj, j) => acc + cj * p(sigmas[t - j]), 0);
    const got = [integral(() => 1), integral((s) => s), integral((s) => s ** 2), integral((s) => s ** 3)];
    const want = [b - a, (b ** 2 - a ** 2) / 2, (b ** 3 - a ** 3) / 3, (b ** 4 - a ** 4) / 4];
    got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-12 * Math.max(1, Math.abs(want[i])), `degree ${i}: ${g} vs ${want[i]}`));
  });

  test('sigmaToT interpolates log σ between training timesteps and clamps at the ends', () => {
    const logSigmas = new Float32Array([Math.log(0.1), Math.log(1), Math.log(10)].map(Math.fround));
    assert.deepEqual(
      [sigmaToT(1, logSigmas), sigmaToT(Math.sqrt(10), logSigmas), sigmaToT(0.01, logSigmas), sigmaToT(100, logSigmas)].map((v) => Math.round(v * 1e6) / 1e6),
      [1, 1.5, 0, 2],
    );
  });

  test('multistep timesteps round half to even as numpy does (1000 steps in 16, trailing)', () => {
    assert.deepEqual(multistepTimesteps('trailing', 1000, 1000, 16, 0),
      [999, 937, 874, 811, 749, 687, 624, 561, 499, 437, 374, 311, 249, 187, 124, 61]); // 812.5 → 812, not 813
  });

  test('Euler a draws its noise from the generator, one stream per image with an array', () => {
    const run = (generator: FakeRng | FakeRng[]): Float32Array => {
      const s = new EulerAncestralDiscreteScheduler({});
      s.setTimesteps(4);
      const x = new Float32Array(8).fill(1);
      return s.step(new Float32Array(8), s.timesteps[0], x, { generator }).prevSample;
    };
    const single = run(new FakeRng(0));
    const perImage = run([new FakeRng(0), new FakeRng(0)]);
    // image 1 of the per-image run repeats image 0's numbers; the single stream continues instead
    assert.deepEqual([Array.from(perImage.subarray(4)), Array.from(perImage.subarray(0, 4))], [Array.from(perImage.subarray(0, 4)), Array.from(single.subarray(0, 4))]);
    assert.notDeepEqual(Array.from(single.subarray(4)), Array.from(single.subarray(0, 4)));
    assert.throws(() => new EulerAncestralDiscreteScheduler({}).step(new Float32Array(8), 999, new Float32Array(8)), /setTimesteps/);
    const s = new EulerAncestralDiscreteScheduler({});
    s.setTimesteps(4);
    assert.throws(() => s.step(new Float32Array(8), s.timesteps[0], new Float32Array(8)), /pass opts.generator/);
  });

  test('a loop may start mid-schedule: Heun starts at the second copy of a doubled timestep', () => {
    const s = new HeunDiscreteScheduler({});
    s.setTimesteps(5);
    // timesteps [t0, t1, t1, t2, t2, …], σs [σ0, σ1, σ1, σ2, σ2, …]: from t2, diffusers takes index 4 (a first
    // stage from σ2 to σ3); index 3 would be a second stage with dt = 0
    const t = s.timesteps[3];
    const x = new Float32Array(4).fill(1);
    const out = s.step(new Float32Array(4).fill(1), t, x).prevSample;
    const dt = Math.fround(s.sigmas[5] - s.sigmas[4]);
    assert.deepEqual(Array.from(out), new Array(4).fill(Math.fround(1 + dt)));
    assert.equal(s.isFirstStage, false);
  });

  test('setBeginIndex fixes the start (diffusers set_begin_index): addNoise and the first step use that σ', () => {
    const s = new EulerDiscreteScheduler(SD15);
    s.setTimesteps(10);
    s.setBeginIndex(3);
    const noised = s.addNoise(new Float32Array([0.5]), new Float32Array([1]), 12345); // timestep ignored once begin is set
    const out = s.step(new Float32Array([0]), s.timesteps[0], new Float32Array([1])).prevSample; // ε = 0: x stays
    assert.deepEqual([noised[0], out[0]], [Math.fround(0.5 + s.sigmas[3]), 1]);
    assert.equal(s.addNoise(new Float32Array([0]), new Float32Array([1]), 0)[0], s.sigmas[4]); // the advanced index
  });
});
