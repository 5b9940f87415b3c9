import assert from 'node:assert/strict';
import { test } from 'node:test';
import { promptSchedules, splitAndPrompts } from '../../../src/engine/prompt';

// Prompts come from pasted text and PNGs anyone can hand a user, and are parsed in the engine process on every token
// count. These are complexity guards (bounds ≥ 20× above what the inputs take now), not speed targets.

test('deeply nested or unclosed brackets parse in linear time and never overflow the stack', () => {
  // before: '('×2400 took 20 s (each unclosed bracket parsed again from every outer one); '('×2575 and deeper threw
  // "Maximum call stack size exceeded"
  for (const prompt of ['('.repeat(2400), '('.repeat(9000), '[:'.repeat(1200), '[a:'.repeat(800), `${'['.repeat(4000)}x${']'.repeat(4000)}`]) {
    const start = performance.now();
    const schedule = promptSchedules(prompt, 20);
    const ms = performance.now() - start;
    assert.deepEqual(schedule, [[20, prompt]], `${prompt.slice(0, 6)}… (${prompt.length} chars): the prompt as it is`);
    assert.ok(ms < 1000, `${prompt.slice(0, 6)}… (${prompt.length} chars) took ${ms.toFixed(0)} ms`);
  }
});

test('brackets nested up to 500 deep still parse as A1111 parses them', () => {
  const depth = 400;
  const prompt = `${'['.repeat(depth)}a:b:5${']'.repeat(depth)}`;
  assert.deepEqual(promptSchedules(prompt, 10), [[5, `${'['.repeat(depth - 1)}a${']'.repeat(depth - 1)}`], [10, `${'['.repeat(depth - 1)}b${']'.repeat(depth - 1)}`]]);
});

test('an AND sub-prompt of many lines after long leading whitespace splits in linear time', () => {
  // before: ' '×2000 + 'x\ny' took 7.1 s (re_weight's leading \s* and lazy .*? tried against each other)
  for (const prompt of [`${' '.repeat(9000)}x\ny`, `${' '.repeat(9000)}x\ny:1.5`, `x${' '.repeat(9000)}\ny`]) {
    const start = performance.now();
    const parts = splitAndPrompts(prompt);
    const ms = performance.now() - start;
    assert.deepEqual(parts, [[prompt, 1]], 'no match: the sub-prompt as it is, weight 1 (as re_weight.search gives None)');
    assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
  }
});
