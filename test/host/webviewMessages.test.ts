import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PanelParams } from '../../src/protocol/webviewMessages';
import { parseFromWebview } from '../../src/panel/webviewMessageGuards';

const ctx = { modelIds: ['/models/shapes-64'] };
const good: PanelParams = {
  prompt: 'a red fox in snow', negativePrompt: '', sampler: 'euler_a', steps: 20, cfgScale: 7.5, seed: 42,
  randomSeed: false, width: 512, height: 512, batchCount: 2, model: '/models/shapes-64',
};

function generate(overrides: Record<string, unknown>): unknown {
  return parseFromWebview({ type: 'generate', params: { ...good, ...overrides } }, ctx);
}

test('accepts a well-formed generate message as it is', () => {
  assert.deepEqual(parseFromWebview({ type: 'generate', params: good }, ctx), { ok: true, message: { type: 'generate', params: good } });
  assert.deepEqual(generate({ sampler: 'default', cfgScale: 0, seed: 0, steps: 1, width: 64, height: 2048 }), {
    ok: true, message: { type: 'generate', params: { ...good, sampler: 'default', cfgScale: 0, seed: 0, steps: 1, width: 64, height: 2048 } },
  });
});

test('every field rejects a bad value with the field, what was expected and what arrived', () => {
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [{ prompt: 42 }, 'prompt', 'Prompt: expected text, got 42'],
    [{ prompt: 'x'.repeat(10_001) }, 'prompt', 'Prompt: expected at most 10000 characters, got 10001'],
    [{ negativePrompt: null }, 'negativePrompt', 'Negative prompt: expected text, got null'],
    [{ sampler: 'k_euler' }, 'sampler', 'Sampler: expected one of the listed samplers, got "k_euler"'],
    [{ steps: 0 }, 'steps', 'Steps: expected a whole number from 1 to 1000, got 0'],
    [{ steps: 2.5 }, 'steps', 'Steps: expected a whole number from 1 to 1000, got 2.5'],
    [{ steps: '20' }, 'steps', 'Steps: expected a whole number from 1 to 1000, got "20"'],
    [{ cfgScale: Number.NaN }, 'cfgScale', 'CFG scale: expected a number from 0 to 50, got NaN'],
    [{ cfgScale: 51 }, 'cfgScale', 'CFG scale: expected a number from 0 to 50, got 51'],
    [{ seed: -1 }, 'seed', 'Seed: expected a whole number from 0 to 4294967295, got -1'],
    [{ seed: 2 ** 32 }, 'seed', 'Seed: expected a whole number from 0 to 4294967295, got 4294967296'],
    [{ randomSeed: 'yes' }, 'randomSeed', 'Random seed: expected true or false, got "yes"'],
    [{ width: 500 }, 'width', 'Width: expected a multiple of 8 from 64 to 2048, got 500'],
    [{ height: 4096 }, 'height', 'Height: expected a multiple of 8 from 64 to 2048, got 4096'],
    [{ batchCount: 0 }, 'batchCount', 'Batch count: expected a whole number from 1 to 64, got 0'],
    [{ model: '/etc' }, 'model', 'Model: expected one of the listed models, got "/etc"'],
    [{ seed: 2 ** 32 - 1, batchCount: 2 }, 'seed',
      'Seed: image i of a batch uses seed + i, so seed + batch count − 1 must be at most 4294967295; got seed 4294967295 with batch count 2'],
  ];
  for (const [overrides, field, problem] of cases) {
    assert.deepEqual(generate(overrides), { ok: false, problem, field }, JSON.stringify(overrides).slice(0, 60));
  }
});

test('a random seed lifts the seed + batch count limit', () => {
  assert.equal((generate({ seed: 2 ** 32 - 1, batchCount: 2, randomSeed: true }) as { ok: boolean }).ok, true);
});

test('missing, unknown or non-object parameters are rejected', () => {
  const { model: _model, ...withoutModel } = good;
  assert.deepEqual(parseFromWebview({ type: 'generate', params: withoutModel }, ctx),
    { ok: false, problem: 'Model: expected one of the listed models, got nothing (missing)', field: 'model' });
  assert.deepEqual(generate({ extra: 1 }),
    { ok: false, problem: 'parameters: unknown field "extra" (expected only prompt, negativePrompt, sampler, steps, cfgScale, seed, randomSeed, width, height, batchCount, model, clipSkip, oldPromptEditingTimelines, strength, resizeMode, inpaint, maskSettings, variationSeed, randomVariationSeed, variationStrength, hires)', field: null });
  assert.deepEqual(parseFromWebview({ type: 'generate', params: [1] }, ctx), { ok: false, problem: 'parameters: expected an object, got an array of 1', field: null });
});

