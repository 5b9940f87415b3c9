/**
 * Every registered sampler through the `Scheduler` interface only, as the pipeline uses it (STYLE.md, Tests):
 * timesteps, input scaling, step shapes, addNoise, starting mid-schedule, config errors, per-image noise streams.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScheduler, listSamplers, type Scheduler } from '../../../src/engine/schedulers';
import { TorchGenerator, type Rng } from '../../../src/engine/random';
import { dummyModel } from '../../fixtures/schedulers/dummy';

const SD15 = {
  _class_name: 'PNDMScheduler', beta_end: 0.012, beta_schedule: 'scaled_linear', beta_start: 0.00085,
  num_train_timesteps: 1000, set_alpha_to_one: false, skip_prk_steps: true, steps_offset: 1, clip_sample: false,
};
const STEPS = 10;
/** Timesteps per setTimesteps(10): PLMS repeats one step, Heun evaluates every step but the first twice. */
const EXPECTED_COUNT: Record<string, number> = { plms: STEPS + 1, heun: 2 * STEPS - 1, dpm2: 2 * STEPS - 1, dpm2_karras: 2 * STEPS - 1, dpm2_a: 2 * STEPS - 1, dpm2_a_karras: 2 * STEPS - 1 };
const IMAGE = 4 * 8 * 8;

/** Two different images of 4×8×8, batch-major. */
function twoImages(): Float32Array {
  return Float32Array.from({ length: 2 * IMAGE }, (_, i) => Math.fround(Math.sin(i * 0.37) * (i < IMAGE ? 0.8 : 1.3)));
}

function generators(seeds: number[]): Rng[] {
  return seeds.map((s) => new TorchGenerator(s));
}

/** The pipeline's loop: latents·initNoiseSigma, then scaleModelInput → model → step over `timesteps`. */
function denoise(s: Scheduler, latents: Float32Array, timesteps: number[], generator: Rng[], eta = 0): Float32Array {
  let x = latents;
  for (const t of timesteps) {
    const out = dummyModel(s.scaleModelInput(x, t), t);
    x = s.step(out, t, x, { generator, eta }).prevSample;
  }
  return x;
}

function isUniformScaling(input: Float32Array, output: Float32Array): boolean {
  const c = output[1] / input[1];
  return c > 0 && c <= 1 && input.every((v, i) => Math.abs(output[i] - c * v) <= 1e-6 * Math.abs(v) + 1e-12);
}

