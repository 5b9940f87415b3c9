/**
 * DEISMultistepScheduler against runs recorded from diffusers' own class (test/fixtures/schedulers/deis.json,
 * record_deis.py): timesteps, σs, init_noise_sigma, every step's Σ|x|, the final sample and x̂₀.
 *
 * The recording is torch 2.13's, whose float32 arithmetic is not the torch 1.13 the other fixtures (and numpyTorch.ts)
 * follow: its linspace rounds 233 of SD's 1000 √β one ulp differently, and its 0-dim sqrt (αₜ = 1/√(σ²+1)) is not
 * always correctly rounded. Those ulps grow to ~2e-5 of the sample over 20 steps of a 3rd-order solver, and to 3.4e-4
 * on the cosine schedule, where α at t = 999 is 5e-5 and every step divides by it; a wrong coefficient moves the
 * sample by percents. The exponential grid's first timestep is int64(σ→t(σ_max)): 999 from σ_max as torch 1.13 makes it,
 * 998 (998.99998…) from torch 2.13's; that case compares timesteps within 1.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEISMultistepScheduler } from '../../../src/engine/schedulers/deis';
import { loadCases, replay } from '../../fixtures/schedulers/sigmaReplay';

/** max |a − b| / max(|b|, floor) element-wise (floor 1e-6 for schedules) or over the array's scale (samples). */
function err(actual: ArrayLike<number>, expected: ArrayLike<number>, normwise: boolean): number {
  assert.equal(actual.length, expected.length, 'length');
  let e = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const x = Math.fround(expected[i]);
    const d = Math.abs(actual[i] - x);
    e = Math.max(e, normwise ? d : d / Math.max(Math.abs(x), 1e-6));
    scale = Math.max(scale, Math.abs(x));
  }
  if (Number.isNaN(e)) return Infinity;
  return normwise ? e / Math.max(scale, 1e-30) : e;
}

describe('DEISMultistepScheduler against recorded diffusers runs (deis.json)', () => {
  for (const c of loadCases('deis.json')) {
    test(`${c.name}: ${c.steps} steps`, () => {
      const tolerance = c.name === 'cosine' ? 1e-3 : 1e-4;
      const r = replay(new DEISMultistepScheduler(c.config), c);
      if (c.name === 'exponential') assert.ok(r.timesteps.every((t, i) => Math.abs(t - c.timesteps[i]) <= 1), 'timesteps');
      else assert.ok(err(r.timesteps, c.timesteps, false) < 1e-6, 'timesteps');
      assert.ok(err(r.sigmas, c.sigmas, false) < 1e-6, 'sigmas');
      assert.equal(r.initNoiseSigma, c.init_noise_sigma);
      if (c.noised) assert.ok(err(r.noised ?? [], c.noised, true) < 1e-6, 'add_noise');
      assert.equal(r.stepSums.length, c.step_sums.length, 'number of steps');
      assert.ok(err(r.stepSums.map((s) => s[1]), c.step_sums.map((s) => s[1]), true) < tolerance, 'Σ|x| per step');
      assert.ok(err(r.finalSample, c.final_sample, true) < tolerance, 'final sample');
    });
  }
});
