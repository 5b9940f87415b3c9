import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScheduler } from '../../../src/engine/schedulers';
import { CONFIG_BOUNDS, checkConfigBounds } from '../../../src/common/configBounds';

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

test('reading a model folder: an oversized scheduler config or UNet sample_size is a ModelError naming the file', async (t) => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { buildTinyModel } = await import('../../fixtures/tinyModel');
  const { readModelFolder } = await import('../../../src/engine/model/modelFolder');
  const { ModelError } = await import('../../../src/engine/model/modelError');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'config-bounds-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const dir = buildTinyModel(path.join(tmp, 'model'));
  const schedulerFile = path.join(dir, 'scheduler', 'scheduler_config.json');
  const scheduler = JSON.parse(fs.readFileSync(schedulerFile, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(schedulerFile, JSON.stringify({ ...scheduler, num_train_timesteps: 300_000_000 }));
  await assert.rejects(readModelFolder(dir), (e: unknown) => e instanceof ModelError && e.kind === 'invalid-config'
    && e.message === `${schedulerFile}: "num_train_timesteps" is 300000000; at most 100000 is accepted (real models use 1000)`);
  fs.writeFileSync(schedulerFile, JSON.stringify(scheduler));
  const unetFile = path.join(dir, 'unet', 'config.json');
  const unet = JSON.parse(fs.readFileSync(unetFile, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(unetFile, JSON.stringify({ ...unet, sample_size: 100_000 }));
  await assert.rejects(readModelFolder(dir), /"sample_size" is 100000; at most 1024 is accepted/);
});
