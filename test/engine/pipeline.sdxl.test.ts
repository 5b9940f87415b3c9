/**
 * SDXL's conditioning in runPipeline, against diffusers' StableDiffusionXLPipeline (encode_prompt, _get_add_time_ids,
 * the CFG concatenation): which ids go to which encoder, the [uncond × B; cond × B] layout of hidden states, pooled
 * text_embeds and time_ids, zeros for force_zeros_for_empty_prompt, and no unconditional rows without guidance.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runPipeline } from '../../src/engine/pipeline';
import { xlTimeIds } from '../../src/engine/prompt/promptConditioning';
import type { LoadedModel, ModelInfo, PredictNoiseExtras, XlTextConditioning } from '../../src/engine/model/modelTypes';
import { TorchGenerator } from '../../src/engine/random';
import { createScheduler } from '../../src/engine/schedulers';

const SEQ = 3;
const D = 2;
const P = 2;

interface UnetCall { hidden: number[]; hiddenDims: number[]; opts: PredictNoiseExtras | undefined }

/** hidden[b, s, d] = 100 · ids[b, 0] + 10 · ids2[b, 0] + d; pooled[b, p] = ids2[b, 0] + p / 10 (rows told apart). */
class FakeXlModel implements LoadedModel {
  readonly executionProvider = 'fake';
  readonly textCalls: Array<{ ids: number[]; ids2: number[]; batch: number }> = [];
  readonly unetCalls: UnetCall[] = [];
  readonly info: ModelInfo = {
    dir: '/xl', name: 'xl', pipelineClass: 'StableDiffusionXLPipeline', schedulerConfig: {},
    latentChannels: 1, vaeScaleFactor: 8, scalingFactor: 0.13025, sampleSize: 1, tokenizerDir: '/xl/tokenizer',
    hasVaeEncoder: false, previewFactors: { factors: [[1, 1, 1]], bias: [0, 0, 0] }, precision: 'fp32',
    xl: { tokenizer2Dir: '/xl/tokenizer_2', forceZerosForEmptyPrompt: true },
  };

  async encodeText(): Promise<{ data: Float32Array; dims: number[] }> {
    throw new Error('SDXL must go through encodeTextXl');
  }

  async encodeTextXl(ids: Int32Array, ids2: Int32Array, batch: number): Promise<XlTextConditioning> {
    this.textCalls.push({ ids: [...ids], ids2: [...ids2], batch });
    const hidden = new Float32Array(batch * SEQ * D);
    const pooled = new Float32Array(batch * P);
    for (let b = 0; b < batch; b++) {
      for (let s = 0; s < SEQ; s++) for (let d = 0; d < D; d++) hidden[(b * SEQ + s) * D + d] = 100 * ids[b * SEQ] + 10 * ids2[b * SEQ] + d;
      for (let p = 0; p < P; p++) pooled[b * P + p] = ids2[b * SEQ] + p / 10;
    }
    return { hidden, hiddenDims: [batch, SEQ, D], pooled, pooledDims: [batch, P] };
  }

  async predictNoise(sample: Float32Array, _dims: number[], _t: number, hidden: Float32Array, hiddenDims: number[],
    opts?: PredictNoiseExtras): Promise<Float32Array> {
    this.unetCalls.push({ hidden: [...hidden], hiddenDims: [...hiddenDims], opts });
    return sample.map((x) => x * 0.1);
  }

  async decodeLatents(latents: Float32Array, dims: number[]): Promise<Float32Array> {
    const [b, , h, w] = dims;
    return new Float32Array(b * 3 * h * 8 * w * 8).fill(Math.tanh(latents[0]));
  }

  async encodeImage(): Promise<Float32Array> {
    throw new Error('not used');
  }

  async release(): Promise<void> {}
}

/** A row of the fake's hidden states for first-token ids (a, a2), repeated for SEQ tokens. */
function hiddenRow(a: number, a2: number): number[] {
  return Array.from({ length: SEQ * D }, (_, i) => 100 * a + 10 * a2 + (i % D));
}