for (const { id } of listSamplers()) {
  test(`${id}: setTimesteps gives a descending schedule inside the training range`, () => {
    const s = createScheduler(id, SD15);
    s.setTimesteps(STEPS);
    assert.equal(s.timesteps.length, EXPECTED_COUNT[id] ?? STEPS);
    // DPM2 a's σ_mid = √(σᵢ·σ_down) may lie below σᵢ₊₁ (σ_down < σᵢ₊₁), so its pairs are not monotone (as in diffusers)
    const monotone = !id.startsWith('dpm2_a');
    assert.ok(s.timesteps.every((t, i) => t >= 0 && t <= 999 && (!monotone || i === 0 || t <= s.timesteps[i - 1])), `${s.timesteps}`);
    assert.ok(s.timesteps[0] > s.timesteps[s.timesteps.length - 1]);
  });

  test(`${id}: scaleModelInput is the identity or one positive factor ≤ 1 (1/√(σ²+1))`, () => {
    const s = createScheduler(id, SD15);
    s.setTimesteps(STEPS);
    const x = twoImages();
    const scaled = s.scaleModelInput(x, s.timesteps[0]);
    assert.equal(scaled.length, x.length);
    assert.ok(scaled === x || isUniformScaling(x, scaled));
  });

  test(`${id}: step returns finite Float32Arrays of the sample's length over a whole loop`, () => {
    const s = createScheduler(id, SD15);
    s.setTimesteps(STEPS);
    let x: Float32Array = twoImages().map((v) => Math.fround(v * s.initNoiseSigma));
    const gens = generators([1, 2]);
    for (const t of s.timesteps) {
      const r = s.step(dummyModel(s.scaleModelInput(x, t), t), t, x, { generator: gens });
      assert.ok(r.prevSample instanceof Float32Array && r.prevSample.length === x.length);
      if (r.predOriginalSample) assert.equal(r.predOriginalSample.length, x.length);
      assert.ok(r.prevSample.every(Number.isFinite), `non-finite at t=${t}`);
      x = r.prevSample;
    }
  });

  test(`${id}: addNoise is linear in (original, noise) and keeps the length`, () => {
    const s = createScheduler(id, SD15);
    s.setTimesteps(STEPS);
    const t = s.timesteps[3];
    const x = twoImages();
    const n = new TorchGenerator(5).randn(x.length);
    const zero = new Float32Array(x.length);
    const both = s.addNoise(x, n, t);
    const onlyX = s.addNoise(x, zero, t);
    const onlyN = s.addNoise(zero, n, t);
    assert.equal(both.length, x.length);
    assert.ok(isUniformScaling(x, onlyX) || onlyX.every((v, i) => v === x[i]), 'original scaled by one factor');
    const noiseScale = onlyN[0] / n[0];
    assert.ok(noiseScale > 0 && onlyN.every((v, i) => Math.abs(v - noiseScale * n[i]) <= 1e-6 * Math.abs(v) + 1e-9));
    assert.ok(both.every((v, i) => Math.abs(v - (onlyX[i] + onlyN[i])) <= 1e-6 * (Math.abs(v) + 1)));
  });

  test(`${id}: a loop can start mid-schedule (img2img: addNoise at timesteps[k], then timesteps.slice(k))`, () => {
    const s = createScheduler(id, SD15);
    s.setTimesteps(STEPS);
    // diffusers' img2img start: timesteps[t_start · order:]
    const k = (STEPS / 2) * s.order;
    const start = s.addNoise(twoImages(), new TorchGenerator(3).randn(2 * IMAGE), s.timesteps[k]);
    const out = denoise(s, start, s.timesteps.slice(k), generators([7, 8]));
    assert.ok(out.every(Number.isFinite));
  });

  test(`${id}: image i of a batch equals the same image run alone with its own generator`, () => {
    const batch = createScheduler(id, SD15);
    batch.setTimesteps(STEPS);
    const latents = twoImages();
    const together = denoise(batch, latents, batch.timesteps, generators([11, 12]));
    const alone = createScheduler(id, SD15);
    alone.setTimesteps(STEPS);
    const second = denoise(alone, latents.slice(IMAGE), alone.timesteps, generators([12]));
    assert.deepEqual(Array.from(together.subarray(IMAGE)), Array.from(second));
  });

  test(`${id}: bad config values throw and list the allowed ones`, () => {
    assert.throws(() => createScheduler(id, { ...SD15, prediction_type: 'noise' }), /prediction_type.*"epsilon"/);
    assert.throws(() => createScheduler(id, { ...SD15, beta_schedule: 'cubic' }), /beta_schedule.*"scaled_linear"/);
    assert.throws(() => createScheduler(id, { ...SD15, timestep_spacing: 'uniform' }), /timestep_spacing.*"trailing"/);
  });
}

test('DDIM with η = 1: image i of a batch equals the same image run alone', () => {
  const run = (latents: Float32Array, seeds: number[]): Float32Array => {
    const s = createScheduler('ddim', SD15);
    s.setTimesteps(STEPS);
    return denoise(s, latents, s.timesteps, generators(seeds), 1);
  };
  const together = run(twoImages(), [11, 12]);
  assert.deepEqual(Array.from(together.subarray(IMAGE)), Array.from(run(twoImages().slice(IMAGE), [12])));
  assert.notDeepEqual(Array.from(together.subarray(IMAGE)), Array.from(run(twoImages().slice(IMAGE), [13])));
});

test('every sampler at the same seed is reproducible call after call', () => {
  for (const { id } of listSamplers()) {
    const run = (): number[] => {
      const s = createScheduler(id, SD15);
      s.setTimesteps(STEPS);
      return Array.from(denoise(s, twoImages(), s.timesteps, generators([21, 22])).subarray(0, 8));
    };
    assert.deepEqual(run(), run(), id);
  }
});
