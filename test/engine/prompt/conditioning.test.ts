import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ClipTokenizer } from '../../../src/engine/tokenizer';
import { composableAt, composableConditioning, conditioningAt, encodeTexts, scheduledConditioning, type ChunkEncoder }
  from '../../../src/engine/prompt/conditioning';
import { applyLayerNorm, clipSkipOutput, fitFinalLayerNorm } from '../../../src/engine/prompt/clipSkip';
import { addClipSkipOutputs } from '../../../src/engine/prompt/clipSkipGraph';
import type { EmphasisMode } from '../../../src/engine/prompt';

const FIXTURES = path.join(__dirname, 'fixtures');
const CLIP_DIR = path.resolve(__dirname, '../../../../shared/data/clip');

interface RecordedCase {
  prompt: string; negative: string; steps: number; clipSkip: number; emphasis: 'Original' | 'No norm' | 'None';
  extraGenerationParams: Record<string, string>;
  perStep: Array<{ weights: number[]; condTokens: number; uncondTokens: number; cond: number; uncond: number }>;
}
/** AUTOMATIC1111's conditioning on tiny-clip/, from its own code in torch (fixtures/record_a1111_conditioning.py). */
const recorded = JSON.parse(readFileSync(path.join(FIXTURES, 'a1111_conditioning.json'), 'utf8')) as
  { width: number; cases: RecordedCase[]; tensors: number[][] };
const EMPHASIS: Record<RecordedCase['emphasis'], EmphasisMode> = { 'Original': 'original', 'No norm': 'no-norm', 'None': 'none' };

