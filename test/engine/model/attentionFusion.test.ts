/**
 * fuseAttention (src/engine/model/attentionFusion.ts) on the tiny real-architecture exports: torch's
 * scaled_dot_product_attention subgraphs become MultiHeadAttention nodes with the same results; graphs without the
 * exact pattern are left as they are; loadModel runs the UNet fused, external data read from the model's folder.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import type * as Ort from 'onnxruntime-node';
import { attentionFusable, estimateMemory, fields, fuseAttention, readModelFolder, text, unetAttentionOf } from '../../../src/engine/model';
import { loadModel } from '../../../src/engine/onnx';
import { realArchModel } from '../../fixtures/realArch';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof Ort;

/** op_type (with domain) of every node of a model's graph. */
function opTypes(model: Uint8Array): string[] {
  const graph = [...fields(model, 0, model.length)].find((f) => f.num === 7 && f.wire === 2);
  assert.ok(graph);
  const ops: string[] = [];
  for (const f of fields(model, graph.dataStart, graph.end)) {
    if (f.num !== 1 || f.wire !== 2) continue;
    let op = '';
    let domain = '';
    for (const g of fields(model, f.dataStart, f.end)) {
      if (g.num === 4 && g.wire === 2) op = text(model, g);
      if (g.num === 7 && g.wire === 2) domain = text(model, g);
    }
    ops.push(domain === '' ? op : `${domain}.${op}`);
  }
  return ops;
}

const count = (ops: readonly string[], op: string): number => ops.filter((o) => o === op).length;

async function unetOutput(source: string | Uint8Array, folder: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(source as string, {
    executionProviders: ['cpu'], extra: { session: { model_external_initializers_file_folder_path: folder } },
  });
  const n = 2 * 4 * 8 * 8;
  const hiddenWidth = (session.inputMetadata.find((m) => m.name === 'encoder_hidden_states') as { shape: readonly (number | string)[] }).shape[2] as number;
  const out = await session.run({
    sample: new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)), [2, 4, 8, 8]),
    timestep: new ort.Tensor('float32', Float32Array.of(500), []),
    encoder_hidden_states: new ort.Tensor('float32', Float32Array.from({ length: 2 * 77 * hiddenWidth }, (_, i) => Math.cos(i * 0.11)), [2, 77, hiddenWidth]),
  });
  await session.release();
  return out.out_sample.data as Float32Array;
}

test('the SD 1.5 UNet (Optimum, external data): 32 attentions fused, no Softmax left, the same output to float32 rounding', async () => {
  const file = path.join(realArchModel('sd15', 'optimum'), 'unet', 'model.onnx');
  const model = new Uint8Array(fs.readFileSync(file));
  const before = opTypes(model);
  assert.equal(count(before, 'Softmax'), 32);
  const { bytes, fused } = fuseAttention(model);
  assert.equal(fused, 32);
  const ops = opTypes(bytes);
  assert.equal(count(ops, 'com.microsoft.MultiHeadAttention'), 32);
  assert.equal(count(ops, 'Softmax'), 0);
  // per attention: both score MatMuls, the two scale Muls, Softmax, the output Transpose and Reshape and k, v's
  // Reshape and Transpose go; q's Transpose stays (its Shape computes the scale)
  assert.equal(count(before, 'MatMul') - count(ops, 'MatMul'), 64);
  const expected = await unetOutput(file, path.dirname(file));
  const actual = await unetOutput(bytes, path.dirname(file));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
  assert.ok(worst < 1e-4, `largest difference ${worst}`);
  assert.ok(expected.some((v) => Math.abs(v) > 0.1), 'the output is not all zeros');
});

test('graphs without the pattern are returned as they are: CLIP\'s causal attention (a mask added to the scores), a static-shape UNet', () => {
  for (const file of [
    path.join(realArchModel('sd15', 'optimum'), 'text_encoder', 'model.onnx'),
    path.join(realArchModel('sd-turbo', 'unet-static'), 'unet', 'model.onnx'),
  ]) {
    const model = new Uint8Array(fs.readFileSync(file));
    const result = fuseAttention(model);
    assert.equal(result.fused, 0, file);
    assert.equal(result.bytes, model, file);
  }
});

test('bytes that are not a model are returned as they are', () => {
  const junk = Uint8Array.from([8, 7, 18, 0]);
  assert.deepEqual(fuseAttention(junk), { bytes: junk, fused: 0 });
});

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-fusion-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('loadModel runs the UNet fused (its external data read from the UNet folder, whatever the working directory) and says so', async () => {
  const logs: string[] = [];
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const info = await readModelFolder(realArchModel('sd15', 'optimum'));
    const model = await loadModel(info, { executionProvider: 'cpu', threads: 1, log: (m) => logs.push(m) });
    try {
      const noise = await model.predictNoise(new Float32Array(2 * 4 * 8 * 8).fill(0.5), [2, 4, 8, 8], 500,
        new Float32Array(2 * 77 * 8).fill(0.1), [2, 77, 8]);
      assert.ok(noise.every(Number.isFinite));
    } finally {
      await model.release();
    }
  } finally {
    process.chdir(cwd);
  }
  assert.ok(logs.some((m) => /unet[/\\]model\.onnx: 32 attention blocks run as MultiHeadAttention/.test(m)), logs.join('\n'));
});

test('the memory estimate counts a fused UNet\'s measured working memory instead of its attention maps', () => {
  const shape = { width: 512, height: 512, batchSize: 1, guidance: true, vaeScaleFactor: 8 };
  const maps = estimateMemory(0, shape, { heads: 8, downsamplings: 0 });
  const fused = estimateMemory(0, shape, { heads: 8, downsamplings: 0, fused: true });
  assert.equal(maps.unetBytes, 2 * 8 * 4096 * 4096 * 4);
  assert.ok(Math.abs(fused.unetBytes - 0.7 * 2 ** 30) < 2 ** 20, String(fused.unetBytes));
  // SD 1.5 at 1024²: 16 GiB of attention maps, 2.8 GiB fused
  const big = { ...shape, width: 1024, height: 1024 };
  assert.equal(estimateMemory(0, big, { heads: 8, downsamplings: 0 }).unetBytes, 16 * 2 ** 30);
  assert.ok(estimateMemory(0, big, { heads: 8, downsamplings: 0, fused: true }).unetBytes < 3 * 2 ** 30);
  // unetAttentionOf says whether the folder's UNet is fused: the Optimum export is, the static-shape one is not
  assert.equal(unetAttentionOf(realArchModel('sd15', 'optimum'))?.fused, true);
  assert.equal(attentionFusable(path.join(realArchModel('sd-turbo', 'unet-static'), 'unet', 'model.onnx')), false);
  assert.equal(attentionFusable(path.join(dir, 'no-such-model.onnx')), false);
});
