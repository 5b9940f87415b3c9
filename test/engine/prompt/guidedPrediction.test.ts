import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combineComposable } from '../../../src/engine/prompt';
import type { TextConditioning } from '../../../src/engine/prompt/conditioning';
import { createGuidedPredictor, type PredictNoise, type PromptPlan } from '../../../src/engine/prompt/guidedPrediction';

/** A text conditioning of `tokens` tokens, width 2, every value `v`. */
const cond = (v: number, tokens = 77): TextConditioning => ({ hidden: new Float32Array(tokens * 2).fill(v), tokens, width: 2 });

/** A fake UNet: each row's output is its sample times the first hidden value of that row, plus the row's token count / 1000. */
function fakeUnet(calls: Array<{ rows: number; tokens: number }>): PredictNoise {
  return async (sample, dims, _t, hidden, hiddenDims) => {
    calls.push({ rows: dims[0], tokens: hiddenDims[1] });
    const size = sample.length / dims[0];
    const out = new Float32Array(sample.length);
    for (let r = 0; r < dims[0]; r++) {
      const h = hidden[r * hiddenDims[1] * hiddenDims[2]];
      for (let k = 0; k < size; k++) out[r * size + k] = sample[r * size + k] * h + hiddenDims[1] / 1000;
    }
    return out;
  };
}

const latents = Float32Array.from([1, 2, 3, 4]); // 2 images of 1×1×2
const dims = [2, 1, 1, 2];
const image = (i: number): Float32Array => latents.slice(i * 2, i * 2 + 2);
const times = (x: Float32Array, h: number, tokens: number): Float32Array => x.map((v) => v * h + tokens / 1000);

test('one part of weight 1 with a negative prompt of the same length: one UNet call, classifier-free guidance', async () => {
  const calls: Array<{ rows: number; tokens: number }> = [];
  const plan: PromptPlan = { parts: [{ weight: 1, schedule: [{ endAtStep: 10, cond: cond(3) }] }], negative: [{ endAtStep: 10, cond: cond(1) }] };
  const predict = createGuidedPredictor({ plan, predictNoise: fakeUnet(calls), batch: 2, cfgScale: 7, embeddedGuidance: false });
  const guided = await predict(latents, dims, 0, 999);
  const expected = [0, 1].flatMap((i) => [...combineComposable(times(image(i), 1, 77), [times(image(i), 3, 77)], [1], 7)]);
  assert.deepStrictEqual({ calls, guided: [...guided] }, { calls: [{ rows: 4, tokens: 77 }], guided: expected });
});

test('prompt and negative prompt of different lengths run in separate UNet calls, as A1111 does by default', async () => {
  const calls: Array<{ rows: number; tokens: number }> = [];
  const plan: PromptPlan = { parts: [{ weight: 1, schedule: [{ endAtStep: 10, cond: cond(3, 154) }] }], negative: [{ endAtStep: 10, cond: cond(1) }] };
  const predict = createGuidedPredictor({ plan, predictNoise: fakeUnet(calls), batch: 2, cfgScale: 5, embeddedGuidance: false });
  const guided = await predict(latents, dims, 0, 999);
  const expected = [0, 1].flatMap((i) => [...combineComposable(times(image(i), 1, 77), [times(image(i), 3, 154)], [1], 5)]);
  assert.deepStrictEqual({ calls, guided: [...guided] }, { calls: [{ rows: 2, tokens: 77 }, { rows: 2, tokens: 154 }], guided: expected });
});

test('AND parts share one UNet batch and combine with their weights; the conditioning switches at the scheduled call', async () => {
  const calls: Array<{ rows: number; tokens: number }> = [];
  const plan: PromptPlan = {
    parts: [
      { weight: 1, schedule: [{ endAtStep: 2, cond: cond(2) }, { endAtStep: 10, cond: cond(5) }] },
      { weight: -0.4, schedule: [{ endAtStep: 10, cond: cond(3) }] },
    ],
    negative: [{ endAtStep: 10, cond: cond(1) }],
  };
  const predict = createGuidedPredictor({ plan, predictNoise: fakeUnet(calls), batch: 2, cfgScale: 6, embeddedGuidance: false });
  const at = async (call: number): Promise<number[]> => [...await predict(latents, dims, call, 999)];
  const expected = (first: number): number[] => [0, 1].flatMap((i) => [...combineComposable(times(image(i), 1, 77),
    [times(image(i), first, 77), times(image(i), 3, 77)], [1, -0.4], 6)]);
  // A1111: call n reads the first entry whose end step is ≥ n: calls 0, 1, 2 the first, call 3 the second.
  assert.deepStrictEqual([await at(0), await at(2), await at(3)], [expected(2), expected(2), expected(5)]);
  assert.deepStrictEqual(calls, [{ rows: 6, tokens: 77 }, { rows: 6, tokens: 77 }, { rows: 6, tokens: 77 }]);
});

test('a UNet with a fixed token axis reads the first chunk of each conditioning', async () => {
  const calls: Array<{ rows: number; tokens: number }> = [];
  const plan: PromptPlan = { parts: [{ weight: 1, schedule: [{ endAtStep: 10, cond: cond(3, 231) }] }], negative: [{ endAtStep: 10, cond: cond(1) }] };
  const predict = createGuidedPredictor({ plan, predictNoise: fakeUnet(calls), batch: 2, cfgScale: 5, embeddedGuidance: false, fixedTokens: 77 });
  await predict(latents, dims, 0, 999);
  assert.deepStrictEqual(calls, [{ rows: 4, tokens: 77 }]);
});

test('without guidance the prompt alone is predicted', async () => {
  const calls: Array<{ rows: number; tokens: number }> = [];
  const plan: PromptPlan = { parts: [{ weight: 1, schedule: [{ endAtStep: 10, cond: cond(3) }] }] };
  const predict = createGuidedPredictor({ plan, predictNoise: fakeUnet(calls), batch: 2, cfgScale: 1, embeddedGuidance: false });
  assert.deepStrictEqual([...await predict(latents, dims, 0, 999)], [...times(latents, 3, 77)]);
  assert.deepStrictEqual(calls, [{ rows: 2, tokens: 77 }]);
});
