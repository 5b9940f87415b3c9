/**
 * Sampler names → schedulers (ARCHITECTURE.md's table) and diffusers' `from_config` hand-over of a model's
 * scheduler_config.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createScheduler, DDIMScheduler, DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler, listSamplers,
  PNDMScheduler, resolveSampler,
} from '../../../src/engine/schedulers';

/** runwayml/stable-diffusion-v1-5 scheduler/scheduler_config.json as published. */
const SD15 = {
  _class_name: 'PNDMScheduler', _diffusers_version: '0.6.0', beta_end: 0.012, beta_schedule: 'scaled_linear',
  beta_start: 0.00085, num_train_timesteps: 1000, set_alpha_to_one: false, skip_prk_steps: true, steps_offset: 1,
  trained_betas: null, clip_sample: false,
};

test('listSamplers is ARCHITECTURE.md\'s table', () => {
  assert.deepEqual(listSamplers().map((s) => [s.id, s.a1111Name, s.className, s.scheduleType ?? '']), [
    ['euler', 'Euler', 'EulerDiscreteScheduler', ''],
    ['euler_a', 'Euler a', 'EulerAncestralDiscreteScheduler', ''],
    ['heun', 'Heun', 'HeunDiscreteScheduler', ''],
    ['lms', 'LMS', 'LMSDiscreteScheduler', ''],
    ['dpmpp_2m', 'DPM++ 2M', 'DPMSolverMultistepScheduler', 'Uniform'],
    ['dpmpp_2m_karras', 'DPM++ 2M', 'DPMSolverMultistepScheduler', 'Karras'],
    ['dpmpp_2m_sde', 'DPM++ 2M SDE', 'DPMSolverMultistepScheduler', 'Uniform'],
    ['dpmpp_2m_sde_karras', 'DPM++ 2M SDE', 'DPMSolverMultistepScheduler', 'Karras'],
    ['ddim', 'DDIM', 'DDIMScheduler', ''],
    ['plms', 'PLMS', 'PNDMScheduler', ''],
    ['ddpm', 'DDPM', 'DDPMScheduler', ''],
    ['lcm', 'LCM', 'LCMScheduler', ''],
    ['unipc', 'UniPC', 'UniPCMultistepScheduler', ''],
    ['deis', 'DEIS', 'DEISMultistepScheduler', ''],
    ['dpm2', 'DPM2', 'KDPM2DiscreteScheduler', 'Uniform'],
    ['dpm2_karras', 'DPM2', 'KDPM2DiscreteScheduler', 'Karras'],
    ['dpm2_a', 'DPM2 a', 'KDPM2AncestralDiscreteScheduler', 'Uniform'],
    ['dpm2_a_karras', 'DPM2 a', 'KDPM2AncestralDiscreteScheduler', 'Karras'],
  ]);
});

test('short ids, A1111 names and class names all build the named class', () => {
  assert.ok(createScheduler('euler_a', SD15) instanceof EulerAncestralDiscreteScheduler);
  assert.ok(createScheduler('Euler a', SD15) instanceof EulerAncestralDiscreteScheduler);
  assert.ok(createScheduler('DDIMScheduler', SD15) instanceof DDIMScheduler);
  assert.ok(createScheduler('DPM++ 2M Karras', SD15) instanceof DPMSolverMultistepScheduler);
  assert.equal(resolveSampler('dpm++ 2m karras', SD15).id, 'dpmpp_2m_karras');
});

test('dpmpp_2m_karras keeps the model\'s schedule and sets DPM-Solver++ order 2 with Karras sigmas', () => {
  const r = resolveSampler('dpmpp_2m_karras', SD15);
  assert.deepEqual(
    [r.className, r.config.algorithm_type, r.config.solver_order, r.config.use_karras_sigmas, r.config.beta_schedule, r.config.beta_start, r.config.steps_offset],
    ['DPMSolverMultistepScheduler', 'dpmsolver++', 2, true, 'scaled_linear', 0.00085, 1],
  );
  assert.deepEqual([r.a1111Name, r.scheduleType], ['DPM++ 2M', 'Karras']);
  assert.equal(resolveSampler('dpmpp_2m', { ...SD15, use_karras_sigmas: true }).config.use_karras_sigmas, false);
});

