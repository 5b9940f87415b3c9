/**
 * KDPM2DiscreteScheduler ("DPM2") and KDPM2AncestralDiscreteScheduler ("DPM2 a") against runs recorded from diffusers'
 * own classes (test/fixtures/schedulers/kdpm2.json, kdpm2Ancestral.json; record_kdpm2.py): timesteps (σ_mid's interleaved), σs, init_noise_sigma, every step's Σ|x|, the final sample and x̂₀.
 * Recorded with torch 2.13, whose float32 linspace differs from torch 1.13's (numpyTorch.ts) by an ulp here and there
 * (see schedulers.deis.test.ts): the samples agree to ~4e-7 of their scale (DPM2) and ~5e-6 (DPM2 a).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KDPM2DiscreteScheduler } from '../../../src/engine/schedulers/kdpm2';
import { KDPM2AncestralDiscreteScheduler } from '../../../src/engine/schedulers/kdpm2Ancestral';
import { loadCases, replay } from '../../fixtures/schedulers/sigmaReplay';

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

const CLASSES = { 'kdpm2.json': KDPM2DiscreteScheduler, 'kdpm2Ancestral.json': KDPM2AncestralDiscreteScheduler };

for (const [file, Class] of Object.entries(CLASSES)) describe(`${Class.name} against recorded diffusers runs (${file})`, () => {
  for (const c of loadCases(file)) {
    test(`${c.name}: ${c.steps} steps`, () => {
      const r = replay(new Class(c.config), c);
      // the ancestral noise carries the ulps further; a σ_mid timestep moves by up to 1.3e-4 for an ulp of σ
      const tolerance = Class === KDPM2AncestralDiscreteScheduler ? 2e-5 : 5e-6;
      assert.ok(r.timesteps.length === c.timesteps.length && r.timesteps.every((t, i) => Math.abs(t - c.timesteps[i]) < 1e-3), `timesteps ${r.timesteps.slice(0, 4)} vs ${c.timesteps.slice(0, 4)}`);
      assert.ok(err(r.sigmas, c.sigmas, false) < 1e-6, 'sigmas');
      assert.ok(Math.abs(r.initNoiseSigma / c.init_noise_sigma - 1) < 1e-6, 'init_noise_sigma');
      if (c.noised) assert.ok(err(r.noised ?? [], c.noised, true) < 1e-6, 'add_noise');
      assert.equal(r.stepSums.length, c.step_sums.length, 'number of steps');
      assert.ok(err(r.stepSums.map((s) => s[1]), c.step_sums.map((s) => s[1]), true) < tolerance, `Σ|x| per step ${err(r.stepSums.map((s) => s[1]), c.step_sums.map((s) => s[1]), true)}`);
      assert.ok(err(r.finalSample, c.final_sample, true) < tolerance, `final sample ${err(r.finalSample, c.final_sample, true)}`);
      if (c.last_pred_original) assert.ok(err(r.lastPredOriginal ?? [], c.last_pred_original, true) < tolerance, 'x̂₀');
    });
  }
});