/** tiny-clip as a ChunkEncoder: last_hidden_state, or for clip skip > 1 hidden_states[-N] through the final norm. */
async function tinyClip(clipSkip: number): Promise<ChunkEncoder> {
  const tokenizer = await ClipTokenizer.fromFolder(CLIP_DIR);
  const session = await ort.InferenceSession.create(path.join(FIXTURES, 'tiny-clip/model.onnx'));
  const skip = clipSkip > 1 ? clipSkipOutput(session.outputNames, clipSkip) : undefined;
  if (clipSkip > 1) assert.ok(skip !== undefined);
  return {
    tokenizer,
    async encode(ids, rows) {
      const feeds = { input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [rows, 77]) };
      const out = await session.run(feeds);
      const width = out.last_hidden_state.dims[2] as number;
      if (skip === undefined) return { hidden: out.last_hidden_state.data as Float32Array, width };
      const norm = fitFinalLayerNorm(out[skip.last].data as Float32Array, out.last_hidden_state.data as Float32Array, width);
      return { hidden: applyLayerNorm(out[skip.name].data as Float32Array, width, norm), width };
    },
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

const LABELS = ['plain', 'weighted', 'weighted no-norm', 'weighted emphasis none', 'long (3 chunks)', 'BREAK',
  'edited + alternating + long', 'AND with weights', 'clip skip 2, long, uncond 2 chunks', 'clip skip 3'];

for (const [i, c] of recorded.cases.entries()) {
  test(`conditioning equals A1111's at every step (${LABELS[i]}): max |Δ| ≤ 1e-5`, async () => {
    const encoders = [await tinyClip(c.clipSkip)];
    const opts = { emphasis: EMPHASIS[c.emphasis] };
    const cond = await composableConditioning(c.prompt, c.steps, encoders, opts);
    const uncond = await scheduledConditioning(c.negative, c.steps, encoders, opts);
    let worst = 0;
    for (const [step, expected] of c.perStep.entries()) {
      const { conds, weights } = composableAt(cond, step);
      assert.deepStrictEqual(weights, expected.weights);
      assert.deepStrictEqual(conds.map((x) => x.tokens), conds.map(() => expected.condTokens));
      const stacked = new Float32Array(conds.length * expected.condTokens * recorded.width);
      conds.forEach((x, k) => stacked.set(x.hidden, k * x.hidden.length));
      worst = Math.max(worst, maxAbsDiff(stacked, recorded.tensors[expected.cond]));
      const u = conditioningAt(uncond, step);
      assert.equal(u.tokens, expected.uncondTokens);
      worst = Math.max(worst, maxAbsDiff(u.hidden, recorded.tensors[expected.uncond]));
    }
    console.log(`# ${LABELS[i]}: max |Δ| ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-5, `max |Δ| ${worst}`);
  });
}

/** tiny-clip as Optimum exports SD 1.x text encoders: the hidden_states.* graph outputs removed (GraphProto field 12). */
function withoutHiddenStateOutputs(model: Uint8Array): Uint8Array {
  const varint = (buf: Uint8Array, pos: number): [number, number] => {
    let value = 0;
    for (let scale = 1; ; scale *= 128) {
      const byte = buf[pos++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return [value, pos];
    }
  };
  const encode = (value: number): number[] => {
    const out: number[] = [];
    for (; value >= 0x80; value = Math.floor(value / 128)) out.push((value % 128) | 0x80);
    return [...out, value];
  };
  // ModelProto: find the graph (field 7), keep its fields but the hidden_states.* outputs, write it back.
  let pos = 0;
  while (pos < model.length) {
    const [tag, afterTag] = varint(model, pos);
    if (tag % 8 === 0) { pos = varint(model, afterTag)[1]; continue; }
    const [length, dataStart] = varint(model, afterTag);
    if (tag >> 3 === 7) {
      const kept: Uint8Array[] = [];
      let g = dataStart;
      while (g < dataStart + length) {
        const [gTag, gAfterTag] = varint(model, g);
        let gEnd: number;
        if (gTag % 8 === 2) {
          const [gLength, gData] = varint(model, gAfterTag);
          gEnd = gData + gLength;
          const name = new TextDecoder().decode(model.subarray(gData + 2, gData + 2 + model[gData + 1]));
          if (gTag >> 3 === 12 && name.startsWith('hidden_states.')) { g = gEnd; continue; }
        } else {
          gEnd = varint(model, gAfterTag)[1];
        }
        kept.push(model.subarray(g, gEnd));
        g = gEnd;
      }
      const graph = Buffer.concat(kept);
      return Buffer.concat([model.subarray(0, pos), Uint8Array.from([0x3a, ...encode(graph.length)]), graph, model.subarray(dataStart + length)]);
    }
    pos = dataStart + length;
  }
  throw new Error('no graph in the fixture');
}

test('clip skip on an export without hidden_states outputs: the outputs are added in memory and give A1111\'s conditioning', async () => {
  const c = recorded.cases.find((x) => x.clipSkip === 2)!;
  const bytes = withoutHiddenStateOutputs(readFileSync(path.join(FIXTURES, 'tiny-clip/model.onnx')));
  const plain = await ort.InferenceSession.create(bytes);
  assert.deepStrictEqual(plain.outputNames, ['last_hidden_state', 'pooler_output']);
  const added = addClipSkipOutputs(bytes, 2);
  assert.deepStrictEqual([added.name, added.last], ['hidden_states.2', 'hidden_states.3']);
  const session = await ort.InferenceSession.create(added.bytes);
  const tokenizer = await ClipTokenizer.fromFolder(CLIP_DIR);
  const encoder: ChunkEncoder = {
    tokenizer,
    async encode(ids, rows) {
      const out = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [rows, 77]) });
      const norm = fitFinalLayerNorm(out[added.last].data as Float32Array, out.last_hidden_state.data as Float32Array, 6);
      return { hidden: applyLayerNorm(out[added.name].data as Float32Array, 6, norm), width: 6 };
    },
  };
  const cond = await composableConditioning(c.prompt, c.steps, [encoder], { emphasis: 'original' });
  const { conds } = composableAt(cond, 0);
  const worst = maxAbsDiff(conds[0].hidden, recorded.tensors[c.perStep[0].cond]);
  console.log(`# clip skip 2 through added outputs: max |Δ| ${worst.toExponential(2)}`);
  assert.ok(worst <= 1e-5, `max |Δ| ${worst}`);
});

test('clip skip past the encoder\'s layers is refused, naming how many it has', () => {
  const bytes = withoutHiddenStateOutputs(readFileSync(path.join(FIXTURES, 'tiny-clip/model.onnx')));
  assert.throws(() => addClipSkipOutputs(bytes, 4), /clip skip 4 cannot be found in text_encoder\/model\.onnx.*the encoder has 3 layers/);
  assert.throws(() => addClipSkipOutputs(Uint8Array.from([0x3a, 0x00]), 2), /clip skip 2 cannot be found/);
});

/** SDXL: CLIP-L's and OpenCLIP-G's penultimate hidden states (G padded with 0 after EOS), G's text_embeds. */
async function tinyXl(): Promise<ChunkEncoder[]> {
  const tokenizer = await ClipTokenizer.fromFolder(CLIP_DIR);
  const padZero = ClipTokenizer.fromTexts({
    vocabJson: readFileSync(path.join(CLIP_DIR, 'vocab.json'), 'utf8'), mergesTxt: readFileSync(path.join(CLIP_DIR, 'merges.txt'), 'utf8'),
    tokenizerConfigJson: JSON.stringify({ model_max_length: 77, pad_token: '!' }),
  });
  const session = async (dir: string) => ort.InferenceSession.create(path.join(FIXTURES, dir, 'model.onnx'));
  const [l, g] = [await session('tiny-clip'), await session('tiny-clip-g')];
  const run = (s: ort.InferenceSession, pooled: boolean): ChunkEncoder['encode'] => async (ids, rows) => {
    const out = await s.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [rows, 77]) });
    const hidden = out['hidden_states.2'];
    return { hidden: hidden.data as Float32Array, width: hidden.dims[2] as number, ...(pooled ? { pooled: out.text_embeds.data as Float32Array } : {}) };
  };
  assert.equal(padZero.padId, 0);
  return [{ tokenizer, encode: run(l, false) }, { tokenizer: padZero, encode: run(g, true) }];
}

test('SDXL: weights on both encoders, their hidden states side by side, pooled from the first chunk, as A1111', async () => {
  const xl = recorded as unknown as { xlWidths: number[]; xlCases: Array<{ prompt: string; emphasis: RecordedCase['emphasis']; tokens: number; crossattn: number; pooled: number }> };
  const encoders = await tinyXl();
  let worst = 0;
  for (const c of xl.xlCases) {
    const cond = (await encodeTexts([c.prompt], encoders, { emphasis: EMPHASIS[c.emphasis] })).get(c.prompt)!;
    assert.deepEqual([cond.tokens, cond.width], [c.tokens, xl.xlWidths[0] + xl.xlWidths[1]]);
    worst = Math.max(worst, maxAbsDiff(cond.hidden, recorded.tensors[c.crossattn]), maxAbsDiff(cond.pooled!, recorded.tensors[c.pooled]));
  }
  console.log(`# SDXL (weighted, long + BREAK, no-norm): max |Δ| ${worst.toExponential(2)}`);
  assert.ok(worst <= 1e-5, `max |Δ| ${worst}`);
});
