import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineSchedulerConfig } from '../../../src/engine/schedulers/pipelineSchedulerConfig';
import { createScheduler } from '../../../src/engine/schedulers';

const SD15 = {
  _class_name: 'PNDMScheduler', beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000, steps_offset: 1, skip_prk_steps: true, set_alpha_to_one: false, clip_sample: false,
};

test('a config diffusers leaves alone comes back as it is', () => {
  const out = pipelineSchedulerConfig(SD15, 'OnnxStableDiffusionPipeline');
  assert.deepEqual(out, { config: SD15, changes: [] });
});

test('DDIM without steps_offset and clip_sample gets 1 and false, as StableDiffusionPipeline.__init__ sets them '
  + '(the class defaults are 0 and true): DDIM 10 steps start at 901, not 900', () => {
  const ddim = { _class_name: 'DDIMScheduler', beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear' };
  const out = pipelineSchedulerConfig(ddim, 'StableDiffusionPipeline');
  assert.deepEqual(out, {
    config: { ...ddim, steps_offset: 1, clip_sample: false },
    changes: ['steps_offset 0 → 1', 'clip_sample true → false'],
  });
  const scheduler = createScheduler('DDIMScheduler', out.config);
  scheduler.setTimesteps(10);
  assert.deepEqual(scheduler.timesteps, [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
});

test('an explicit steps_offset 0 becomes 1; PNDM, which has no clip_sample, gets none', () => {
  const out = pipelineSchedulerConfig({ ...SD15, steps_offset: 0, clip_sample: undefined }, 'OnnxStableDiffusionPipeline');
  assert.deepEqual(out.changes, ['steps_offset 0 → 1']);
  assert.equal(out.config.steps_offset, 1);
  assert.equal(out.config.clip_sample, undefined);
});

test('LatentConsistencyModelPipeline makes no fix-ups', () => {
  const lcm = { _class_name: 'LCMScheduler', steps_offset: 0, clip_sample: true };
  assert.deepEqual(pipelineSchedulerConfig(lcm, 'LatentConsistencyModelPipeline'), { config: lcm, changes: [] });
});