test('a picked class takes its own defaults where the file has no value, as from_config drops defaulted keys', () => {
  // SD 1.5's file has no timestep_spacing: Euler's own "linspace" applies, not PNDMScheduler's "leading"
  assert.equal(resolveSampler('euler', SD15).config.timestep_spacing, 'linspace');
  assert.equal(resolveSampler('euler', { ...SD15, timestep_spacing: 'trailing' }).config.timestep_spacing, 'trailing');
  assert.equal(resolveSampler('EulerDiscreteScheduler', SD15).config.timestep_spacing, 'linspace');
  // a key the writer took from its defaults (_use_default_values) is dropped even when it is there
  const saved = { ...SD15, timestep_spacing: 'leading', _use_default_values: ['timestep_spacing'] };
  assert.equal(resolveSampler('euler', saved).config.timestep_spacing, 'linspace');
  const euler = createScheduler('euler', SD15);
  euler.setTimesteps(20);
  assert.deepEqual([euler.timesteps[0], euler.timesteps[1].toFixed(3), euler.initNoiseSigma.toFixed(3)], [999, '946.421', '14.615']);
});

test('DDIM from the SD 1.5 config steps like diffusers: steps_offset 1, no clipping, ᾱ_prev = ᾱ₀ at the end', () => {
  const ddim = createScheduler('ddim', SD15);
  ddim.setTimesteps(20);
  assert.deepEqual(ddim.timesteps.slice(0, 3), [951, 901, 851]);
  assert.ok(ddim instanceof DDIMScheduler && ddim.config.clipSample === false && ddim.finalAlphaCumprod !== 1);
});

test('plms skips the PRK steps; PNDMScheduler by class name takes the config as it is', () => {
  assert.deepEqual(resolveSampler('plms', { ...SD15, skip_prk_steps: false }).config.skip_prk_steps, true);
  const direct = resolveSampler('PNDMScheduler', { ...SD15, skip_prk_steps: false });
  assert.deepEqual([direct.id, direct.a1111Name, direct.config.skip_prk_steps], ['PNDMScheduler', 'PNDMScheduler', false]);
  const pndm = createScheduler('PNDMScheduler', { ...SD15, skip_prk_steps: false });
  assert.ok(pndm instanceof PNDMScheduler);
  pndm.setTimesteps(10);
  assert.equal(pndm.timesteps.length, 19);
});

test('no sampler: the model\'s own class, named as A1111 would', () => {
  const r = resolveSampler(null, SD15);
  assert.deepEqual([r.id, r.className, r.a1111Name], ['plms', 'PNDMScheduler', 'PLMS']);
  const dpm = resolveSampler(null, { _class_name: 'DPMSolverMultistepScheduler', use_karras_sigmas: true });
  assert.deepEqual([dpm.id, dpm.a1111Name, dpm.scheduleType], ['dpmpp_2m_karras', 'DPM++ 2M', 'Karras']);
});

test('an unknown sampler or unsupported model scheduler throws listing the allowed names', () => {
  assert.throws(() => createScheduler('euler_b', SD15), /Unknown sampler "euler_b"; expected one of: euler, euler_a, heun, lms, dpmpp_2m, dpmpp_2m_karras, dpmpp_2m_sde, dpmpp_2m_sde_karras, ddim, plms, ddpm, lcm, unipc, deis, dpm2, dpm2_karras, dpm2_a, dpm2_a_karras, Euler, Euler a, .*PNDMScheduler/);
  assert.throws(() => resolveSampler(null, { _class_name: 'DPMSolverSinglestepScheduler' }), /The model's scheduler "DPMSolverSinglestepScheduler" is not supported; expected one of/);
  assert.throws(() => resolveSampler(null, {}), /no "_class_name"/);
});

test('plain DPM++ 2M writes "Schedule type: Uniform" (A1111 ≥ 1.9 would otherwise re-run it with Karras sigmas)', () => {
  assert.deepEqual(
    ['dpmpp_2m', 'DPM++ 2M', 'DPM++ 2M Uniform', 'dpmpp_2m_karras', 'DPM++ 2M Karras'].map((n) => {
      const r = resolveSampler(n, SD15);
      return [r.id, r.a1111Name, r.scheduleType];
    }),
    [['dpmpp_2m', 'DPM++ 2M', 'Uniform'], ['dpmpp_2m', 'DPM++ 2M', 'Uniform'], ['dpmpp_2m', 'DPM++ 2M', 'Uniform'],
      ['dpmpp_2m_karras', 'DPM++ 2M', 'Karras'], ['dpmpp_2m_karras', 'DPM++ 2M', 'Karras']]);
});
