import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineSchedulerConfig } from '../../../src/engine/schedulers/pipelineSchedulerConfig';
import { createScheduler, resolveSampler } from '../../../src/engine/schedulers';

const SD15 = {
  _class_name: 'PNDMScheduler', beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000, steps_offset: 1, skip_prk_steps: true, set_alpha_to_one: false, clip_sample: false,
};

test('a config diffusers leaves alone comes back as it is, with the keys its class took from defaults listed', () => {
  const out = pipelineSchedulerConfig(SD15, 'OnnxStableDiffusionPipeline');
  assert.deepEqual(out, { config: { ...SD15, _use_default_values: ['trained_betas', 'prediction_type', 'timestep_spacing'] }, changes: [] });
});

test('DDIM without steps_offset and clip_sample gets 1 and false, as StableDiffusionPipeline.__init__ sets them '
  + '(the class defaults are 0 and true): DDIM 10 steps start at 901, not 900', () => {
  const ddim = { _class_name: 'DDIMScheduler', beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear' };
  const out = pipelineSchedulerConfig(ddim, 'StableDiffusionPipeline');
  assert.deepEqual(out.changes, ['steps_offset 0 → 1', 'clip_sample true → false']);
  assert.deepEqual([out.config.steps_offset, out.config.clip_sample], [1, false]);
  const own = resolveSampler(null, out.config);
  assert.deepEqual([own.config.steps_offset, own.config.clip_sample], [1, false]);
  const scheduler = createScheduler(own.className, own.config);
  scheduler.setTimesteps(10);
  assert.deepEqual(scheduler.timesteps, [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
  // a later switch (DDIMScheduler.from_config(pipe.scheduler.config)) drops the fixed keys the file lacked: the class
  // defaults 0 and true are back, as in diffusers
  const picked = resolveSampler('ddim', out.config);
  assert.deepEqual([picked.config.steps_offset, picked.config.clip_sample], [0, true]);
});

test('a fixed key the file has is inherited by a picked sampler (WD 1.2: clip_sample true in the file)', () => {
  const wd12 = { _class_name: 'DDIMScheduler', beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', clip_sample: true, set_alpha_to_one: true, steps_offset: 0 };
  const out = pipelineSchedulerConfig(wd12, 'StableDiffusionPipeline');
  const picked = resolveSampler('ddim', out.config);
  assert.deepEqual([picked.config.steps_offset, picked.config.clip_sample], [1, false]);
});

test('an explicit steps_offset 0 becomes 1; PNDM, which has no clip_sample, gets none', () => {
  const out = pipelineSchedulerConfig({ ...SD15, steps_offset: 0, clip_sample: undefined }, 'OnnxStableDiffusionPipeline');
  assert.deepEqual(out.changes, ['steps_offset 0 → 1']);
  assert.equal(out.config.steps_offset, 1);
  assert.equal(out.config.clip_sample, undefined);
});

test('SDXL pipelines make no fix-ups', () => {
  const xl = { _class_name: 'EulerDiscreteScheduler', steps_offset: 0 };
  assert.deepEqual(pipelineSchedulerConfig(xl, 'StableDiffusionXLPipeline').changes, []);
});

test('LatentConsistencyModelPipeline makes no fix-ups', () => {
  const lcm = { _class_name: 'LCMScheduler', steps_offset: 0, clip_sample: true };
  const out = pipelineSchedulerConfig(lcm, 'LatentConsistencyModelPipeline');
  assert.deepEqual([out.config.steps_offset, out.config.clip_sample, out.changes], [0, true, []]);
});
