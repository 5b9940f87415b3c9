/**
 * The σ schedulers (Euler, Euler a, Heun, LMS, DPM-Solver, UniPC) against diffusers:
 * 1. diffusers' own full-loop tests (../shared/data/reference/scheduler_loops.json), within their tolerances;
 * 2. runs recorded from diffusers main with torch 1.13 (test/fixtures/schedulers/<name>.json): timesteps, σs,
 *    init_noise_sigma, the sum of every step's sample and the final sample, to float32 rounding noise.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TorchGenerator } from '../../../src/engine/random';
import { DPMSolverMultistepScheduler } from '../../../src/engine/schedulers/dpmSolverMultistep';
import { EulerDiscreteScheduler } from '../../../src/engine/schedulers/euler';
import { EulerAncestralDiscreteScheduler } from '../../../src/engine/schedulers/eulerAncestral';
import { HeunDiscreteScheduler } from '../../../src/engine/schedulers/heun';
import { LMSDiscreteScheduler } from '../../../src/engine/schedulers/lms';
import { UniPCMultistepScheduler } from '../../../src/engine/schedulers/uniPc';
import type { Scheduler } from '../../../src/engine/schedulers/types';
import { dummyModel, dummySampleDeter, sumAbs } from '../../fixtures/schedulers/dummy';
import { loadCases, replay } from '../../fixtures/schedulers/sigmaReplay';

type SigmaScheduler = Scheduler & { sigmas: Float32Array };
type SigmaClass = new (config: Record<string, unknown>) => SigmaScheduler;

const CLASSES: Record<string, SigmaClass> = {
  EulerDiscreteScheduler, EulerAncestralDiscreteScheduler, HeunDiscreteScheduler, LMSDiscreteScheduler,
  DPMSolverMultistepScheduler, UniPCMultistepScheduler,
};
const FIXTURES: Record<string, string> = {
  EulerDiscreteScheduler: 'euler.json', EulerAncestralDiscreteScheduler: 'eulerAncestral.json',
  HeunDiscreteScheduler: 'heun.json', LMSDiscreteScheduler: 'lms.json',
  DPMSolverMultistepScheduler: 'dpmSolverMultistep.json', UniPCMultistepScheduler: 'uniPc.json',
};

/** max |a − b| / max |b|: the error relative to the array's scale. */
function normwiseError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length, 'length');
  let err = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(actual[i] - Math.fround(expected[i])));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return Number.isNaN(err) ? Infinity : err / Math.max(scale, 1e-30);
}

/** Element-wise relative error, for schedules (timesteps, σs). */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length, 'length');
  let err = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.fround(expected[i]);
    err = Math.max(err, Math.abs(actual[i] - e) / Math.max(Math.abs(e), 1e-6));
  }
  return Number.isNaN(err) ? Infinity : err;
}

describe('diffusers test-suite full loops (scheduler_loops.json)', () => {
  interface LoopCase {
    test: string; scheduler: string; config: Record<string, unknown>; num_inference_steps: number; loop: string;
    final_sample_first8: number[]; timesteps: number[]; sigmas: number[] | null; init_noise_sigma: number;
    uses_torch_rng: boolean; expected_from_test: Record<string, { value: number; abs_tol: number }>;
  }
  const file = path.resolve(__dirname, '../../../../shared/data/reference/scheduler_loops.json');
  const cases = (JSON.parse(fs.readFileSync(file, 'utf8')) as { full_loop_tests: LoopCase[] }).full_loop_tests
    .filter((c) => c.scheduler in CLASSES);

  test('covers every σ scheduler of the reference file', () => {
    assert.deepEqual(cases.map((c) => c.scheduler).sort(), Object.keys(CLASSES).sort());
  });

  for (const c of cases) {
    test(`${c.test}: result_sum/result_mean within the diffusers test's tolerance`, () => {
      const scheduler = new CLASSES[c.scheduler](c.config);
      scheduler.setTimesteps(c.num_inference_steps);
      assert.ok(relativeError(scheduler.timesteps, c.timesteps) < 1e-6, 'timesteps');
      if (c.sigmas) assert.ok(relativeError(scheduler.sigmas, c.sigmas) < 1e-6, 'sigmas');
      assert.equal(scheduler.initNoiseSigma, Math.fround(c.init_noise_sigma));
      // diffusers' test loop: x = scale_model_input(x, t); x = step(model(x, t), t, x).prev_sample
      const scalesInit = !c.loop.includes('no init_noise_sigma') && c.loop.includes('init_noise_sigma');
      const sigma0 = Math.fround(scheduler.initNoiseSigma);
      let x = scalesInit ? dummySampleDeter().map((v) => v * sigma0) : dummySampleDeter();
      const generator = new TorchGenerator(0);
      for (const t of scheduler.timesteps) {
        x = scheduler.scaleModelInput(x, t);
        x = scheduler.step(dummyModel(x, t), t, x, { generator }).prevSample;
      }
      const sum = sumAbs(x);
      const { result_sum: expectedSum, result_mean: expectedMean } = c.expected_from_test;
      if (expectedSum) assert.ok(Math.abs(sum - expectedSum.value) <= expectedSum.abs_tol, `sum ${sum} vs ${expectedSum.value}`);
      const mean = sum / x.length;
      assert.ok(Math.abs(mean - expectedMean.value) <= expectedMean.abs_tol, `mean ${mean} vs ${expectedMean.value}`);
      // tighter: the first 8 values diffusers' run ended with
      assert.ok(normwiseError(x.subarray(0, 8), c.final_sample_first8) < 2e-6, 'final_sample_first8');
    });
  }
});

for (const [className, fixture] of Object.entries(FIXTURES)) {
  describe(`${className} against recorded diffusers runs (${fixture})`, () => {
    for (const c of loadCases(fixture)) {
      test(`${c.name}: ${c.steps} steps match diffusers`, () => {
        const r = replay(new CLASSES[className](c.config), c);
        // Karras/exponential timesteps come from numpy's float32 log, which is not correctly rounded
        assert.ok(relativeError(r.timesteps, c.timesteps) < 1e-6, 'timesteps');
        assert.ok(relativeError(r.sigmas, c.sigmas) < 1e-6, 'sigmas');
        assert.ok(Math.abs(r.initNoiseSigma / Math.fround(c.init_noise_sigma) - 1) < 1e-6, 'init_noise_sigma');
        if (c.noised) assert.ok(normwiseError(r.noised ?? [], c.noised) < 1e-6, 'add_noise');
        assert.equal(r.stepSums.length, c.step_sums.length, 'number of steps');
        assert.ok(normwiseError(r.stepSums.map((s) => s[1]), c.step_sums.map((s) => s[1])) < 1e-5, 'Σ|x| per step');
        assert.ok(normwiseError(r.finalSample, c.final_sample) < 5e-6, 'final sample');
        if (c.last_pred_original) assert.ok(normwiseError(r.lastPredOriginal ?? [], c.last_pred_original) < 5e-6, 'x̂₀');
      });
    }
  });
}
