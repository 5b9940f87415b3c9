import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combineComposable } from '../../../src/engine/prompt';
import { guideNoise } from '../../../src/engine/pipeline';

test('one sub-prompt of weight 1 is plain classifier-free guidance, bit for bit', () => {
  const u = Float32Array.from([0.1, -0.7, 2.5, 1e-3]);
  const c = Float32Array.from([0.3, 0.2, -1.25, 7]);
  const both = new Float32Array(8);
  both.set(u, 0);
  both.set(c, 4);
  assert.deepStrictEqual(combineComposable(u, [c], [1], 7.5), guideNoise(both, 7.5));
});

test('AND sub-prompts add (cⱼ − u)·wⱼ·cfg to the unconditional output, in float32', () => {
  const u = Float32Array.from([1, 2]);
  const c1 = Float32Array.from([2, 2]);
  const c2 = Float32Array.from([0, 4]);
  const f = Math.fround;
  assert.deepStrictEqual(combineComposable(u, [c1, c2], [0.6, -0.4], 5),
    Float32Array.from([f(f(1 + f(1 * f(3))) + f(-1 * f(-2))), f(f(2 + 0) + f(2 * f(-2)))]));
});
