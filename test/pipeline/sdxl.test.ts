/**
 * SDXL through the real ONNX code on tiny SDXL folders (test/fixtures/tinyModel.ts, `xl`): the folder reader,
 * both text encoders' penultimate hidden states side by side and text_encoder_2's text_embeds, the UNet's added
 * conditions — each checked against the tiny graphs' math computed here — and whole generations through the Engine.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Engine } from '../../src/engine/engine';
import { loadModel, type OnnxLoadedModel } from '../../src/engine/onnx/onnxModel';
import { ModelError } from '../../src/engine/model/modelError';
import { readModelFolder } from '../../src/engine/model/modelFolder';
import { runPipeline } from '../../src/engine/pipeline';
import { xlTimeIds } from '../../src/engine/prompt/promptConditioning';
import { SDXL_LATENT_RGB } from '../../src/engine/image/preview';
import { defaultRequest } from '../../src/engine/request';
import { TorchGenerator } from '../../src/engine/random';
import { createScheduler } from '../../src/engine/schedulers';
import { ClipTokenizer } from '../../src/engine/tokenizer/clipTokenizer';
import { decodeImage } from '../../src/engine/image/imageIo';
import { decodedToRgbImages } from '../../src/engine/image/imageOps';
import { pipelineSchedulerConfig } from '../../src/engine/schedulers/pipelineSchedulerConfig';
import { resolveSampler } from '../../src/engine/schedulers';
import { floatInit, int64Init, writeModel } from '../fixtures/onnxBuilder';
import { buildTinyModel, type TinyModelOptions, tinyTextPreTanh, tinyWeight, XL_D2, XL_SEED_OFFSET } from '../fixtures/tinyModel';

const D = 16;
const SEQ = 77;
let root: string;
let counter = 0;

before(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), 'sdxl-test-')); });
after(() => fs.rmSync(root, { recursive: true, force: true }));

function build(opts: TinyModelOptions): string {
  return buildTinyModel(path.join(root, `xl${counter++}`), { xl: true, ...opts });
}

async function load(opts: TinyModelOptions): Promise<OnnxLoadedModel> {
  return loadModel(await readModelFolder(build(opts)), { executionProvider: 'cpu', threads: 1 });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const second = (o: TinyModelOptions): TinyModelOptions => ({ ...o, seed: (o.seed ?? 1234) + XL_SEED_OFFSET });

function ids(seed: number, batch: number): Int32Array {
  return Int32Array.from({ length: batch * SEQ }, (_, i) => (i % SEQ === 0 ? 49406 : (seed * 7919 + i * 104729) % 49406));
}

describe('tiny SDXL folders', () => {
  test('read as SDXL: tokenizer_2, force_zeros_for_empty_prompt (default true), SDXL preview factors, scaling 0.13025', async () => {
    const info = await readModelFolder(build({}));
    assert.deepEqual(info.xl, { tokenizer2Dir: path.join(info.dir, 'tokenizer_2'), forceZerosForEmptyPrompt: true });
    assert.equal(info.scalingFactor, 0.13025);
    assert.deepEqual(info.previewFactors, { factors: SDXL_LATENT_RGB.factors.map((r) => [...r]), bias: [...SDXL_LATENT_RGB.bias] });
    const off = await readModelFolder(build({ xl: { forceZerosForEmptyPrompt: false } }));
    assert.equal(off.xl?.forceZerosForEmptyPrompt, false);
    const tok2 = await ClipTokenizer.fromFolder(info.xl?.tokenizer2Dir ?? '');
    assert.equal(tok2.padId, 0);
  });

  for (const [name, o] of [['fp32, int32 ids', {}], ['fp16, int64 ids', { fp16: true, inputIds: 'int64' }],
    ['static batch 1', { staticBatch: true }]] as Array<[string, TinyModelOptions]>) {
    test(`encodeTextXl = [hidden_states.1 of text_encoder | of text_encoder_2], text_embeds of text_encoder_2 (${name})`, async () => {
      const model = await load(o);
      const a = ids(1, 2);
      const b = ids(2, 2);
      const got = await model.encodeTextXl(a, b, 2);
      const h1 = tinyTextPreTanh(a, o, D);
      const h2 = tinyTextPreTanh(b, second(o), XL_D2);
      const want = new Float32Array(2 * SEQ * (D + XL_D2));
      for (let r = 0; r < 2 * SEQ; r++) {
        want.set(h1.subarray(r * D, (r + 1) * D), r * (D + XL_D2));
        want.set(h2.subarray(r * XL_D2, (r + 1) * XL_D2), r * (D + XL_D2) + D);
      }
      const pooled = new Float32Array(2 * XL_D2);
      for (let n = 0; n < 2; n++) for (let k = 0; k < XL_D2; k++) {
        let s = 0;
        for (let t = 0; t < SEQ; t++) s += Math.tanh(h2[(n * SEQ + t) * XL_D2 + k]);
        pooled[n * XL_D2 + k] = s / SEQ;
      }
      const tol = o.fp16 === true ? 2e-2 : 2e-5;
      assert.deepEqual([got.hiddenDims, got.pooledDims], [[2, SEQ, D + XL_D2], [2, XL_D2]]);
      assert.ok(maxAbsDiff(got.hidden, want) < tol * 10, `hidden off by ${maxAbsDiff(got.hidden, want)}`);
      assert.ok(maxAbsDiff(got.pooled, pooled) < tol, `pooled off by ${maxAbsDiff(got.pooled, pooled)}`);
      await model.release();
    });
  }

  test('predictNoise feeds text_embeds and time_ids: their terms reach the output as the graph computes them', async () => {
    const o: TinyModelOptions = {};
    const model = await load(o);
    const sample = Float32Array.from({ length: 2 * 4 * 2 * 2 }, (_, i) => Math.sin(i) * 0.5);
    const hidden = Float32Array.from({ length: 2 * SEQ * (D + XL_D2) }, (_, i) => Math.cos(i * 0.1));
    const textEmbeds = Float32Array.from({ length: 2 * XL_D2 }, (_, i) => i / 10 - 0.5);
    const timeIds = xlTimeIds(2, 16, 24);
    const base = await model.predictNoise(sample, [2, 4, 2, 2], 500, hidden, [2, SEQ, D + XL_D2], { textEmbeds: new Float32Array(2 * XL_D2), timeIds: new Float32Array(12) });
    const got = await model.predictNoise(sample, [2, 4, 2, 2], 500, hidden, [2, SEQ, D + XL_D2], { textEmbeds, timeIds });
    const te = tinyWeight('te_vec', 4, o);
    const tw = tinyWeight('tid_w', 24, o);
    for (let n = 0; n < 2; n++) for (let c = 0; c < 4; c++) {
      let mean = 0;
      for (let p = 0; p < XL_D2; p++) mean += textEmbeds[n * XL_D2 + p] / XL_D2;
      let ti = 0;
      for (let j = 0; j < 6; j++) ti += timeIds[n * 6 + j] * tw[j * 4 + c];
      for (let i = 0; i < 4; i++) {
        const k = (n * 4 + c) * 4 + i;
        assert.ok(Math.abs(got[k] - base[k] - (mean * te[c] + ti * 0.001)) < 1e-5, `item ${n} channel ${c}`);
      }
    }
    await assert.rejects(model.predictNoise(sample, [2, 4, 2, 2], 500, hidden, [2, SEQ, D + XL_D2], { timeIds }), /needs text_embeds/);
    await assert.rejects(model.predictNoise(sample, [2, 4, 2, 2], 500, hidden, [2, SEQ, D + XL_D2], { textEmbeds, timeIds: xlTimeIds(1, 8, 8) }),
      /time_ids has 6 values for a batch of 2/);
    await model.release();
  });

  test('a text encoder exported without hidden states is refused at load, naming it', async () => {
    const dir = build({});
    const file = path.join(dir, 'text_encoder_2', 'model.onnx');
    writeModel(file, {
      name: 'plain', nodes: [{ op: 'Identity', inputs: ['input_ids'], outputs: ['text_embeds'] }], initializers: [],
      inputs: [{ name: 'input_ids', elemType: 'int32', dims: ['b', 77] }], outputs: [{ name: 'text_embeds', elemType: 'int32', dims: ['b', 77] }],
    });
    await assert.rejects(loadModel(await readModelFolder(dir), { executionProvider: 'cpu', threads: 1 }), (e: unknown) => {
      assert.ok(e instanceof ModelError && e.kind === 'wrong-input' && e.file === file, String(e));
      assert.match(e.message, /penultimate layer's hidden states: expected outputs hidden_states\.0 … hidden_states\.N .*found text_embeds/);
      return true;
    });
  });

  test('a VAE decoder that overflows to NaN says so instead of writing a garbage PNG', async () => {
    const dir = build({});
    const file = path.join(dir, 'vae_decoder', 'model.onnx');
    // log(−(|x| + 1)): NaN everywhere, as an fp16 VAE that overflowed gives.
    writeModel(file, {
      name: 'nan',
      initializers: [floatInit('scales', [4], [1, 1, 8, 8]), floatInit('one', [], [1]), int64Init('starts', [1], [0]),
        int64Init('ends', [1], [3]), int64Init('axes', [1], [1])],
      nodes: [
        { op: 'Resize', inputs: ['latent_sample', '', 'scales'], outputs: ['up'], attrs: { mode: { s: 'nearest' } } },
        { op: 'Slice', inputs: ['up', 'starts', 'ends', 'axes'], outputs: ['rgb'] },
        { op: 'Add', inputs: ['rgb', 'one'], outputs: ['shifted'] },
        { op: 'Abs', inputs: ['shifted'], outputs: ['absval'] },
        { op: 'Neg', inputs: ['absval'], outputs: ['neg'] },
        { op: 'Log', inputs: ['neg'], outputs: ['sample'] },
      ],
      inputs: [{ name: 'latent_sample', elemType: 'float', dims: ['b', 4, 'h', 'w'] }],
      outputs: [{ name: 'sample', elemType: 'float', dims: ['b', 3, 'H', 'W'] }],
    });
    const model = await loadModel(await readModelFolder(dir), { executionProvider: 'cpu', threads: 1 });
    await assert.rejects(model.decodeLatents(new Float32Array(4 * 2 * 2), [1, 4, 2, 2]), (e: unknown) => {
      assert.ok(e instanceof ModelError && e.kind === 'runtime' && e.file === file, String(e));
      assert.match(e.message, /produced 768 NaN or infinite values of 768/);
      return true;
    });
    await model.release();
  });
});

describe('SDXL generations through the Engine', () => {
  test('a whole generation: valid PNG at the native size, the same seed gives the same bytes, another seed differs', async () => {
    const dir = build({});
    const engine = new Engine();
    const info = await readModelFolder(dir);
    const req = { ...defaultRequest(info), prompt: 'a red fox in snow', steps: 4, cfgScale: 5, seed: 11, executionProvider: 'cpu' as const, threads: 1 };
    const a = await engine.generate(req);
    const b = await engine.generate(req);
    const c = await engine.generate({ ...req, seed: 12 });
    assert.deepEqual([a.images[0].width, a.images[0].height], [64, 64]);
    assert.ok(Buffer.from(a.images[0].png).equals(Buffer.from(b.images[0].png)));
    assert.ok(!Buffer.from(a.images[0].png).equals(Buffer.from(c.images[0].png)));
    assert.equal(decodeImage(a.images[0].png).width, 64);
    assert.match(a.images[0].infotext, /Steps: 4, .*Seed: 11, Size: 64x64/);
    await engine.release();
  });

  test('img2img: the init image through vae_encoder, ⌊steps × strength⌋ steps, deterministic per seed', async () => {
    const dir = build({});
    const engine = new Engine();
    const info = await readModelFolder(dir);
    const rgb = Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 37) % 256);
    const req = { ...defaultRequest(info), prompt: 'a cat', sampler: 'euler', steps: 8, cfgScale: 4, seed: 2, executionProvider: 'cpu' as const, threads: 1,
      initImage: { width: 64, height: 64, rgb }, strength: 0.5 };
    const steps: number[] = [];
    const a = await engine.generate(req, { onProgress: (p) => steps.push(p.totalSteps) });
    const b = await engine.generate(req);
    assert.deepEqual([steps.length, steps[0]], [4, 4]);
    assert.ok(Buffer.from(a.images[0].png).equals(Buffer.from(b.images[0].png)));
    assert.match(a.images[0].infotext, /Denoising strength: 0\.5/);
    await engine.release();
  });

  test('no negative prompt (null): zero unconditional embeddings when force_zeros_for_empty_prompt, the encoded "" otherwise; '
    + 'an explicit "" is always encoded — as runPipeline with the tokenizers\' ids', async () => {
    const engine = new Engine();
    for (const force of [true, false]) {
      const dir = build({ xl: { forceZerosForEmptyPrompt: force } });
      const info = await readModelFolder(dir);
      const req = { ...defaultRequest(info), prompt: 'a blue square', negativePrompt: null, steps: 3, cfgScale: 6, seed: 5, executionProvider: 'cpu' as const, threads: 1, previews: false };
      const got = await engine.generate(req);
      const explicit = await engine.generate({ ...req, negativePrompt: '' });
      const model = await loadModel(info, { executionProvider: 'cpu', threads: 1 });
      const tok = await ClipTokenizer.fromFolder(info.tokenizerDir);
      const tok2 = await ClipTokenizer.fromFolder(info.xl?.tokenizer2Dir ?? '');
      const own = resolveSampler(null, pipelineSchedulerConfig(info.schedulerConfig, info.pipelineClass).config);
      const direct = async (zeroNegative: boolean): Promise<Float32Array> => (await runPipeline({
        model, scheduler: createScheduler(own.className, own.config),
        promptIds: tok.encodePadded('a blue square'), negativeIds: tok.encodePadded(''),
        promptIds2: tok2.encodePadded('a blue square'), negativeIds2: tok2.encodePadded(''), zeroNegative,
        steps: 3, cfgScale: 6, seeds: [5], width: 64, height: 64, createRng: (s) => new TorchGenerator(s), initImage: null, strength: 1,
      })).images;
      const [zeroed, encoded] = [await direct(true), await direct(false)];
      assert.ok(maxAbsDiff(zeroed, encoded) > 1e-3, 'zeros and the encoded "" must differ on this model');
      const expected = decodedToRgbImages(force ? zeroed : encoded, [1, 3, 64, 64])[0].rgb;
      assert.ok(Buffer.from(decodeImage(got.images[0].png).rgb).equals(Buffer.from(expected)),
        `force_zeros ${force}: the engine's PNG differs from runPipeline(zeroNegative: ${force})`);
      assert.ok(Buffer.from(decodeImage(explicit.images[0].png).rgb).equals(Buffer.from(decodedToRgbImages(encoded, [1, 3, 64, 64])[0].rgb)),
        `force_zeros ${force}: an explicit "" negative prompt must be encoded`);
      assert.equal(tok2.encodePadded('')[5], 0, 'tokenizer_2 pads with "!" (0)');
      await model.release();
    }
    await engine.release();
  });
});
