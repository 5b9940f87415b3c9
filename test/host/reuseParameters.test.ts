import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PanelParams } from '../../src/protocol/webviewMessages';
import { paramsFromInfotext, paramsFromPng } from '../../src/generation/reuseParameters';
import { samplerChoices, samplerIdFromA1111 } from '../../src/generation/samplers';
import { encodePng } from '../../src/engine/image/png';

const reference = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../shared/data/reference/a1111_infotext.json'), 'utf8')) as {
  examples: Array<{ name: string; infotext: string }>;
};

const current: PanelParams = {
  prompt: 'old', negativePrompt: 'old neg', sampler: 'default', steps: 30, cfgScale: 5, seed: 1, randomSeed: true,
  width: 64, height: 64, batchCount: 3, model: '/m/shapes-64',
};
const models = [{ id: '/m/shapes-64', name: 'shapes-64' }, { id: '/m/sd15', name: 'sd15' }];

/** 1×1 PNG written by PIL 9.4 with PngInfo.add_text('parameters', …), as A1111 saves (from png.test.ts's recordings). */
const PIL_LATIN1_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAAbHRFWHRwYXJhbWV0ZXJzAGEgY2F0Ck5lZ2F0aXZlIHByb21wdDogYmx1cnJ5ClN0ZXBzOiAyMCwgU2FtcGxlcjogRXVsZXIgYSwgQ0ZHIHNjYWxlOiA3LjAsIFNlZWQ6IDEsIFNpemU6IDUxMng1MTKX+fSQAAAADElEQVR4nGPgEpEDAABoAD1UCKP3AAAAAElFTkSuQmCC';

test('loads the parameters of a PNG saved by AUTOMATIC1111 (PIL tEXt chunk)', () => {
  assert.deepEqual(paramsFromPng(Buffer.from(PIL_LATIN1_PNG, 'base64'), current, models), {
    ok: true,
    params: { ...current, prompt: 'a cat', negativePrompt: 'blurry', sampler: 'euler_a', steps: 20, cfgScale: 7, seed: 1, randomSeed: false, width: 512, height: 512, batchCount: 1, clipSkip: 1 },
    notes: [],
  });
});

test('loads the A1111 docstring example from the reference data', () => {
  const example = reference.examples.find((e) => e.name === 'a1111_docstring_example');
  assert.ok(example);
  const { params, notes } = paramsFromInfotext(example.infotext, current, models);
  assert.deepEqual({ sampler: params.sampler, steps: params.steps, cfg: params.cfgScale, seed: params.seed, w: params.width, h: params.height, notes },
    { sampler: 'euler_a', steps: 20, cfg: 7, seed: 965400086, w: 512, h: 512, notes: [] });
  assert.ok(params.prompt.startsWith('girl with an artist'));
  assert.ok(params.negativePrompt.startsWith('ugly, fat'));
});

test('maps A1111 sampler names (old and new Karras spellings) back to our ids', () => {
  const cases: Array<[string, string | undefined, string | undefined]> = [
    ['Euler a', undefined, 'euler_a'], ['Euler', undefined, 'euler'], ['DPM++ 2M', 'Uniform', 'dpmpp_2m'],
    ['DPM++ 2M', undefined, 'dpmpp_2m_karras'], ['DPM++ 2M', 'Automatic', 'dpmpp_2m_karras'],
    ['DPM++ 2M', 'Karras', 'dpmpp_2m_karras'], ['DPM++ 2M Karras', undefined, 'dpmpp_2m_karras'], ['Euler', 'Uniform', 'euler'],
    ['DDIM', undefined, 'ddim'], ['PLMS', undefined, 'plms'], ['UniPC', undefined, 'unipc'], ['LCM', undefined, 'lcm'],
    ['Heun', undefined, 'heun'], ['LMS', undefined, 'lms'], ['DDPM', undefined, 'ddpm'],
    ['DPM++ SDE', undefined, undefined], ['Euler', 'Karras', undefined],
  ];
  assert.deepEqual(cases.map(([s, t]) => samplerIdFromA1111(s, t)), cases.map(([, , id]) => id));
});

test('a DPM++ 2M infotext without a schedule type is Karras from A1111 1.9 on, uniform before', () => {
  assert.deepEqual(
    [samplerIdFromA1111('DPM++ 2M', undefined, 'v1.10.1'), samplerIdFromA1111('DPM++ 2M', undefined, 'v1.8.0'),
      samplerIdFromA1111('DPM++ 2M', 'Automatic', 'v1.7.0-RC'), samplerIdFromA1111('DPM++ 2M', undefined, undefined)],
    ['dpmpp_2m_karras', 'dpmpp_2m', 'dpmpp_2m', 'dpmpp_2m_karras']);
});

test('each sampler choice of the panel maps back from its own A1111 label', () => {
  for (const choice of samplerChoices().slice(1)) assert.equal(samplerIdFromA1111(choice.label), choice.id);
});

