import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultRequest, validateRequest } from '../../src/engine/request';
import { EngineError } from '../../src/engine/model/engineError';
import type { GenerateRequest } from '../../src/protocol/engineMessages';
import type { ModelInfo } from '../../src/engine/model/modelTypes';

const GOOD: GenerateRequest = {
  modelDir: '/models/tiny',
  prompt: 'a red circle on a blue background',
  negativePrompt: '',
  sampler: null,
  steps: 20,
  cfgScale: 7.5,
  seed: 42,
  width: 512,
  height: 512,
  batchSize: 1,
  initImage: null,
  strength: 0.75,
  previews: false,
  rng: 'cpu',
  executionProvider: 'auto',
  threads: null,
};

/** The list of problems validateRequest reports for `patch` applied to a good request. */
function problemsOf(patch: Record<string, unknown>): string[] {
  try {
    validateRequest({ ...GOOD, ...patch });
  } catch (error) {
    assert.ok(error instanceof EngineError, `expected an EngineError, got ${String(error)}`);
    assert.equal(error.code, 'invalid-request');
    return error.message.split('\n').slice(1).map((line) => line.replace(/^- /, ''));
  }
  return [];
}

test('accepts a good request and returns an equal object', () => {
  assert.deepEqual(validateRequest({ ...GOOD }), GOOD);
});

test('accepts edge values: empty prompt, size 64 and 2048, steps 1 and 1000, cfg 0 and 50, seed 2^32-1, strength 0 and 1', () => {
  const edges: Array<Record<string, unknown>> = [
    { prompt: '' }, { width: 64, height: 2048 }, { steps: 1 }, { steps: 1000 }, { cfgScale: 0 }, { cfgScale: 50 },
    { seed: 0 }, { seed: 4294967295 }, { strength: 0 }, { strength: 1 }, { sampler: 'Euler a' }, { sampler: 'dpmpp_2m_karras' },
    { sampler: 'PNDMScheduler' }, { threads: 4 }, { rng: 'nv' }, { prompt: 'x'.repeat(10_000) },
    { initImage: { width: 3, height: 2, rgb: new Uint8Array(18) } }, { negativePrompt: null }, { negativePrompt: 'blurry' },
  ];
  for (const patch of edges) assert.deepEqual(problemsOf(patch), [], JSON.stringify(patch));
});

test('names the field, the expected range and what arrived for each bad input of issue 2', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ width: 500 }, 'width: expected a multiple of 8 in 64…2048, got 500'],
    [{ height: 56 }, 'height: expected a multiple of 8 in 64…2048, got 56'],
    [{ width: 2056 }, 'width: expected a multiple of 8 in 64…2048, got 2056'],
    [{ steps: 0 }, 'steps: expected an integer in 1…1000, got 0'],
    [{ clipSkip: 0 }, 'clipSkip: expected an integer in 1…12, got 0'],
    [{ emphasis: 'loud' }, 'emphasis: expected one of "original", "no-norm", "none", got "loud"'],
    [{ steps: 1001 }, 'steps: expected an integer in 1…1000, got 1001'],
    [{ steps: 2.5 }, 'steps: expected an integer in 1…1000, got 2.5'],
    [{ cfgScale: -1 }, 'cfgScale: expected a number in 0…50, got -1'],
    [{ cfgScale: Number.NaN }, 'cfgScale: expected a number in 0…50, got NaN'],
    [{ cfgScale: 50.5 }, 'cfgScale: expected a number in 0…50, got 50.5'],
    [{ seed: -1 }, 'seed: expected an integer in 0…4294967295, got -1'],
    [{ seed: 4294967296 }, 'seed: expected an integer in 0…4294967295, got 4294967296'],
    [{ seed: 1.5 }, 'seed: expected an integer in 0…4294967295, got 1.5'],
    [{ seed: '42' }, 'seed: expected an integer in 0…4294967295, got "42"'],
    [{ negativePrompt: 3 }, 'negativePrompt: expected a string or null (none), got 3'],
    [{ prompt: 'a'.repeat(10_001) }, 'prompt: expected at most 10000 characters, got 10001 characters'],
    [{ strength: 1.5 }, 'strength: expected a number in 0…1, got 1.5'],
    [{ strength: -0.1 }, 'strength: expected a number in 0…1, got -0.1'],
    [{ modelDir: '' }, 'modelDir: expected a non-empty string, got ""'],
    [{ rng: 'gpu' }, 'rng: expected one of "cpu", "nv", got "gpu"'],
    [{ previews: 'yes' }, 'previews: expected true or false, got "yes"'],
    [{ vaeDecode: 'taesd' }, 'vaeDecode: expected one of "auto", "full", "tiled", "fast", got "taesd"'],
    [{ oldPromptEditingTimelines: 'True' }, 'oldPromptEditingTimelines: expected true or false, got "True"'],
    [{ batchSize: 0 }, 'batchSize: expected an integer in 1…64, got 0'],
    [{ threads: 0 }, 'threads: expected an integer in 1…256 or null, got 0'],
    [{ initImage: { width: 2, height: 2, rgb: new Uint8Array(5) } },
      'initImage: expected null or an RGB image {width, height, rgb: Uint8Array of width·height·3 bytes}: 2×2 needs 12 bytes, got 5'],
    [{ initImage: 'photo.png' },
      'initImage: expected null or an RGB image {width, height, rgb: Uint8Array of width·height·3 bytes}, got "photo.png"'],
    [{ stepz: 20 }, 'stepz: unknown field (expected only modelDir, prompt, negativePrompt, sampler, steps, cfgScale, seed, '
      + 'width, height, batchSize, initImage, strength, resizeMode, inpaint, previews, rng, clipSkip, emphasis, oldPromptEditingTimelines, '
      + 'vaeDecode, executionProvider, threads, loraDir, embeddingsDir, variationSeed, variationStrength, seedResizeFrom, hires)'],
  ];
  for (const [patch, message] of cases) assert.deepEqual(problemsOf(patch), [message]);
});