test('other message types check their fields', () => {
  const cases: Array<[unknown, unknown]> = [
    [{ type: 'ready' }, { ok: true, message: { type: 'ready' } }],
    [{ type: 'cancel', jobId: null }, { ok: true, message: { type: 'cancel', jobId: null } }],
    [{ type: 'cancel', jobId: 3 }, { ok: true, message: { type: 'cancel', jobId: 3 } }],
    [{ type: 'cancel', jobId: -3 }, { ok: false, problem: 'cancel: expected jobId null or a job number, got -3', field: null }],
    [{ type: 'cancel' }, { ok: false, problem: 'cancel: expected jobId null or a job number, got nothing (missing)', field: null }],
    [{ type: 'save', imageId: 'a1b2-3-0' }, { ok: true, message: { type: 'save', imageId: 'a1b2-3-0' } }],
    [{ type: 'insert', imageId: '../../etc/passwd' }, { ok: false, problem: 'insert: expected an image id, got "../../etc/passwd"', field: null }],
    [{ type: 'open', imageId: 7 }, { ok: false, problem: 'open: expected an image id, got 7', field: null }],
    [{ type: 'discard', imageId: 'a1b2-3-0' }, { ok: true, message: { type: 'discard', imageId: 'a1b2-3-0' } }],
    [{ type: 'discard', imageId: 'x/../y' }, { ok: false, problem: 'discard: expected an image id, got "x/../y"', field: null }],
    [{ type: 'show', imageId: 'a1b2-3-0' }, { ok: true, message: { type: 'show', imageId: 'a1b2-3-0' } }],
    [{ type: 'show', imageId: '' }, { ok: false, problem: 'show: expected an image id, got ""', field: null }],
    [{ type: 'copySeed', seed: 12 }, { ok: true, message: { type: 'copySeed', seed: 12 } }],
    [{ type: 'copySeed', seed: 1.5 }, { ok: false, problem: 'copySeed: expected a seed from 0 to 4294967295, got 1.5', field: null }],
    [{ type: 'rm -rf' }, { ok: false, problem: 'message: unknown type "rm -rf" (expected ready, generate, cancel, save, insert, open, discard, show, variations, useAsInput, pickInputImage, inputImageData, inputImageUri, copySeed or countTokens)', field: null }],
    [{}, { ok: false, problem: 'message: unknown type nothing (missing) (expected ready, generate, cancel, save, insert, open, discard, show, variations, useAsInput, pickInputImage, inputImageData, inputImageUri, copySeed or countTokens)', field: null }],
    [null, { ok: false, problem: 'message: expected an object, got null', field: null }],
    ['generate', { ok: false, problem: 'message: expected an object, got "generate"', field: null }],
  ];
  for (const [raw, expected] of cases) assert.deepEqual(parseFromWebview(raw, ctx), expected, JSON.stringify(raw));
});

test('image to image: strength and resize mode in the parameters, the input image id with generate', () => {
  assert.deepEqual(generate({ strength: 0.35, resizeMode: 'fill' }), { ok: true, message: { type: 'generate', params: { ...good, strength: 0.35, resizeMode: 'fill' } } });
  const bad = (overrides: Record<string, unknown>): unknown => {
    const r = generate(overrides) as { ok: boolean; problem?: string; field?: string };
    return r.ok ? 'accepted' : [r.field, r.problem];
  };
  assert.deepEqual([bad({ strength: 1.5 }), bad({ strength: '0.5' }), bad({ strength: Number.NaN }), bad({ resizeMode: 'stretch' })], [
    ['strength', 'Denoising strength: expected a number from 0 to 1, got 1.5'],
    ['strength', 'Denoising strength: expected a number from 0 to 1, got "0.5"'],
    ['strength', 'Denoising strength: expected a number from 0 to 1, got NaN'],
    ['resizeMode', 'Resize mode: expected just, crop or fill, got "stretch"'],
  ]);
  const id = '0123456789abcdef';
  assert.deepEqual(parseFromWebview({ type: 'generate', params: good, inputImageId: id }, ctx), { ok: true, message: { type: 'generate', params: good, inputImageId: id } });
  const problem = (m: unknown): string => { const r = parseFromWebview(m, ctx); return r.ok ? 'accepted' : r.problem; };
  assert.equal(problem({ type: 'generate', params: good, inputImageId: '../etc' }), 'generate: expected inputImageId as an input image id, got "../etc"');
});

