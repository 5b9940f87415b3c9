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
    { ok: false, problem: 'parameters: unknown field "extra" (expected only prompt, negativePrompt, sampler, steps, cfgScale, seed, randomSeed, width, height, batchCount, model, clipSkip, oldPromptEditingTimelines, variationSeed, randomVariationSeed, variationStrength, hires)', field: null });
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
    [{ type: 'rm -rf' }, { ok: false, problem: 'message: unknown type "rm -rf" (expected ready, generate, cancel, save, insert, open, discard, show, variations, copySeed or countTokens)', field: null }],
    [{}, { ok: false, problem: 'message: unknown type nothing (missing) (expected ready, generate, cancel, save, insert, open, discard, show, variations, copySeed or countTokens)', field: null }],
    [null, { ok: false, problem: 'message: expected an object, got null', field: null }],
    ['generate', { ok: false, problem: 'message: expected an object, got "generate"', field: null }],
  ];
  for (const [raw, expected] of cases) assert.deepEqual(parseFromWebview(raw, ctx), expected, JSON.stringify(raw));
});