test('values it cannot use are kept from the form, each with a note', () => {
  const text = 'a fox\nSteps: 5000, Sampler: DPM++ SDE, CFG scale: 99, Seed: -3, Size: 500x512, Model: sd-xl, Denoising strength: 0.5';
  assert.deepEqual(paramsFromInfotext(text, current, models), {
    params: { ...current, prompt: 'a fox', negativePrompt: '', batchCount: 1, clipSkip: 1, strength: 0.5 },
    notes: [
      'Steps "5000" is not a whole number from 1 to 1000; kept 30',
      'the sampler "DPM++ SDE" is not one this extension has; kept the current one',
      'CFG scale "99" is not a number from 0 to 50; kept 5',
      'Seed "-3" is not a whole number from 0 to 4294967295; kept the current seed',
      'Size "500x512" is not two multiples of 8 from 64 to 2048; kept 64×64',
      'the model "sd-xl" is not installed; kept the current model',
      'the image was made from another image (image to image), which a PNG does not hold: choose the input image again',
    ],
  });
});

test('"Denoising strength" (image to image) comes back as the panel\'s strength; a bad one is kept from the form with a note', () => {
  const made = paramsFromInfotext('a fox\nSteps: 20, Sampler: Euler a, Seed: 3, Size: 64x64, Denoising strength: 0.35', current, models);
  assert.equal(made.params.strength, 0.35);
  assert.deepEqual(made.notes, ['the image was made from another image (image to image), which a PNG does not hold: choose the input image again']);
  assert.equal(paramsFromInfotext('a fox\nSteps: 20, Seed: 3', current, models).params.strength, current.strength);
  for (const bad of ['1.5', 'abc', '-0.1']) {
    const out = paramsFromInfotext(`a fox\nSteps: 20, Seed: 3, Denoising strength: ${bad}`, { ...current, strength: 0.6 }, models);
    assert.equal(out.params.strength, 0.6, bad);
    assert.match(out.notes[0], /^Denoising strength ".*" is not a number from 0 to 1; kept the current one$/);
  }
});

test('a DPM++ 2M SDE picture is reused with a note that its noise (a Brownian tree in A1111) will differ', () => {
  const out = paramsFromInfotext('a fox\nSteps: 20, Sampler: DPM++ 2M SDE, Schedule type: Karras, Seed: 3', current, models);
  assert.equal(out.params.sampler, 'dpmpp_2m_sde_karras');
  assert.deepEqual(out.notes, ["A1111 draws DPM++ 2M SDE's noise from a Brownian tree, this extension from the seed's generator as diffusers does: the same seed gives another picture"]);
  assert.deepEqual(paramsFromInfotext('a fox\nSteps: 20, Sampler: DPM++ 2M, Seed: 3', current, models).notes, []);
});

test('selects the installed model the infotext names', () => {
  assert.equal(paramsFromInfotext('x\nSteps: 20, Sampler: Euler, Seed: 3, Model: sd15', current, models).params.model, '/m/sd15');
});

test('a PNG without parameters, or not a PNG, is refused with the reason', () => {
  assert.deepEqual(paramsFromPng(encodePng(new Uint8Array(3), 1, 1), current, models), {
    ok: false, reason: 'it has no "parameters" text: it was not made by Inline Diffusion or AUTOMATIC1111, or its metadata was removed',
  });
  const notPng = paramsFromPng(Buffer.from('GIF89a'), current, models);
  assert.equal(notPng.ok, false);
  assert.match((notPng as { reason: string }).reason, /^it is not a readable PNG \(/);
});

test('an A1111 picture with LoRAs and embeddings: its tags stay in the prompt and a note names them with their hashes', () => {
  const text = 'a castle <lora:detail_tweaker:0.8>, EasyNegative\nNegative prompt: badhandv4\n'
    + 'Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 512x512, TI hashes: "badhandv4: 5e40d722fc3d, EasyNegative: c74b4e810b03", '
    + 'Lora hashes: "detail_tweaker: e3b0c44298fc", Version: v1.10.1';
  const { params, notes } = paramsFromInfotext(text, current, models);
  assert.equal(params.prompt, 'a castle <lora:detail_tweaker:0.8>, EasyNegative');
  assert.equal(params.negativePrompt, 'badhandv4');
  assert.match(notes.join('\n'), /the LoRAs detail_tweaker \(e3b0c44298fc\)/);
  assert.match(notes.join('\n'), /the embeddings badhandv4 \(5e40d722fc3d\), EasyNegative \(c74b4e810b03\)/);
});

test('an inpainted picture brings back A1111\'s mask settings (its defaults for fields left out) and says the mask must be painted again', () => {
  const text = 'a red door\nSteps: 20, Sampler: Euler a, CFG scale: 7.0, Seed: 5, Size: 512x512, Denoising strength: 0.44, Mask blur: 7, '
    + 'Inpaint area: Only masked, Masked area padding: 48, Masked content: latent noise';
  const { params, notes } = paramsFromInfotext(text, current, models);
  assert.deepEqual(params.maskSettings, { maskBlur: 7, maskMode: 'masked', maskedContent: 'latent-noise', inpaintArea: 'masked', inpaintPadding: 48 });
  assert.ok(notes.some((n) => /inpainted/.test(n) && /paint it again/.test(n)), notes.join('\n'));
  const plain = paramsFromInfotext('a red door\nSteps: 20, Sampler: Euler a, CFG scale: 7.0, Seed: 5, Size: 512x512', current, models);
  assert.equal(plain.params.maskSettings, undefined);
});
