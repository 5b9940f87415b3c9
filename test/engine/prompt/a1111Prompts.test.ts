import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { countPromptTokens, parsePromptAttention, promptChunks, promptSchedules, splitAndPrompts } from '../../../src/engine/prompt';
import { ClipTokenizer } from '../../../src/engine/tokenizer';

const SHARED = path.resolve(__dirname, '../../../../shared/data');
const CLIP_DIR = path.join(SHARED, 'clip');

/** A recorded call: A1111's result, or the exception it raised (for which ours is a deliberate choice). */
type Outcome<T> = { result: T; error?: undefined } | { error: string; result?: undefined };
interface Recorded {
  attention: Array<{ text: string } & Outcome<Array<[string, number]>>>;
  schedules: Array<{ prompt: string; steps: number; oldTimelines: boolean } & Outcome<Array<[number, string]>>>;
  and: Array<{ prompt: string } & Outcome<Array<[string, number]>>>;
  chunks: Array<{ prompt: string; commaBacktrack: number; emphasis: 'Original' | 'None' } &
    Outcome<{ chunks: Array<{ tokens: number[]; multipliers: number[] }>; tokenCount: number }>>;
}
const shared = JSON.parse(readFileSync(path.join(SHARED, 'reference/a1111_prompts.json'), 'utf8')) as {
  attention: Array<{ text: string; result: Array<[string, number]> }>;
  schedules: Array<{ prompt: string; steps: number; result: Array<[number, string]> }>;
  and: Array<{ prompt: string; result: Array<[string, number]> }>;
};
const recorded = JSON.parse(readFileSync(path.join(__dirname, 'fixtures/a1111_prompts.json'), 'utf8')) as Recorded;

/** Every mismatch of a batch, so one failing run shows them all. */
function assertAll<C>(cases: C[], actual: (c: C) => unknown, expected: (c: C) => unknown, label: (c: C) => string): void {
  const failures: string[] = [];
  for (const c of cases) {
    try {
      assert.deepStrictEqual(actual(c), expected(c));
    } catch (e) {
      failures.push(`${label(c)}: ${(e as Error).message.split('\n').slice(0, 12).join('\n')}`);
    }
  }
  assert.equal(failures.length, 0, `${failures.length} of ${cases.length} differ from A1111:\n${failures.slice(0, 8).join('\n')}`);
}

test('parsePromptAttention gives A1111\'s docstring results, weights to the last bit', () => {
  assertAll(shared.attention, (c) => parsePromptAttention(c.text), (c) => c.result, (c) => JSON.stringify(c.text));
});

test('promptSchedules and splitAndPrompts give A1111\'s docstring results', () => {
  assertAll(shared.schedules, (c) => promptSchedules(c.prompt, c.steps), (c) => c.result, (c) => JSON.stringify(c.prompt));
  assertAll(shared.and, (c) => splitAndPrompts(c.prompt), (c) => c.result, (c) => JSON.stringify(c.prompt));
});

test('parsePromptAttention matches every recorded A1111 answer (escapes, numbers, BREAK, Unicode, fuzz)', () => {
  const ok = recorded.attention.filter((c) => c.error === undefined);
  assert.ok(ok.length > 1500);
  assertAll(ok, (c) => parsePromptAttention(c.text), (c) => c.result, (c) => JSON.stringify(c.text));
});

test('a weight float() cannot read stays text where A1111 raises', () => {
  const raised = recorded.attention.filter((c) => c.error !== undefined);
  assert.ok(raised.length >= 2);
  assert.deepStrictEqual(parsePromptAttention('(f:1.2.3) g'), [['f:1.2.3) g', 1.1]]);
  for (const c of raised) assert.doesNotThrow(() => parsePromptAttention(c.text));
});

test('promptSchedules matches every recorded A1111 schedule (editing, nesting, alternation, odd input, fuzz; both timelines)', () => {
  const ok = recorded.schedules.filter((c) => c.error === undefined);
  assert.ok(ok.length > 3800);
  assert.ok(ok.some((c) => c.oldTimelines) && ok.some((c) => !c.oldTimelines));
  assertAll(ok, (c) => promptSchedules(c.prompt, c.steps, { useOldScheduling: c.oldTimelines }), (c) => c.result,
    (c) => `${JSON.stringify(c.prompt)} @${c.steps}${c.oldTimelines ? ' (old timelines)' : ''}`);
});

test('A1111 1.6+ reads a decimal "when" as a fraction and an integer as a step; its old timelines read anything below 1 as a fraction', () => {
  assert.deepStrictEqual([promptSchedules('[a:b:1.0]', 10), promptSchedules('[a:b:1.0]', 10, { useOldScheduling: true }),
    promptSchedules('[fe|]male', 3)], [[[10, 'a']], [[1, 'a'], [10, 'b']], [[1, 'female'], [2, 'male'], [3, 'female']]]);
});

test('a prompt A1111 raises on is scheduled as it is', () => {
  const raised = recorded.schedules.filter((c) => c.error !== undefined);
  assert.ok(raised.length >= 10);
  assertAll(raised, (c) => promptSchedules(c.prompt, c.steps, { useOldScheduling: c.oldTimelines }), (c) => [[c.steps, c.prompt]], (c) => JSON.stringify(c.prompt));
});

test('splitAndPrompts matches every recorded A1111 AND split', () => {
  assertAll(recorded.and, (c) => splitAndPrompts(c.prompt), (c) => c.result, (c) => JSON.stringify(c.prompt));
});

test('promptChunks matches A1111\'s tokenize_line: long prompts, comma backtrack, BREAK, weights, emphasis None', async () => {
  const tokenizer = await ClipTokenizer.fromFolder(CLIP_DIR);
  assert.ok(recorded.chunks.length > 400);
  assertAll(recorded.chunks,
    (c) => promptChunks(c.prompt, tokenizer, c.commaBacktrack, c.emphasis === 'None' ? 'none' : 'original'),
    (c) => c.result, (c) => `${JSON.stringify(c.prompt.slice(0, 60))} backtrack ${c.commaBacktrack} ${c.emphasis}`);
});

test('countPromptTokens counts as A1111\'s token counter: the longest scheduled text, the next multiple of 75', async () => {
  const tokenizer = await ClipTokenizer.fromFolder(CLIP_DIR);
  const long = 'word '.repeat(80);
  assert.deepStrictEqual([
    countPromptTokens('', tokenizer, 20),
    countPromptTokens('a photo of a cat <lora:x:1>', tokenizer, 20),
    countPromptTokens(`a [cat:${long}:5] AND b`, tokenizer, 20),
    countPromptTokens('a BREAK b', tokenizer, 20),
    countPromptTokens('x AND y', tokenizer, 20, false),
  ], [
    { tokens: 0, limit: 75 },
    { tokens: 5, limit: 75 },
    { tokens: 81, limit: 150 },
    { tokens: 76, limit: 150 },
    { tokens: 3, limit: 75 },
  ]);
});
