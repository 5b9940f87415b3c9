import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ClipTokenizer } from '../../../src/engine/tokenizer';
import { composableAt, composableConditioning, conditioningAt, scheduledConditioning, type ChunkEncoder }
  from '../../../src/engine/prompt/conditioning';
import { applyLayerNorm, clipSkipOutput, fitFinalLayerNorm } from '../../../src/engine/prompt/clipSkip';
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