test('rejects an unknown sampler and lists the known names', () => {
  const [problem] = problemsOf({ sampler: 'warp_drive' });
  assert.match(problem, /^sampler: expected null \(the model's own scheduler\) or one of euler, euler_a, .*; got "warp_drive"$/);
  assert.ok(problem.includes('DPM++ 2M Karras') && problem.includes('UniPCMultistepScheduler'));
});

test('reports every problem at once', () => {
  assert.deepEqual(problemsOf({ width: 7, steps: 0, seed: -3 }), [
    'steps: expected an integer in 1…1000, got 0',
    'seed: expected an integer in 0…4294967295, got -3',
    'width: expected a multiple of 8 in 64…2048, got 7',
  ]);
});

test('rejects a batch whose last seed passes 2^32-1', () => {
  assert.deepEqual(problemsOf({ seed: 4294967295, batchSize: 2 }), [
    'seed: image i of a batch uses seed + i, so seed + batchSize − 1 must be ≤ 4294967295; got seed 4294967295 with batchSize 2',
  ]);
});

test('rejects a missing field and a non-object', () => {
  const { steps: _steps, ...withoutSteps } = GOOD;
  assert.throws(() => validateRequest(withoutSteps), /steps: expected an integer in 1…1000, got nothing \(missing\)/);
  assert.throws(() => validateRequest('generate please'), { name: 'EngineError', message: /expected an object, got "generate please"/ });
});

test('defaultRequest takes the native size from the model and the documented defaults', () => {
  const info = { dir: '/m/tiny', sampleSize: 8, vaeScaleFactor: 8 } as ModelInfo;
  const d = defaultRequest(info);
  assert.deepEqual(
    [d.modelDir, d.width, d.height, d.negativePrompt, d.sampler, d.steps, d.cfgScale, d.batchSize, d.initImage, d.rng, d.threads],
    ['/m/tiny', 64, 64, null, null, 20, 7.5, 1, null, 'cpu', null],
  );
  assert.deepEqual(validateRequest({ ...d, prompt: 'x' }), { ...d, prompt: 'x' });
});

test('resizeMode: absent, or one of A1111\'s just / crop / fill', () => {
  assert.equal(validateRequest(GOOD).resizeMode, undefined);
  for (const mode of ['just', 'crop', 'fill'] as const) assert.equal(validateRequest({ ...GOOD, resizeMode: mode }).resizeMode, mode);
  assert.throws(() => validateRequest({ ...GOOD, resizeMode: 'stretch' }), /resizeMode: expected one of "just", "crop", "fill", got "stretch"/);
  assert.throws(() => validateRequest({ ...GOOD, resizeMode: 1 }), /resizeMode: expected one of .*got 1/);
});

test('inpaint: a grayscale mask and A1111\'s settings are accepted with an init image; each bad part is named', () => {
  const init = { width: 2, height: 2, rgb: new Uint8Array(12) };
  const inpaint = {
    mask: { width: 2, height: 2, gray: new Uint8Array([0, 255, 255, 0]) }, maskBlur: 4, maskMode: 'masked',
    maskedContent: 'fill', inpaintArea: 'masked', inpaintPadding: 32,
  };
  assert.deepEqual(validateRequest({ ...GOOD, initImage: init, inpaint }).inpaint, inpaint);
  assert.equal(validateRequest({ ...GOOD, inpaint: null }).inpaint, null);
  assert.deepEqual(problemsOf({ inpaint }), ['inpaint: a mask needs an input image (initImage is null)']);
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ mask: { width: 2, height: 2, gray: new Uint8Array(3) } }, /^inpaint\.mask: .*2×2 needs 4 bytes, got 3$/],
    [{ mask: { width: 0, height: 2, gray: new Uint8Array(0) } }, /^inpaint\.mask: .*sides in 1…16384/],
    [{ mask: { width: 2, height: 2, gray: [0, 0, 0, 0] } }, /^inpaint\.mask: .*got gray an array of 4$/],
    [{ mask: 'mask.png' }, /^inpaint\.mask: expected a grayscale image/],
    [{ maskBlur: 65 }, /^inpaint\.maskBlur: expected an integer in 0…64, got 65$/],
    [{ maskBlur: 1.5 }, /^inpaint\.maskBlur: /],
    [{ inpaintPadding: 257 }, /^inpaint\.inpaintPadding: expected an integer in 0…256, got 257$/],
    [{ maskMode: 'inside' }, /^inpaint\.maskMode: expected one of "masked", "unmasked", got "inside"$/],
    [{ maskedContent: 'noise' }, /^inpaint\.maskedContent: expected one of "fill", "original", "latent-noise", "latent-nothing"/],
    [{ inpaintArea: 'all' }, /^inpaint\.inpaintArea: expected one of "whole", "masked"/],
    [{ extra: 1 }, /^inpaint\.extra: unknown field/],
  ];
  for (const [patch, message] of bad) {
    const problems = problemsOf({ initImage: init, inpaint: { ...inpaint, ...patch } });
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0], message);
  }
  assert.match(problemsOf({ initImage: init, inpaint: 'yes' })[0], /^inpaint: expected null or \{mask, maskBlur/);
});

