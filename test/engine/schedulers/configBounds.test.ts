import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScheduler } from '../../../src/engine/schedulers';
import { CONFIG_BOUNDS, checkConfigBounds } from '../../../src/engine/schedulers/configBounds';

// Issue 12 row 10: `num_train_timesteps: 300000000` in a model's scheduler config took 20 s and 3.5 GB, then V8
// aborted (30,000,000: 38.8 s and 759 MiB here). The bounds are checked before anything is sized by a value.

test('the bounds: 100,000 train timesteps and trained betas, sample_size 1,024', () => {
  assert.equal(CONFIG_BOUNDS.num_train_timesteps, 100_000);
  assert.equal(CONFIG_BOUNDS.trained_betas, 100_000);
  assert.equal(CONFIG_BOUNDS.sample_size, 1024);
});

test('a value over its bound is one line naming the file, the key, the value and the bound', () => {
  assert.throws(() => checkConfigBounds({ num_train_timesteps: 300_000_000 }, 'scheduler/scheduler_config.json'), (e: Error) =>
    e.message === 'scheduler/scheduler_config.json: "num_train_timesteps" is 300000000; at most 100000 is accepted (real models use 1000)');
  assert.throws(() => checkConfigBounds({ trained_betas: new Array(100_001).fill(0.01) }, 'f.json'), /"trained_betas" is 100001 values; at most 100000/);
  assert.throws(() => checkConfigBounds({ sample_size: [64, 4096] }, 'unet/config.json'), /"sample_size" is \[64,4096\]; at most 1024/);
  assert.doesNotThrow(() => checkConfigBounds({ num_train_timesteps: 1000, sample_size: 64, steps_offset: 1, trained_betas: null }, 'f.json'));
});

for (const className of ['EulerDiscreteScheduler', 'DDIMScheduler', 'PNDMScheduler', 'LCMScheduler', 'DPMSolverMultistepScheduler']) {
  test(`${className}: a config with 300,000,000 train timesteps is refused at once, before anything is allocated`, () => {
    const t0 = performance.now();
    assert.throws(() => createScheduler(className, { num_train_timesteps: 300_000_000 }), /"num_train_timesteps" is 300000000; at most 100000 is accepted/);
    assert.ok(performance.now() - t0 < 1000);
  });
}

test('LCM: original_inference_steps over its bound is refused', () => {
  assert.throws(() => createScheduler('LCMScheduler', { original_inference_steps: 1e9 }), /"original_inference_steps" is 1000000000; at most 100000/);
});