test('input image messages: Use as Input, the picker, pasted or dropped bytes (sizes checked), dropped URIs', () => {
  const ok = (m: unknown): unknown => { const r = parseFromWebview(m, ctx); return r.ok ? r.message : r.problem; };
  assert.deepEqual(ok({ type: 'useAsInput', imageId: 'abc-1-0' }), { type: 'useAsInput', imageId: 'abc-1-0' });
  assert.equal(ok({ type: 'useAsInput', imageId: '../x' }), 'useAsInput: expected an image id, got "../x"');
  assert.deepEqual(ok({ type: 'pickInputImage' }), { type: 'pickInputImage' });
  const data = Uint8Array.of(0x89, 0x50);
  assert.deepEqual(ok({ type: 'inputImageData', name: 'cat.png', data }), { type: 'inputImageData', name: 'cat.png', data });
  // an ArrayBuffer (as some hosts deliver a transferred buffer) is taken as its bytes
  assert.deepEqual(ok({ type: 'inputImageData', name: 'cat.png', data: data.buffer }), { type: 'inputImageData', name: 'cat.png', data });
  assert.deepEqual([
    ok({ type: 'inputImageData', name: 'cat.png', data: [137, 80] }),
    ok({ type: 'inputImageData', name: 'cat.png', data: 'iVBORw0KGgo=' }),
    ok({ type: 'inputImageData', name: 'cat.png', data: new Uint8Array(0) }),
    ok({ type: 'inputImageData', name: 'cat.png', data: new Uint8Array(64 * 1024 * 1024 + 1) }),
    ok({ type: 'inputImageData', name: '', data }),
    ok({ type: 'inputImageData', name: 'x'.repeat(256), data }),
  ], [
    'inputImageData: expected the picture\'s bytes, got an array of 2',
    'inputImageData: expected the picture\'s bytes, got "iVBORw0KGgo="',
    'inputImageData: expected 1 byte to 64 MB, got 0 bytes',
    'inputImageData: expected 1 byte to 64 MB, got 67108865 bytes',
    'inputImageData: expected a name of 1 to 255 characters, got ""',
    `inputImageData: expected a name of 1 to 255 characters, got "${'x'.repeat(40)}…" (256 characters)`,
  ]);
  assert.deepEqual(ok({ type: 'inputImageUri', uri: 'file:///home/me/cat.png' }), { type: 'inputImageUri', uri: 'file:///home/me/cat.png' });
  assert.deepEqual([ok({ type: 'inputImageUri', uri: 'https://example.com/cat.png' }), ok({ type: 'inputImageUri', uri: 42 })], [
    'inputImageUri: expected a file: URI of at most 4096 characters, got "https://example.com/cat.png"',
    'inputImageUri: expected a file: URI of at most 4096 characters, got 42',
  ]);
});

test('a painted mask (run lengths) and its settings are accepted; each malformed part is refused naming it', () => {
  const inpaint = {
    mask: { width: 4, height: 2, runs: [2, 3, 3] }, maskBlur: 4, maskMode: 'masked', maskedContent: 'fill', inpaintArea: 'masked', inpaintPadding: 32,
  };
  assert.deepEqual(generate({ inpaint }), { ok: true, message: { type: 'generate', params: { ...good, inpaint } } });
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ mask: { width: 4, height: 2, runs: [2, 3] } }, /^Mask: the mask's runs cover 5 pixels, its size 4×2 has 8$/],
    [{ mask: { width: 4, height: 2, runs: [8, -1, 1] } }, /^Mask: the mask's runs should be whole numbers/],
    [{ mask: 'data:image/png;base64,AAAA' }, /^Mask: the mask should be \{width, height, runs\}$/],
    [{ maskBlur: 65 }, /^Mask: Mask blur: expected a whole number from 0 to 64, got 65$/],
    [{ inpaintPadding: -1 }, /^Mask: Only masked padding: expected a whole number from 0 to 256, got -1$/],
    [{ maskMode: 'inside' }, /^Mask: Mask mode: expected one of masked, unmasked, got "inside"$/],
    [{ maskedContent: 'noise' }, /^Mask: Masked content: expected one of fill, original, latent-noise, latent-nothing/],
    [{ inpaintArea: 'all' }, /^Mask: Inpaint area: expected one of whole, masked/],
    [{ extra: 1 }, /^Mask: unknown field "extra"/],
  ];
  for (const [change, problem] of cases) {
    const r = generate({ inpaint: { ...inpaint, ...change } }) as { ok: boolean; problem: string; field: string };
    assert.equal(r.ok, false, JSON.stringify(change));
    assert.match(r.problem, problem);
    assert.equal(r.field, 'inpaint');
  }
  assert.match((generate({ inpaint: null }) as { problem: string }).problem, /^Mask: expected the mask and its settings, got null$/);
});

test('mask settings (Reuse Parameters of an inpainted picture) are checked like the mask\'s, without a mask', () => {
  const maskSettings = { maskBlur: 7, maskMode: 'unmasked', maskedContent: 'latent-noise', inpaintArea: 'masked', inpaintPadding: 48 };
  assert.deepEqual(generate({ maskSettings }), { ok: true, message: { type: 'generate', params: { ...good, maskSettings } } });
  const problem = (v: unknown) => (generate({ maskSettings: v }) as { problem: string; field: string });
  assert.deepEqual(problem({ ...maskSettings, maskBlur: -1 }), { ok: false, problem: 'Mask settings: Mask blur: expected a whole number from 0 to 64, got -1', field: 'maskSettings' });
  assert.match(problem({ ...maskSettings, mask: { width: 1, height: 1, runs: [1] } }).problem, /^Mask settings: unknown field "mask"$/);
  assert.match(problem('fill').problem, /^Mask settings: expected the mask settings, got "fill"$/);
});
