import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_SETTINGS, readSettings, withResolvedNetworkFolders, type ExtensionSettings } from '../../src/generation/settings';
import { DEFAULT_MODEL_SETTINGS } from '../../src/models/modelSettings';
import { altTextParams, buildRequests, randomSeed, withConcreteSeed } from '../../src/generation/requestBuilder';
import { listModels, resolveModelSetting } from '../../src/models/modelChoices';
import { samplerChoices } from '../../src/generation/samplers';
import { isKnownSampler } from '../../src/engine/request';
import type { PanelParams } from '../../src/protocol/webviewMessages';

const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, { default: unknown; enum?: string[] }> }; commands: Array<{ command: string }> };
};

function settingsFrom(values: Record<string, unknown>): ExtensionSettings {
  return readSettings((key) => values[key]);
}

test('the defaults match package.json\'s declared defaults', () => {
  const declared = Object.fromEntries(Object.entries(manifest.contributes.configuration.properties)
    .map(([key, p]) => [key.replace('inlineDiffusion.', ''), p.default]));
  assert.deepEqual(declared, { ...DEFAULT_SETTINGS, ...DEFAULT_MODEL_SETTINGS });
  assert.deepEqual(settingsFrom({}), DEFAULT_SETTINGS);
});

test('the sampler setting\'s enum is the panel\'s sampler list, every one a name the engine accepts', () => {
  const ids = samplerChoices().map((c) => c.id);
  assert.deepEqual(manifest.contributes.configuration.properties['inlineDiffusion.sampler'].enum, ids);
  assert.deepEqual(ids.slice(1).filter((id) => !isKnownSampler(id)), []);
});

test('wrong types and out-of-range values fall back to the defaults', () => {
  assert.deepEqual(settingsFrom({
    model: 3, outputFolder: '', sampler: 'k_lms', steps: 0, cfgScale: 'high', width: 500, height: -8,
    executionProvider: 'tpu', threads: 1.5, previews: 'yes', autoSave: null, candidates: 9, variationCount: 17, variationStrength: 0,
  }), DEFAULT_SETTINGS);
  assert.deepEqual(settingsFrom({ model: ' ~/m ', outputFolder: 'out', sampler: 'ddim', steps: 4, cfgScale: 1.5, width: 64, height: 2048, executionProvider: 'cuda', threads: 2, previews: false, autoSave: false, candidates: 4 }),
    { model: '~/m', outputFolder: 'out', sampler: 'ddim', steps: 4, cfgScale: 1.5, width: 64, height: 2048, executionProvider: 'cuda', threads: 2, previews: false, autoSave: false, candidates: 4, clipSkip: 1, emphasis: 'original', vaeDecode: 'auto', loraFolder: '', embeddingsFolder: '', variationCount: 4, variationStrength: 0.2 });
  assert.deepEqual([settingsFrom({ loraFolder: ' /loras ', embeddingsFolder: 7 }).loraFolder, settingsFrom({ embeddingsFolder: 7 }).embeddingsFolder], ['/loras', '']);
  assert.deepEqual([settingsFrom({ variationCount: 8, variationStrength: 0.35 })].map((s) => [s.variationCount, s.variationStrength]), [[8, 0.35]]);
  assert.deepEqual([settingsFrom({ variationCount: 2.5, variationStrength: 1.5 })].map((s) => [s.variationCount, s.variationStrength]), [[4, 0.2]]);
});

test('vaeDecode: the setting reaches the request ("auto" is left out); an unknown value falls back to auto', () => {
  assert.equal(settingsFrom({ vaeDecode: 'fast' }).vaeDecode, 'fast');
  assert.equal(settingsFrom({ vaeDecode: 'taesd' }).vaeDecode, 'auto');
  const one = { ...params, batchCount: 1 };
  assert.equal(buildRequests(one, '/m', { ...DEFAULT_SETTINGS, vaeDecode: 'tiled' })[0].vaeDecode, 'tiled');
  assert.equal('vaeDecode' in buildRequests(one, '/m', DEFAULT_SETTINGS)[0], false);
  assert.deepEqual(manifest.contributes.configuration.properties['inlineDiffusion.vaeDecode'].enum, ['auto', 'full', 'tiled', 'fast']);
});

const params: PanelParams = {
  prompt: 'a fox', negativePrompt: 'blur', sampler: 'default', steps: 8, cfgScale: 3, seed: 10, randomSeed: false,
  width: 128, height: 64, batchCount: 3, model: '/m',
};

test('a batch count of n makes n requests with seeds seed … seed+n−1, settings passed through', () => {
  const requests = buildRequests(params, '/m', { ...DEFAULT_SETTINGS, threads: 4, executionProvider: 'cpu', previews: false });
  assert.deepEqual(requests.map((r) => r.seed), [10, 11, 12]);
  assert.deepEqual({ ...requests[0], seed: 0 }, {
    modelDir: '/m', prompt: 'a fox', negativePrompt: 'blur', sampler: null, steps: 8, cfgScale: 3, seed: 0, width: 128, height: 64,
    batchSize: 1, initImage: null, strength: 0.75, previews: false, rng: 'cpu', executionProvider: 'cpu', threads: 4,
  });
  assert.equal(buildRequests({ ...params, sampler: 'euler_a', batchCount: 1 }, '/m', DEFAULT_SETTINGS)[0].threads, null);
  const [networks] = buildRequests({ ...params, batchCount: 1 }, '/m', { ...DEFAULT_SETTINGS, loraFolder: '/l', embeddingsFolder: '/e' });
  assert.deepEqual([networks.loraDir, networks.embeddingsDir], ['/l', '/e']);
  assert.deepEqual([requests[0].loraDir, requests[0].embeddingsDir], [undefined, undefined]);
  assert.equal(buildRequests({ ...params, sampler: 'euler_a', batchCount: 1 }, '/m', DEFAULT_SETTINGS)[0].sampler, 'euler_a');
  // An empty negative prompt field is no negative prompt: SDXL zeroes the unconditional embeddings, as diffusers' None.
  assert.equal(buildRequests({ ...params, negativePrompt: '', batchCount: 1 }, '/m', DEFAULT_SETTINGS)[0].negativePrompt, null);
});

