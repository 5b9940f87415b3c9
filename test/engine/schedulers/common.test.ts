/**
 * schedulers/common.ts against values printed by torch 1.13 / numpy 1.24 (literals below) and diffusers' float32
 * buffers recorded in test/fixtures/schedulers/ddpm_family.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  alphasCumprodFrom, betasForSchedule, drawNoise, getAncestralStep, getSigmasKarras, indexForTimestep, interp,
  numpyArange, predictOriginal, readBaseConfig, readBool, readEnum, readNumber, readNumberArray, roundHalfEven,
  spacedTimesteps, thresholdSample, toD, torchLinspaceF32, withClassDefaults,
} from '../../../src/engine/schedulers/common';
import type { Rng } from '../../../src/engine/random';
import { SCHEDULER_CLASS_DEFAULTS } from '../../../src/engine/schedulers/classDefaults';

const { DDIMScheduler: DDIM_DEFAULTS, PNDMScheduler: PNDM_DEFAULTS } = SCHEDULER_CLASS_DEFAULTS;

const f32 = Math.fround;
const recorded = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../fixtures/schedulers/ddpm_family.json'), 'utf8')) as {
  schedules: Array<{ config: Record<string, unknown>; pick: number[]; alphasCumprod: number[]; betas: number[] }>;
};

test('readEnum: a bad value throws listing the allowed ones; a key the complete config lacks is a bug, named', () => {
  assert.equal(readEnum({ p: 'b' }, 'p', ['a', 'b'] as const), 'b');
  assert.throws(() => readEnum({ p: 'c' }, 'p', ['a', 'b'] as const), /"p" must be one of "a", "b"; got "c"/);
  assert.throws(() => readEnum({}, 'p', ['a', 'b'] as const), /no "p"/);
});

test('withClassDefaults: the class\'s keys only, null or missing → its default', () => {
  assert.deepEqual(withClassDefaults({ a: null, b: 2, c: 3 }, { a: 1, b: 0, d: 'x' }), { a: 1, b: 2, d: 'x' });
});

test('readNumber/readBool/readNumberArray reject the wrong type, naming the key and what arrived', () => {
  assert.throws(() => readNumber({ beta_start: '0.1' }, 'beta_start'), /"beta_start" must be a finite number; got "0.1"/);
  assert.throws(() => readBool({ clip_sample: 'true' }, 'clip_sample'), /"clip_sample" must be true or false; got "true"/);
  assert.throws(() => readNumberArray({ trained_betas: [0.1, 'x'] }, 'trained_betas'), /array of finite numbers/);
  assert.equal(readNumberArray({ trained_betas: null }, 'trained_betas'), null);
});

test('readBaseConfig reads a class\'s complete config; options the class lacks read as off', () => {
  const c = readBaseConfig(withClassDefaults({ _class_name: 'PNDMScheduler', clip_sample: true, beta_end: 0.012 }, PNDM_DEFAULTS));
  assert.equal(c.betaEnd, 0.012);
  assert.equal(c.betaStart, 0.0001);
  assert.equal(c.clipSample, false, 'PNDMScheduler takes no clip_sample');
  assert.equal(readBaseConfig(withClassDefaults({}, DDIM_DEFAULTS)).clipSample, true);
  assert.throws(() => readBaseConfig(withClassDefaults({ num_train_timesteps: 3, trained_betas: [0.1] }, DDIM_DEFAULTS)), /trained_betas must have num_train_timesteps \(3\) values; got 1/);
});

test('torchLinspaceF32 equals torch.linspace float32 bit for bit (vector pairs and scalar tail)', () => {
  assert.deepEqual(Array.from(torchLinspaceF32(0.001, 0.02, 17)), [0.0010000000474974513, 0.0021875000093132257, 0.0033749998547136784, 0.004562499932944775, 0.005750000011175871, 0.006937500089406967, 0.008124999701976776, 0.00931250024586916, 0.010499999858438969, 0.011687499471008778, 0.012875000014901161, 0.01406249962747097, 0.015249999240040779, 0.016437500715255737, 0.017625000327825546, 0.018812499940395355, 0.019999999552965164]);
  const got33 = Array.from(torchLinspaceF32(0.0001, 0.02, 33));
  assert.deepEqual([got33[13], got33[28], got33[30], got33[32]], [0.008184375241398811, 0.017512498423457146, 0.01875624805688858, 0.019999999552965164]);
});

test('betas and alphas_cumprod equal diffusers float32 buffers (linear, scaled_linear, cosine, zero-SNR, T=1100)', () => {
  for (const s of recorded.schedules) {
    const betas = betasForSchedule(readBaseConfig(withClassDefaults(s.config, DDIM_DEFAULTS)));
    assert.deepEqual(s.pick.map((i) => betas[i]), s.betas, JSON.stringify(s.config));
    const ac = alphasCumprodFrom(betas);
    assert.deepEqual(s.pick.map((i) => ac[i]), s.alphasCumprod, JSON.stringify(s.config));
  }
});

test('rescale_betas_zero_snr drives the last ᾱ to exactly 0', () => {
  const ac = alphasCumprodFrom(betasForSchedule(readBaseConfig(withClassDefaults({ rescale_betas_zero_snr: true, beta_schedule: 'scaled_linear' }, DDIM_DEFAULTS))));
  assert.equal(ac[999], 0);
});

test('roundHalfEven is numpy.round', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, 937.5, 812.5, 2.4999].map(roundHalfEven), [0, 2, 2, -0, 938, 812, 2]);
});

test('spacedTimesteps: diffusers leading/linspace/trailing grids', () => {
  assert.deepEqual(spacedTimesteps('leading', 1000, 10, 1), [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
  assert.deepEqual(spacedTimesteps('linspace', 1000, 4, 0), [999, 666, 333, 0]);
  assert.deepEqual(spacedTimesteps('trailing', 1000, 16, 0).slice(0, 4), [999, 937, 874, 811]);
  assert.deepEqual(numpyArange(1000, 0, -1000 / 3).length, 3);
});

test('interp is numpy.interp (clamped ends, exact knots)', () => {
  assert.deepEqual(interp([0, 0.5, 2.5, 9, -1, 1.25], [0, 1, 2, 3], [10, 20, 15, 5]), [10, 15, 10, 5, 10, 18.75]);
});

test('getSigmasKarras is k-diffusion/diffusers Karras schedule without the appended zero', () => {
  const expected = [10.000000000000002, 4.0701040408635185, 1.450732113566193, 0.432452803054104, 0.10000000000000002];
  const got = getSigmasKarras(5, 0.1, 10);
  assert.ok(got.every((v, i) => Math.abs(v - expected[i]) <= 1e-15 * expected[i]), `${got}`);
});

test('indexForTimestep: the first match, the second of duplicates, or a clear error', () => {
  assert.equal(indexForTimestep([901, 801, 801, 701], 901), 0);
  assert.equal(indexForTimestep([901, 801, 801, 701], 801), 2);
  assert.throws(() => indexForTimestep([901, 801], 5), /Timestep 5 is not in the schedule \[901, 801\]/);
  assert.equal(indexForTimestep([901, 801], 5, true), 1);
});

test('getAncestralStep in float32 equals diffusers Euler a on float32 sigmas', () => {
  assert.deepEqual(getAncestralStep(2.5, 1.2, 1, true), { sigmaUp: 1.0527222156524658, sigmaDown: 0.5760000348091125 });
  assert.deepEqual(getAncestralStep(2.5, 1.2, 0), { sigmaUp: 0, sigmaDown: 1.2 });
});

test('toD is (x − x̂₀)/σ', () => {
  assert.deepEqual(Array.from(toD(Float32Array.of(3, 1), 2, Float32Array.of(1, 2))), [1, -0.5]);
});

test('predictOriginal for epsilon, sample and v_prediction', () => {
  const x = Float32Array.of(0.5, -1);
  const out = Float32Array.of(0.25, 2);
  const a = 0.64; // √ᾱ = 0.8, √(1−ᾱ) = 0.6
  const sa = f32(Math.sqrt(a));
  const sb = f32(Math.sqrt(f32(1 - a)));
  assert.deepEqual(Array.from(predictOriginal('epsilon', out, x, a)), [f32(f32(0.5 - f32(sb * 0.25)) / sa), f32(f32(-1 - f32(sb * 2)) / sa)]);
  assert.deepEqual(Array.from(predictOriginal('sample', out, x, a)), [0.25, 2]);
  assert.deepEqual(Array.from(predictOriginal('v_prediction', out, x, a)), [f32(f32(sa * 0.5) - f32(sb * 0.25)), f32(f32(sa * -1) - f32(sb * 2))]);
});

test('thresholdSample equals diffusers _threshold_sample (torch.quantile per image)', () => {
  const x = Float32Array.of(0.5, -3.0, 1.5, 2.5, -0.25, 1.2, -1.8, 0.1, 0.2, -0.3, 0.1, 0.05, 0.9, -0.7, 0.4, 0.6);
  assert.deepEqual(Array.from(thresholdSample(x, 2, 0.75, 2.0)), [0.2531645596027374, -1.0, 0.7594937086105347, 1.0, -0.1265822798013687, 0.6075949668884277, -0.9113924503326416, 0.050632916390895844, 0.20000000298023224, -0.30000001192092896, 0.10000000149011612, 0.05000000074505806, 0.8999999761581421, -0.699999988079071, 0.4000000059604645, 0.6000000238418579]);
});

test('drawNoise: one Rng draws the whole batch; an array gives image i its own stream', () => {
  const counter = (start: number): Rng => {
    let next = start;
    return { randn: (n: number) => Float32Array.from({ length: n }, () => next++) };
  };
  assert.deepEqual(Array.from(drawNoise(counter(0), 4)), [0, 1, 2, 3]);
  assert.deepEqual(Array.from(drawNoise([counter(0), counter(100)], 4)), [0, 1, 100, 101]);
  assert.throws(() => drawNoise([counter(0), counter(1), counter(2)], 4), /one Rng per image dividing 4 elements; got 3/);
  assert.throws(() => drawNoise(undefined, 4), /pass opts.generator/);
});
