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
  // a crafted value names no built-in property of a lookup object ("function Object() { [native code] }" before)
  assert.deepEqual(paramsFromInfotext(text(', Emphasis: constructor'), current, []).notes, ['the image was made with Emphasis "constructor"']);
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

test('a generate message may carry the old prompt editing timelines, as true or false only', () => {
  assert.deepEqual(parseFromWebview({ type: 'generate', params: { ...params, oldPromptEditingTimelines: true } }, ctx),
    { ok: true, message: { type: 'generate', params: { ...params, oldPromptEditingTimelines: true } } });
  assert.deepEqual(parseFromWebview({ type: 'generate', params: { ...params, oldPromptEditingTimelines: 1 } }, ctx),
    { ok: false, problem: 'Old prompt editing timelines: expected true or false, got 1', field: 'oldPromptEditingTimelines' });
});

test('Reuse Parameters takes A1111\'s old prompt editing timelines: written as True by A1111 ≥ 1.6, or an image of A1111 < 1.6 with "[" in its prompt (its backcompat)', () => {
  const text = (prompt: string, extra: string): string => `${prompt}\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512${extra}`;
  const old = (prompt: string, extra: string, current: PanelParams = params): boolean | undefined =>
    paramsFromInfotext(text(prompt, extra), current, []).params.oldPromptEditingTimelines;
  assert.deepEqual([
    old('a [cat:dog:1.0]', ', Old prompt editing timelines: True, Version: v1.10.1'),
    old('a [cat:dog:1.0]', ', Version: v1.10.1'),
    old('a [cat:dog:1.0]', ', Version: v1.5.2'),
    old('a cat', ', Version: v1.5.2'),
    old('a [cat:dog:1.0]', ', Version: 1.2.0'),
    old('a [cat:dog:1.0]', ''),
    old('a [cat:dog:1.0]', ', Version: v1.10.1', { ...params, oldPromptEditingTimelines: true }),
  ], [true, undefined, true, undefined, true, undefined, undefined]);
});

test('the old prompt editing timelines reach the request only when ticked', () => {
  const [on] = buildRequests({ ...params, oldPromptEditingTimelines: true }, '/m/sd15', DEFAULT_SETTINGS);
  const [off] = buildRequests({ ...params, oldPromptEditingTimelines: false }, '/m/sd15', DEFAULT_SETTINGS);
  assert.deepEqual([on.oldPromptEditingTimelines, 'oldPromptEditingTimelines' in off], [true, false]);
});

test('the CLI takes --clip-skip, --emphasis and --old-prompt-editing-timelines', () => {
  const parsed = parseCommandLine(['generate', '--prompt', 'x', '--clip-skip', '2', '--emphasis', 'no-norm']);
  assert.ok(parsed.kind === 'generate');
  assert.deepEqual([parsed.args.clipSkip, parsed.args.emphasis, parsed.args.oldPromptEditingTimelines], [2, 'no-norm', false]);
  const old = parseCommandLine(['generate', '--prompt', 'x', '--old-prompt-editing-timelines']);
  assert.ok(old.kind === 'generate' && old.args.oldPromptEditingTimelines);
  assert.throws(() => parseCommandLine(['generate', '--prompt', 'x', '--emphasis', 'loud']),
    (e: unknown) => e instanceof UsageError && /--emphasis: expected one of original, no-norm, none, got 'loud'/.test(e.message));
});