test('a random seed is drawn so that the whole batch fits under 2^32', () => {
  assert.equal(randomSeed(3, (max) => max - 1), 2 ** 32 - 3);
  assert.equal(withConcreteSeed({ ...params, randomSeed: true }, () => 99).seed, 99);
  assert.equal(withConcreteSeed(params, () => 99).seed, 10);
});

test('alt-text parameters use the settings, the model\'s native size when the size setting is 0', () => {
  const p = altTextParams('a fox', { ...DEFAULT_SETTINGS, sampler: 'ddim', steps: 12, width: 0, height: 256 }, '/m', 64);
  assert.deepEqual({ ...p, seed: 0 }, { prompt: 'a fox', negativePrompt: '', sampler: 'ddim', steps: 12, cfgScale: 7.5, seed: 0, randomSeed: false, width: 64, height: 256, batchCount: 1, model: '/m' });
});

test('the model setting: empty = the embedded model; ~, absolute and workspace-relative folders', () => {
  assert.equal(resolveModelSetting('', '/ws'), undefined);
  assert.equal(resolveModelSetting('~/models/sd', '/ws', '/home/me'), path.join('/home/me', 'models/sd'));
  assert.equal(resolveModelSetting('models/sd', '/ws'), path.join('/ws', 'models/sd'));
  assert.equal(resolveModelSetting('models/sd', undefined), undefined);
  assert.deepEqual(listModels('', '/ws', '/ext/models/shapes-64').map((m) => [m.id, m.label]), [['/ext/models/shapes-64', 'shapes-64 (embedded)']]);
  assert.deepEqual(listModels('/m/sd15', '/ws', '/ext/models/shapes-64').map((m) => [m.id, m.label]),
    [['/m/sd15', 'sd15 (setting)'], ['/ext/models/shapes-64', 'shapes-64 (embedded)']]);
});

test('with an input image, the requests are image to image at the params\' strength and resize mode (absent: 0.75, just resize)', () => {
  const initImage = { width: 2, height: 1, rgb: Uint8Array.of(1, 2, 3, 4, 5, 6) };
  const one = { ...params, batchCount: 2 };
  const plain = buildRequests(one, '/m', DEFAULT_SETTINGS, initImage);
  assert.deepEqual(plain.map((r) => [r.initImage, r.strength, r.resizeMode]), [[initImage, 0.75, undefined], [initImage, 0.75, undefined]]);
  const [cropped] = buildRequests({ ...one, batchCount: 1, strength: 0.3, resizeMode: 'crop' }, '/m', DEFAULT_SETTINGS, initImage);
  assert.deepEqual([cropped.strength, cropped.resizeMode], [0.3, 'crop']);
  // without an input image the resize mode is not sent (the engine's request stays text to image)
  const [text] = buildRequests({ ...one, batchCount: 1, strength: 0.3, resizeMode: 'fill' }, '/m', DEFAULT_SETTINGS);
  assert.deepEqual([text.initImage, 'resizeMode' in text], [null, false]);
});

test('a painted mask reaches the requests as the engine\'s inpaint settings (run lengths decoded); without an input image it is refused', () => {
  const initImage = { width: 4, height: 2, rgb: new Uint8Array(24) };
  const one = { ...params, batchCount: 1 };
  const inpaint = { mask: { width: 4, height: 2, runs: [2, 3, 3] }, maskBlur: 2, maskMode: 'unmasked', maskedContent: 'latent-noise', inpaintArea: 'masked', inpaintPadding: 8 } as const;
  const [r] = buildRequests({ ...one, inpaint }, '/m', DEFAULT_SETTINGS, initImage);
  assert.deepEqual(r.inpaint, {
    mask: { width: 4, height: 2, gray: Uint8Array.of(0, 0, 255, 255, 255, 0, 0, 0) }, maskBlur: 2, maskMode: 'unmasked',
    maskedContent: 'latent-noise', inpaintArea: 'masked', inpaintPadding: 8,
  });
  assert.throws(() => buildRequests({ ...one, inpaint }, '/m', DEFAULT_SETTINGS, null), /inpaint: a mask needs an input image/);
});

test('the LoRA and embeddings folders: ~ is the home folder, a relative path starts at the workspace folder (the engine runs elsewhere)', () => {
  const base = { ...DEFAULT_SETTINGS, loraFolder: 'models/Lora', embeddingsFolder: '~/emb' };
  const resolved = withResolvedNetworkFolders(base, path.join('/ws'), '/home/u');
  assert.equal(resolved.loraFolder, path.join('/ws', 'models/Lora'));
  assert.equal(resolved.embeddingsFolder, path.join('/home/u', 'emb'));
  assert.equal(withResolvedNetworkFolders(base, undefined, '/home/u').loraFolder, '', 'relative without a workspace: none');
  assert.equal(withResolvedNetworkFolders({ ...base, loraFolder: '' }, '/ws').loraFolder, '');
  assert.equal(withResolvedNetworkFolders({ ...base, loraFolder: '/abs/lora' }, '/ws').loraFolder, path.normalize('/abs/lora'));
});