async function run(model: FakeXlModel, over: { cfg: number; zeroNegative: boolean; seeds: number[] }): Promise<void> {
  await runPipeline({
    model, scheduler: createScheduler('euler', {}), steps: 2, cfgScale: over.cfg, seeds: over.seeds,
    promptIds: Int32Array.from([7, 1, 1]), negativeIds: Int32Array.from([5, 1, 1]),
    promptIds2: Int32Array.from([3, 0, 0]), negativeIds2: Int32Array.from([2, 0, 0]),
    zeroNegative: over.zeroNegative, width: 16, height: 24, createRng: (s) => new TorchGenerator(s), initImage: null, strength: 1,
  });
}

test('time_ids: original size (h, w), crop (0, 0), target size (h, w) per row', () => {
  assert.deepEqual([...xlTimeIds(2, 1024, 768)], [768, 1024, 0, 0, 768, 1024, 768, 1024, 0, 0, 768, 1024]);
});

test('with guidance: one encode of [negative; prompt] through both tokenizers, rows [uncond × B; cond × B]', async () => {
  const model = new FakeXlModel();
  await run(model, { cfg: 7, zeroNegative: false, seeds: [1, 2] });
  assert.deepEqual(model.textCalls, [{ ids: [5, 1, 1, 7, 1, 1], ids2: [2, 0, 0, 3, 0, 0], batch: 2 }]);
  assert.equal(model.unetCalls.length, 2);
  for (const call of model.unetCalls) {
    assert.deepEqual(call.hiddenDims, [4, SEQ, D]);
    assert.deepEqual(call.hidden, [...hiddenRow(5, 2), ...hiddenRow(5, 2), ...hiddenRow(7, 3), ...hiddenRow(7, 3)]);
    assert.deepEqual([...(call.opts?.textEmbeds ?? [])].map((v) => Math.round(v * 10) / 10), [2, 2.1, 2, 2.1, 3, 3.1, 3, 3.1]);
    assert.deepEqual([...(call.opts?.timeIds ?? [])], [...xlTimeIds(4, 16, 24)]);
    assert.equal(call.opts?.guidanceScale, undefined);
  }
});

test('force_zeros_for_empty_prompt: only the prompt is encoded; the unconditional hidden states and pooled embeds are zeros', async () => {
  const model = new FakeXlModel();
  await run(model, { cfg: 5, zeroNegative: true, seeds: [9] });
  assert.deepEqual(model.textCalls, [{ ids: [7, 1, 1], ids2: [3, 0, 0], batch: 1 }]);
  const call = model.unetCalls[0];
  assert.deepEqual(call.hiddenDims, [2, SEQ, D]);
  assert.deepEqual(call.hidden, [...new Array(SEQ * D).fill(0), ...hiddenRow(7, 3)]);
  assert.deepEqual([...(call.opts?.textEmbeds ?? [])].map((v) => Math.round(v * 10) / 10), [0, 0, 3, 3.1]);
  assert.deepEqual([...(call.opts?.timeIds ?? [])], [24, 16, 0, 0, 24, 16, 24, 16, 0, 0, 24, 16]);
});

test('without guidance (cfg ≤ 1, SDXL-Turbo): the prompt alone, one row per image, nothing zeroed', async () => {
  const model = new FakeXlModel();
  await run(model, { cfg: 0, zeroNegative: true, seeds: [1, 2, 3] });
  assert.deepEqual(model.textCalls, [{ ids: [7, 1, 1], ids2: [3, 0, 0], batch: 1 }]);
  const call = model.unetCalls[0];
  assert.deepEqual(call.hiddenDims, [3, SEQ, D]);
  assert.deepEqual(call.hidden, [...hiddenRow(7, 3), ...hiddenRow(7, 3), ...hiddenRow(7, 3)]);
  assert.deepEqual([...(call.opts?.timeIds ?? [])], [...xlTimeIds(3, 16, 24)]);
});

test('an SDXL model without the second ids is an internal error, not a silent SD 1.x run', async () => {
  const model = new FakeXlModel();
  await assert.rejects(runPipeline({
    model, scheduler: createScheduler('euler', {}), steps: 1, cfgScale: 7, seeds: [1],
    promptIds: Int32Array.from([7, 1, 1]), negativeIds: Int32Array.from([5, 1, 1]),
    width: 8, height: 8, createRng: (s) => new TorchGenerator(s), initImage: null, strength: 1,
  }), /SDXL model needs encodeTextXl and the ids of both tokenizers/);
});
