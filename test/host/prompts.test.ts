import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PanelParams } from '../../src/protocol/webviewMessages';
import { parseFromWebview } from '../../src/panel/webviewMessageGuards';
import { paramsFromInfotext } from '../../src/generation/reuseParameters';
import { DEFAULT_SETTINGS, readSettings } from '../../src/generation/settings';
import { buildRequests } from '../../src/generation/requestBuilder';
import { parseCommandLine, UsageError } from '../../src/cli/args';

const ctx = { modelIds: ['/m/sd15'] };
const params: PanelParams = {
  prompt: 'a (fox:1.2)', negativePrompt: '', sampler: 'euler_a', steps: 20, cfgScale: 7.5, seed: 42,
  randomSeed: false, width: 512, height: 512, batchCount: 1, model: '/m/sd15',
};

test('countTokens from the webview is checked like every other message', () => {
  const count = (m: Record<string, unknown>): unknown =>
    parseFromWebview({ type: 'countTokens', prompt: 'a', negativePrompt: '', model: '/m/sd15', steps: 20, ...m }, ctx);
  assert.deepEqual(count({}), { ok: true, message: { type: 'countTokens', prompt: 'a', negativePrompt: '', model: '/m/sd15', steps: 20 } });
  assert.deepEqual([count({ prompt: 3 }), count({ model: '/elsewhere' }), count({ steps: 0 }), count({ negativePrompt: 'x'.repeat(10_001) })]
    .map((r) => (r as { ok: boolean; problem?: string }).problem), [
    'countTokens: expected prompt as text of at most 10000 characters, got 3',
    'countTokens: expected one of the listed models, got "/elsewhere"',
    'countTokens: expected steps from 1 to 1000, got 0',
    'countTokens: expected negativePrompt as text of at most 10000 characters, got "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…" (10001 characters)',
  ]);
});

test('a generate message may carry a clip skip from 1 to 12', () => {
  assert.deepEqual(parseFromWebview({ type: 'generate', params: { ...params, clipSkip: 2 } }, ctx),
    { ok: true, message: { type: 'generate', params: { ...params, clipSkip: 2 } } });
  assert.deepEqual(parseFromWebview({ type: 'generate', params: { ...params, clipSkip: 13 } }, ctx),
    { ok: false, problem: 'Clip skip: expected a whole number from 1 to 12, got 13', field: 'clipSkip' });
});

test('Reuse Parameters takes A1111\'s Clip skip (none written means 1) and says which Emphasis made the image', () => {
  const text = (extra: string): string => `a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512${extra}`;
  const current = { ...params, clipSkip: 3 };
  assert.deepEqual([paramsFromInfotext(text(', Clip skip: 2'), current, []), paramsFromInfotext(text(''), current, [])]
    .map((r) => [r.params.clipSkip, r.notes]), [[2, []], [1, []]]);
  assert.deepEqual(paramsFromInfotext(text(', Clip skip: 40, Emphasis: No norm'), current, []).notes, [
    'Clip skip "40" is not a whole number from 1 to 12; kept the current one',
    'the image was made with Emphasis "No norm": set inlineDiffusion.emphasis to "no-norm" to weigh its prompt the same way',
  ]);
});

test('clip skip and emphasis settings reach the requests; the panel\'s clip skip wins over the setting', () => {
  const settings = readSettings((key) => ({ clipSkip: 2, emphasis: 'no-norm' } as Record<string, unknown>)[key]);
  assert.deepEqual([settings.clipSkip, settings.emphasis], [2, 'no-norm']);
  assert.deepEqual([readSettings((key) => ({ clipSkip: 0, emphasis: 'loud' } as Record<string, unknown>)[key])]
    .map((s) => [s.clipSkip, s.emphasis]), [[1, 'original']]);
  const [fromSetting] = buildRequests(params, '/m/sd15', settings);
  const [fromPanel] = buildRequests({ ...params, clipSkip: 1 }, '/m/sd15', settings);
  const [plain] = buildRequests(params, '/m/sd15', DEFAULT_SETTINGS);
  assert.deepEqual([fromSetting.clipSkip, fromSetting.emphasis, fromPanel.clipSkip, plain.clipSkip, plain.emphasis],
    [2, 'no-norm', undefined, undefined, undefined]);
});

test('the CLI takes --clip-skip and --emphasis', () => {
  const parsed = parseCommandLine(['generate', '--prompt', 'x', '--clip-skip', '2', '--emphasis', 'no-norm']);
  assert.ok(parsed.kind === 'generate');
  assert.deepEqual([parsed.args.clipSkip, parsed.args.emphasis], [2, 'no-norm']);
  assert.throws(() => parseCommandLine(['generate', '--prompt', 'x', '--emphasis', 'loud']),
    (e: unknown) => e instanceof UsageError && /--emphasis: expected one of original, no-norm, none, got 'loud'/.test(e.message));
});