test('variation seed, strength, Resize seed from and hires. fix: accepted as given', () => {
  const request = { ...GOOD, variationSeed: 4294967295, variationStrength: 1, seedResizeFrom: { width: 0, height: 768 },
    hires: { scale: 4, steps: 150, strength: 1, upscaler: 'Latent (nearest-exact)' as const } };
  assert.deepEqual(validateRequest(request), request);
  assert.deepEqual(validateRequest({ ...GOOD, hires: null, variationStrength: 0 }), { ...GOOD, hires: null, variationStrength: 0 });
});

test('each bad variation or hires value is named with what was expected and what arrived', () => {
  const cases: Array<[Record<string, unknown>, string[]]> = [
    [{ variationSeed: -1, variationStrength: 0.1 }, ['variationSeed: expected an integer in 0…4294967295, got -1']],
    [{ variationSeed: 1, variationStrength: 1.01 }, ['variationStrength: expected a number in 0…1, got 1.01']],
    [{ variationStrength: 0.3 }, ['variationSeed: a variation strength of 0.3 needs a variation seed (an integer in 0…4294967295), got nothing (missing)']],
    [{ variationSeed: 4294967295, variationStrength: 0.3, batchSize: 2 }, ['variationSeed: image i of a batch uses variationSeed + i, so variationSeed + batchSize − 1 must be ≤ 4294967295; got variationSeed 4294967295 with batchSize 2']],
    [{ seedResizeFrom: '512x512' }, ['seedResizeFrom: expected {width, height}, integers in 0…2048 (0: not resized), got "512x512"']],
    [{ seedResizeFrom: { width: 512, height: 4096 } }, ['seedResizeFrom: expected {width, height}, integers in 0…2048 (0: not resized), got width 512, height 4096']],
    [{ hires: 'yes' }, ['hires: expected null or {scale, steps, strength, upscaler}, got "yes"']],
    [{ hires: { scale: 2, steps: 0, strength: 0.5, upscaler: 'Latent', denoise: 1 } }, ['hires.denoise: unknown field (expected only scale, steps, strength, upscaler)']],
    [{ hires: { scale: 1, steps: -1, strength: 0, upscaler: 'ESRGAN' } }, [
      'hires.scale: expected a number above 1 and at most 4, got 1',
      'hires.steps: expected an integer in 0…150 (0: the first pass\'s steps), got -1',
      'hires.strength: expected a denoising strength above 0 and at most 1, got 0',
      'hires.upscaler: expected one of "Latent", "Latent (antialiased)", "Latent (bicubic)", "Latent (bicubic antialiased)", "Latent (nearest)", "Latent (nearest-exact)", "None", "Lanczos", got "ESRGAN"',
    ]],
    [{ hires: { scale: 2, steps: 0, strength: 0.5, upscaler: 'Latent' }, initImage: { width: 1, height: 1, rgb: new Uint8Array(3) } },
      ['hires: hires. fix follows text to image (as in A1111); it cannot run with an init image']],
    [{ hires: { scale: 1.01, steps: 0, strength: 0.5, upscaler: 'Latent' } }, ['hires.scale: 512×512 upscaled by 1.01 stays 512×512 (sides round down to multiples of 8); use a larger upscale']],
    [{ width: 1024, hires: { scale: 2.5, steps: 0, strength: 0.5, upscaler: 'Latent' } }, ['hires.scale: 1024×512 upscaled by 2.5 is 2560×1280, past the largest side of 2048; use an upscale of at most 2']],
  ];
  for (const [patch, expected] of cases) assert.deepEqual(problemsOf(patch), expected, JSON.stringify(patch));
});
