/**
 * LCMScheduler.setTimesteps(steps, strength): the img2img schedule of diffusers' LCM img2img pipeline, against
 * schedules recorded from diffusers' own scheduling_lcm.py (test/fixtures/schedulers/record_lcm_strength.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LCMScheduler } from '../../../src/engine/schedulers/lcm';

/** LCM-Dreamshaper-v7's scheduler config (original_inference_steps 50). */
const CONFIG = {
  beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', num_train_timesteps: 1000, original_inference_steps: 50,
  set_alpha_to_one: true, steps_offset: 1, clip_sample: false, timestep_spacing: 'leading', prediction_type: 'epsilon',
};

/** diffusers' set_timesteps(steps, strength=strength) → timesteps (recorded). */
const RECORDED: Array<[steps: number, strength: number, timesteps: number[]]> = [
  [4, 0.5, [499, 379, 259, 139]],
  [4, 0.8, [799, 599, 399, 199]],
  [4, 1.0, [999, 759, 499, 259]],
  [8, 0.3, [299, 279, 239, 199, 159, 119, 79, 39]],
  [6, 0.15, [139, 119, 99, 79, 59, 39]],
  [3, 0.35, [339, 239, 119]],
  [2, 0.06, [59, 39]],
];

test('with a strength the schedule runs all steps on the first ⌊50·strength⌋ distillation timesteps, as diffusers', () => {
  const got = RECORDED.map(([steps, strength]) => {
    const s = new LCMScheduler(CONFIG);
    s.setTimesteps(steps, strength);
    return [steps, strength, s.timesteps];
  });
  assert.deepEqual(got, RECORDED);
});

test('without a strength it is the full schedule (strength 1)', () => {
  const a = new LCMScheduler(CONFIG);
  a.setTimesteps(4);
  assert.deepEqual(a.timesteps, [999, 759, 499, 259]);
});

test('a strength leaving fewer timesteps than steps is refused, as diffusers (50 × 0.07 = 3.5 → 3 < 4)', () => {
  assert.throws(() => new LCMScheduler(CONFIG).setTimesteps(4, 0.07), /50 × 0\.07 leaves 3 timesteps, fewer than the 4 steps/);
  assert.throws(() => new LCMScheduler(CONFIG).setTimesteps(1, 0), /leaves 0 timesteps/);
  assert.throws(() => new LCMScheduler(CONFIG).setTimesteps(2, 1.5), /strength must be in \[0, 1\]; got 1\.5/);
});
