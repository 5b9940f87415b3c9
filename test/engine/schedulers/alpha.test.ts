/**
 * Full loops of DDIM, DDPM, PNDM and LCM against numbers recorded from diffusers' own scheduler code
 * (test/fixtures/schedulers/ddpm_family.json, made by record_ddpm_family.py) and diffusers' test-suite results
 * (../shared/data/reference/scheduler_loops.json).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DDIMScheduler } from '../../../src/engine/schedulers/ddim';
import { DDPMScheduler } from '../../../src/engine/schedulers/ddpm';
import { PNDMScheduler } from '../../../src/engine/schedulers/pndm';
import { LCMScheduler } from '../../../src/engine/schedulers/lcm';
import type { Scheduler } from '../../../src/engine/schedulers/types';
import { TorchGenerator, type Rng } from '../../../src/engine/random';
import { dummyModel, dummySampleDeter, sumAbs } from '../../fixtures/schedulers/dummy';

interface Summary { pick: number[]; sumAbs: number; sumSq: number }
interface RecordedCase {
  name: string; scheduler: string; config: Record<string, unknown>; steps: number;
  eta?: number; seed?: number; seeds?: number[]; start?: number; doubled?: 'learned' | 'learned_range';
  /** Longer schedules keep their first and last 5 timesteps around "...", and every 100th Σ|x| plus the last. */
  timesteps: Array<number | '...'>; stepSumAbs: number[]; final: Summary; noised?: Summary; finalPredOriginal?: Summary;
}
interface Recorded {
  cases: RecordedCase[];
  timestepGrid: Array<{ scheduler: string; config: Record<string, unknown>; steps: number; timesteps: number[] }>;
  schedules: Array<{ config: Record<string, unknown>; pick: number[]; alphasCumprod: number[]; betas: number[] }>;
}
interface ReferenceLoop {
  test: string; scheduler: string; config: Record<string, unknown>; num_inference_steps: number;
  final_sample_first8: number[]; timesteps: number[]; uses_torch_rng: boolean;
  expected_from_test: Record<string, { value: number; abs_tol: number }>;
}

const recorded: Recorded = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../fixtures/schedulers/ddpm_family.json'), 'utf8'));
const referencePath = path.resolve(__dirname, '../../../../shared/data/reference/scheduler_loops.json');

const CLASSES: Record<string, new (config: Record<string, unknown>) => Scheduler> = {
  DDIMScheduler, DDPMScheduler, PNDMScheduler, LCMScheduler,
};
const PICK = Array.from({ length: 25 }, (_, i) => i * 31);
const f32 = Math.fround;

function generatorFor(c: { seed?: number; seeds?: number[] }): Rng | Rng[] | undefined {
  if (c.seeds) return c.seeds.map((s) => new TorchGenerator(s));
  return c.seed === undefined ? undefined : new TorchGenerator(c.seed);
}

/** The dummy model with diffusers' predicted variance appended on the channel axis (B×2C×8×8). */
function doubledModel(x: Float32Array, t: number, kind: 'learned' | 'learned_range'): Float32Array {
  const eps = dummyModel(x, t);
  const per = x.length / 4;
  const out = new Float32Array(2 * x.length);
  for (let b = 0; b < 4; b++) {
    out.set(eps.subarray(b * per, (b + 1) * per), 2 * b * per);
    for (let i = 0; i < per; i++) {
      const v = x[b * per + i];
      out[(2 * b + 1) * per + i] = kind === 'learned_range' ? f32(Math.tanh(f32(f32(v * 3) - 1))) : f32(f32(Math.abs(v) * f32(0.01)) + f32(1e-4));
    }
  }
  return out;
}

function runCase(c: RecordedCase): { timesteps: number[]; stepSumAbs: number[]; final: Float32Array; predOriginal?: Float32Array; noised?: Float32Array } {
  const scheduler = new CLASSES[c.scheduler](c.config);
  scheduler.setTimesteps(c.steps);
  const timesteps = scheduler.timesteps.slice();
  const generator = generatorFor(c);
  let x = dummySampleDeter();
  let noised: Float32Array | undefined;
  if (c.start) {
    x = scheduler.addNoise(x, dummySampleDeter(true), timesteps[c.start]);
    noised = x;
  }
  const stepSumAbs: number[] = [];
  let predOriginal: Float32Array | undefined;
  for (const t of timesteps.slice(c.start ?? 0)) {
    const output = c.doubled ? doubledModel(x, t, c.doubled) : dummyModel(x, t);
    const r = scheduler.step(output, t, x, { generator, eta: c.eta });
    x = r.prevSample;
    predOriginal = r.predOriginalSample;
    stepSumAbs.push(sumAbs(x));
  }
  return { timesteps, stepSumAbs, final: x, predOriginal, noised };
}

function maxRelDiff(actual: number[], expected: number[]): number {
  return Math.max(0, ...actual.map((a, i) => Math.abs(a - expected[i]) / Math.max(1, Math.abs(expected[i]))));
}

/**
 * Relative tolerance per case. Measured: every loop bit-identical to diffusers on torch 1.13 except those through
 * log/exp/tanh (≤ 1e-7, libm against V8's Math). diffusers' own tests allow ~5e-5 on Σ|x|.
 */
function toleranceFor(c: RecordedCase): number {
  return c.doubled || c.config.variance_type === 'fixed_small_log' ? 1e-6 : 1e-7;
}

for (const c of recorded.cases) {
  test(`${c.name}: matches diffusers`, () => {
    const got = runCase(c);
    const long = c.timesteps.includes('...');
    const timesteps = long ? [...got.timesteps.slice(0, 5), '...', ...got.timesteps.slice(-5)] : got.timesteps;
    const stepSums = long ? [...got.stepSumAbs.filter((_, i) => i % 100 === 0), ...got.stepSumAbs.slice(-1)] : got.stepSumAbs;
    assert.deepEqual(timesteps, c.timesteps);
    if (long) assert.equal(got.timesteps.length, c.steps);
    const tol = toleranceFor(c);
    if (c.noised && got.noised) assert.ok(maxRelDiff(PICK.map((i) => got.noised![i]), c.noised.pick) === 0, 'addNoise differs');
    const stepDiff = maxRelDiff(stepSums, c.stepSumAbs);
    assert.ok(stepDiff <= tol, `per-step Σ|x| off by ${stepDiff} (tolerance ${tol})`);
    const pickDiff = maxRelDiff(PICK.map((i) => got.final[i]), c.final.pick);
    assert.ok(pickDiff <= tol, `final values off by ${pickDiff} (tolerance ${tol})`);
    if (c.finalPredOriginal && got.predOriginal) {
      const x0Diff = maxRelDiff(PICK.map((i) => got.predOriginal![i]), c.finalPredOriginal.pick);
      assert.ok(x0Diff <= tol, `final x̂₀ off by ${x0Diff}`);
    }
  });
}

test('timesteps match diffusers for every spacing, config and step count recorded', () => {
  const mismatches = recorded.timestepGrid.filter((g) => {
    const s = new CLASSES[g.scheduler](g.config);
    s.setTimesteps(g.steps);
    return JSON.stringify(s.timesteps) !== JSON.stringify(g.timesteps);
  });
  assert.deepEqual(mismatches.map((m) => `${m.scheduler} ${JSON.stringify(m.config)} n=${m.steps}`), []);
});

test('alphas_cumprod equal diffusers float32 buffers exactly', () => {
  for (const s of recorded.schedules) {
    const scheduler = new DDIMScheduler(s.config);
    assert.deepEqual(s.pick.map((i) => scheduler.alphasCumprod[i]), s.alphasCumprod, JSON.stringify(s.config));
  }
});

const referenceLoops: ReferenceLoop[] = fs.existsSync(referencePath)
  ? (JSON.parse(fs.readFileSync(referencePath, 'utf8')) as { full_loop_tests: ReferenceLoop[] }).full_loop_tests
  : [];
for (const ref of referenceLoops.filter((r) => r.scheduler in CLASSES)) {
  test(`${ref.test} (diffusers test suite): within the test's own tolerances`, () => {
    const scheduler = new CLASSES[ref.scheduler](ref.config);
    // DDPM's test loops over every training timestep without set_timesteps: the same as setTimesteps(T)
    scheduler.setTimesteps(ref.num_inference_steps);
    assert.deepEqual(scheduler.timesteps, ref.timesteps);
    const generator = ref.uses_torch_rng || ref.scheduler !== 'DDIMScheduler' ? new TorchGenerator(0) : undefined;
    let x = dummySampleDeter();
    for (const t of scheduler.timesteps) x = scheduler.step(dummyModel(x, t), t, x, { generator, eta: 0 }).prevSample;
    const sum = sumAbs(x);
    const { result_sum: expSum, result_mean: expMean } = ref.expected_from_test;
    if (expSum) assert.ok(Math.abs(sum - expSum.value) <= expSum.abs_tol, `Σ|x| ${sum} vs ${expSum.value}`);
    if (expMean) assert.ok(Math.abs(sum / x.length - expMean.value) <= expMean.abs_tol, `mean ${sum / x.length} vs ${expMean.value}`);
    assert.ok(maxRelDiff(Array.from(x.subarray(0, 8)), ref.final_sample_first8) <= 1e-5, 'first 8 values differ');
  });
}
