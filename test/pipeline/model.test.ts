/**
 * loadModel over tiny ONNX models of every exporter variant: each method's output is checked against the tiny
 * graphs' math computed here by hand from the same weights, fp16 against fp32, and every broken-model case must
 * reject with a ModelError naming the file (never a crash).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadModel, type OnnxLoadedModel, VAE_ENCODER_NOISE_WARNING } from '../../src/engine/onnx/onnxModel';
import { ModelError } from '../../src/engine/model/modelError';
import { readModelFolder } from '../../src/engine/model/modelFolder';
import type { LoadedModel } from '../../src/engine/model/modelTypes';
import { writeModel } from '../fixtures/onnxBuilder';
import { buildTinyModel, type TinyModelOptions, tinyTextPreTanh, tinyWeight } from '../fixtures/tinyModel';

const D = 16;
const SEQ = 77;
const SCALING = 0.18215;
let root: string;

before(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), 'model-test-')); });
after(() => fs.rmSync(root, { recursive: true, force: true }));

let counter = 0;
async function load(opts: TinyModelOptions): Promise<OnnxLoadedModel> {
  const dir = buildTinyModel(path.join(root, `m${counter++}`), opts);
  return loadModel(await readModelFolder(dir), { executionProvider: 'cpu', threads: 1 });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function wave(n: number, k: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * k) * 0.9);
}

function fp16Round(x: number): number {
  const e = Math.floor(Math.log2(Math.abs(x)));
  const ulp = 2 ** (Math.max(e, -14) - 10);
  return Math.round(x / ulp) * ulp; // no ties in the values used here
}

/** tanh((E[id] + P[pos]) · proj) per token. */
function textRef(ids: Int32Array, o: TinyModelOptions): Float32Array {
  return tinyTextPreTanh(ids, o, D).map(Math.tanh);
}

/** conv1×1(sample) + t·0.001·t_vec + mean(hidden)·h_proj. */
function unetRef(sample: Float32Array, dims: number[], t: number, hidden: Float32Array, o: TinyModelOptions): Float32Array {
  const [b, c, h, w] = dims;
  const cw = tinyWeight('conv_w', 16, o), cb = tinyWeight('conv_b', 4, o);
  const tv = tinyWeight('t_vec', 4, o), hp = tinyWeight('h_proj', D * 4, o);
  const out = new Float32Array(sample.length);
  const hw = h * w;
  for (let n = 0; n < b; n++) {
    for (let co = 0; co < c; co++) {
      let hb = 0;
      for (let j = 0; j < D; j++) {
        let mean = 0;
        for (let s = 0; s < SEQ; s++) mean += hidden[(n * SEQ + s) * D + j];
        hb += (mean / SEQ) * hp[j * 4 + co];
      }
      for (let i = 0; i < hw; i++) {
        let v = cb[co] + t * 0.001 * tv[co] + hb;
        for (let k = 0; k < c; k++) v += cw[co * 4 + k] * sample[(n * c + k) * hw + i];
        out[(n * c + co) * hw + i] = v;
      }
    }
  }
  return out;
}

/** tanh(conv1×1(nearest×8(latents / scaling_factor))). */
function decodeRef(latents: Float32Array, dims: number[], o: TinyModelOptions): Float32Array {
  const [b, , h, w] = dims;
  const dw = tinyWeight('dec_w', 12, o), db = tinyWeight('dec_b', 3, o);
  const H = h * 8, W = w * 8;
  const out = new Float32Array(b * 3 * H * W);
  for (let n = 0; n < b; n++) for (let c = 0; c < 3; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    let v = db[c];
    for (let k = 0; k < 4; k++) v += dw[c * 4 + k] * latents[((n * 4 + k) * h + (y >> 3)) * w + (x >> 3)] / SCALING;
    out[((n * 3 + c) * H + y) * W + x] = Math.tanh(v);
  }
  return out;
}

/** conv1×1(avgpool8(image)), first 4 channels, × scaling_factor. */
function encodeRef(image: Float32Array, dims: number[], channels: number, o: TinyModelOptions): Float32Array {
  const [b, , H, W] = dims;
  const ew = tinyWeight('enc_w', channels * 3, o), eb = tinyWeight('enc_b', channels, o);
  const h = H / 8, w = W / 8;
  const out = new Float32Array(b * 4 * h * w);
  for (let n = 0; n < b; n++) for (let c = 0; c < 4; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let v = eb[c];
    for (let k = 0; k < 3; k++) {
      let s = 0;
      for (let dy = 0; dy < 8; dy++) for (let dx = 0; dx < 8; dx++) s += image[((n * 3 + k) * H + y * 8 + dy) * W + x * 8 + dx];
      v += ew[c * 3 + k] * (s / 64);
    }
    out[((n * 4 + c) * h + y) * w + x] = v * SCALING;
  }
  return out;
}

const variants: Array<[string, TinyModelOptions]> = [
  ['fp32, int32 ids, float32 [B] timestep (diffusers converter)', {}],
  ['int64 ids, int64 [1] timestep, latent_sample encoder (Optimum ≤ 1.23)', { inputIds: 'int64', timestep: 'int64-one', vaeEncoder: 'latent_sample' }],
  ['float32 scalar timestep, external-data UNet (Optimum ≥ 1.24)', { timestep: 'float32-scalar', externalData: true }],
  ['fp16 graphs, float16 [B] timestep', { fp16: true, timestep: 'float16-batch' }],
  ['fp16 graphs, int64 ids and [1] timestep, external data', { fp16: true, inputIds: 'int64', timestep: 'int64-one', externalData: true }],
  ['static batch 1 (run item by item)', { staticBatch: true }],
];

describe('loadModel runs every exporter variant like the graphs\' math', () => {
  for (const [label, o] of variants) {
    test(label, async () => {
      const model = await load(o);
      const fp16 = o.fp16 === true;
      const tol = fp16 ? 2e-2 : 1e-4;
      try {
        assert.deepEqual([model.info.precision, model.executionProvider], [fp16 ? 'fp16' : 'fp32', 'cpu']);
        const ids = new Int32Array(2 * SEQ).fill(49407);
        ids.set([49406, 320, 736, 49407], 0);
        ids.set([49406, 1662, 49407], SEQ);
        const text = await model.encodeText(ids, 2);
        assert.deepEqual(text.dims, [2, SEQ, D]);
        assert.ok(maxAbsDiff(text.data, textRef(ids, o)) < tol, 'text encoder output');

        const hidden = new Float32Array([...text.data, ...text.data]); // [uncond; cond] × 2 images
        const sampleDims = [4, 4, 8, 8];
        const sample = wave(4 * 4 * 64, 0.37);
        const t = 981.7;
        const tSeen = o.timestep === 'int64-one' ? 981 : o.timestep === 'float16-batch' ? fp16Round(t) : Math.fround(t);
        const noise = await model.predictNoise(sample, sampleDims, t, hidden, [4, SEQ, D]);
        assert.ok(noise instanceof Float32Array);
        assert.ok(maxAbsDiff(noise, unetRef(sample, sampleDims, tSeen, hidden, o)) < tol * 5, 'UNet output');

        const latents = wave(2 * 4 * 64, 0.11).map((v) => v * SCALING);
        const image = await model.decodeLatents(latents, [2, 4, 8, 8]);
        assert.equal(image.length, 2 * 3 * 64 * 64);
        assert.ok(maxAbsDiff(image, decodeRef(latents, [2, 4, 8, 8], o)) < tol, 'VAE decoder output');

        const channels = o.vaeEncoder === 'latent_sample' ? 4 : 8;
        const encoded = await model.encodeImage(image, [2, 3, 64, 64]);
        assert.ok(maxAbsDiff(encoded, encodeRef(image, [2, 3, 64, 64], channels, o)) < tol, 'VAE encoder output');
      } finally {
        await model.release();
      }
    });
  }

  test('fp16 and fp32 models with the same weights agree closely', async () => {
    const [a, b] = [await load({}), await load({ fp16: true })];
    const ids = new Int32Array(SEQ).fill(49407);
    ids.set([49406, 320, 49407]);
    const [ta, tb] = [await a.encodeText(ids, 1), await b.encodeText(ids, 1)];
    const sample = wave(4 * 64, 0.5);
    const na = await a.predictNoise(sample, [1, 4, 8, 8], 500, ta.data, ta.dims);
    const nb = await b.predictNoise(sample, [1, 4, 8, 8], 500, tb.data, tb.dims);
    assert.ok(maxAbsDiff(ta.data, tb.data) < 5e-3 && maxAbsDiff(na, nb) < 2e-2, `text ${maxAbsDiff(ta.data, tb.data)}, unet ${maxAbsDiff(na, nb)}`);
    await Promise.all([a.release(), b.release()]);
  });
});

describe('fp16 UNets convert encoder_hidden_states to float16 once per array', () => {
  for (const [label, o] of [['dynamic batch', { fp16: true, timestep: 'float16-batch' }], ['static batch 1', { fp16: true, staticBatch: true }]] as Array<[string, TinyModelOptions]>) {
    test(`${label}: every call matches the graph's math, a new array is converted anew, the same one is reused`, async () => {
      const model = await load(o);
      try {
        const dims = [2, 4, 8, 8];
        const sample = wave(2 * 4 * 64, 0.29);
        const hiddenA = wave(2 * SEQ * D, 0.013);
        const hiddenB = wave(2 * SEQ * D, 0.051);
        const t = 500; // float16-exact
        const errors: number[] = [];
        for (const h of [hiddenA, hiddenA]) {
          errors.push(maxAbsDiff(await model.predictNoise(sample, dims, t, h, [2, SEQ, D]), unetRef(sample, dims, t, h, o)));
        }
        // Changing the array's contents in place is not seen: its float16 copy is reused (the pipeline never does this).
        const expectedA = unetRef(sample, dims, t, hiddenA, o);
        hiddenA.fill(0.5);
        const afterEdit = await model.predictNoise(sample, dims, t, hiddenA, [2, SEQ, D]);
        errors.push(maxAbsDiff(await model.predictNoise(sample, dims, t, hiddenB, [2, SEQ, D]), unetRef(sample, dims, t, hiddenB, o)));
        assert.ok(errors.every((e) => e < 0.1), `errors ${errors.join(', ')}`);
        assert.ok(maxAbsDiff(afterEdit, expectedA) < 0.1, 'the cached float16 copy of the first array');
      } finally {
        await model.release();
      }
    });
  }
});

describe('VAE encoders that sample with their own unseeded noise', () => {
  test('are reported on the first check, once; the fixture\'s encoder really differs run to run', async () => {
    const model = await load({ vaeEncoder: 'latent_sample', vaeEncoderNoise: true });
    try {
      const image = wave(3 * 64 * 64, 0.2);
      const [a, b] = [await model.encodeImage(image, [1, 3, 64, 64]), await model.encodeImage(image, [1, 3, 64, 64])];
      assert.ok(maxAbsDiff(a, b) > 0);
      assert.deepEqual([await model.vaeEncoderNoiseWarning(), await model.vaeEncoderNoiseWarning()], [VAE_ENCODER_NOISE_WARNING, undefined]);
    } finally {
      await model.release();
    }
  });

  for (const [label, o] of [['latent_sample', { vaeEncoder: 'latent_sample' }], ['latent_parameters, fp16', { fp16: true }], ['static batch', { staticBatch: true }]] as Array<[string, TinyModelOptions]>) {
    test(`a deterministic encoder (${label}) gives no warning`, async () => {
      const model = await load(o);
      try {
        assert.equal(await model.vaeEncoderNoiseWarning(), undefined);
      } finally {
        await model.release();
      }
    });
  }
});

/** Asserts that `p` rejects with a ModelError of `kind` whose message names `file`. */
async function assertModelError(p: Promise<unknown>, kind: ModelError['kind'], file: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ModelError, `expected a ModelError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    assert.equal(e.file, file);
    assert.ok(e.message.includes(file), e.message);
    if (message !== undefined) assert.match(e.message, message);
    return true;
  });
}

describe('broken models give clear errors naming the file', () => {
  async function broken(opts: TinyModelOptions, edit: (dir: string) => void): Promise<[Promise<LoadedModel>, string]> {
    const dir = buildTinyModel(path.join(root, `b${counter++}`), opts);
    const info = await readModelFolder(dir);
    edit(dir);
    return [loadModel(info, { executionProvider: 'cpu', threads: 1 }), dir];
  }
  const unetOf = (dir: string): string => path.join(dir, 'unet', 'model.onnx');

  test('a component deleted after the folder was read', async () => {
    const [p, dir] = await broken({}, (d) => fs.rmSync(path.join(d, 'vae_decoder', 'model.onnx')));
    await assertModelError(p, 'missing-file', path.join(dir, 'vae_decoder', 'model.onnx'), /Missing/);
  });

  test('a truncated .onnx (interrupted download)', async () => {
    const [p, dir] = await broken({}, (d) => {
      const bytes = fs.readFileSync(unetOf(d));
      fs.writeFileSync(unetOf(d), bytes.subarray(0, Math.floor(bytes.length / 2)));
    });
    await assertModelError(p, 'invalid-onnx', unetOf(dir), /not a valid ONNX model.*truncated/);
  });

  test('garbage that starts like a protobuf', async () => {
    const [p, dir] = await broken({}, (d) => fs.writeFileSync(path.join(d, 'text_encoder', 'model.onnx'), Buffer.from([0x08, 0xff, 0xff, 0x13, 0x00, 0x7f, 0x3a, 0xff])));
    await assertModelError(p, 'invalid-onnx', path.join(dir, 'text_encoder', 'model.onnx'));
  });

  test('missing external data (weights.pb)', async () => {
    const [p, dir] = await broken({ externalData: true }, (d) => fs.rmSync(path.join(d, 'unet', 'weights.pb')));
    await assertModelError(p, 'missing-external-data', unetOf(dir), /weights\.pb/);
  });

  test('a UNet whose inputs have other names', async () => {
    const [p, dir] = await broken({}, (d) => writeModel(unetOf(d), {
      name: 'renamed', nodes: [{ op: 'Identity', inputs: ['latents'], outputs: ['out_sample'] }], initializers: [],
      inputs: [{ name: 'latents', elemType: 'float', dims: ['batch', 4, 'h', 'w'] }],
      outputs: [{ name: 'out_sample', elemType: 'float', dims: ['batch', 4, 'h', 'w'] }],
    }));
    await assertModelError(p, 'wrong-input', unetOf(dir), /missing sample, timestep, encoder_hidden_states; found latents/);
  });

  test('a UNet that needs SDXL inputs in a folder without text_encoder_2', async () => {
    const [p, dir] = await broken({}, (d) => writeModel(unetOf(d), {
      name: 'xl', nodes: [{ op: 'Identity', inputs: ['sample'], outputs: ['out_sample'] }], initializers: [],
      inputs: [{ name: 'sample', elemType: 'float', dims: ['b', 4, 'h', 'w'] }, { name: 'timestep', elemType: 'float', dims: [] },
        { name: 'encoder_hidden_states', elemType: 'float', dims: ['b', 77, 2048] }, { name: 'text_embeds', elemType: 'float', dims: ['b', 1280] }],
      outputs: [{ name: 'out_sample', elemType: 'float', dims: ['b', 4, 'h', 'w'] }],
    }));
    await assertModelError(p, 'unsupported', unetOf(dir), /text_embeds \(an SDXL UNet in a folder without text_encoder_2\/ and tokenizer_2\/\); not supported/);
  });

  test('hidden states of the wrong width at run time', async () => {
    const model = await load({});
    const file = path.join(model.info.dir, 'unet', 'model.onnx');
    await assertModelError(model.predictNoise(new Float32Array(256), [1, 4, 8, 8], 1, new Float32Array(SEQ * 8), [1, SEQ, 8]),
      'wrong-input', file, /encoder_hidden_states/);
    await model.release();
  });

  test('img2img on a model without a VAE encoder, and use after release', async () => {
    const model = await load({ vaeEncoder: 'none' });
    const file = path.join(model.info.dir, 'vae_encoder', 'model.onnx');
    await assertModelError(model.encodeImage(new Float32Array(3 * 64 * 64), [1, 3, 64, 64]), 'missing-file', file, /img2img/);
    await model.release();
    await assert.rejects(model.decodeLatents(new Float32Array(256), [1, 4, 8, 8]), /was released/);
  });
});

test('auto execution provider falls back to cpu and says why', async () => {
  const dir = buildTinyModel(path.join(root, 'auto'), {});
  const logs: string[] = [];
  const model = await loadModel(await readModelFolder(dir), { executionProvider: 'auto', threads: 1, log: (m) => logs.push(m) });
  try {
    const accelerator = process.platform === 'win32' ? 'dml' : process.platform === 'darwin' ? 'coreml' : 'cuda';
    if (model.executionProvider === 'cpu') {
      assert.ok(logs.some((l) => l.startsWith(`execution provider ${accelerator} unavailable`)), logs.join('\n'));
    } else {
      assert.equal(model.executionProvider, accelerator);
    }
  } finally {
    await model.release();
  }
});

test('an LCM UNet gets the guidance-scale embedding as timestep_cond', async () => {
  const dim = 32;
  const model = await load({ timestepCond: dim });
  try {
    const hidden = new Float32Array(SEQ * D).fill(0.25);
    const sample = wave(4 * 64, 0.3);
    assert.equal(model.hasGuidanceEmbedding, true);
    const got = await model.predictNoise(sample, [1, 4, 8, 8], 499, hidden, [1, SEQ, D], { guidanceScale: 8 });
    // diffusers' get_guidance_scale_embedding(w = 8 − 1): [sin(1000·w·e_k), cos(1000·w·e_k)], e_k = 10000^(−k/(dim/2 − 1)).
    let mean = 0;
    for (let k = 0; k < dim / 2; k++) {
      const arg = 7000 * Math.exp(-k * Math.log(10000) / (dim / 2 - 1));
      mean += (Math.sin(arg) + Math.cos(arg)) / dim;
    }
    const tc = tinyWeight('tc_vec', 4, {});
    const base = unetRef(sample, [1, 4, 8, 8], 499, hidden, {});
    const want = base.map((v, i) => v + mean * tc[Math.floor(i / 64)]);
    assert.ok(maxAbsDiff(got, want) < 1e-3, `max diff ${maxAbsDiff(got, want)}`);
  } finally {
    await model.release();
  }
});

/** The embedded default model(s) in models/ (trained here, exported with Optimum names), once they exist. */
const MODELS_DIR = path.resolve(__dirname, '../../models');
const embedded = fs.existsSync(MODELS_DIR)
  ? fs.readdirSync(MODELS_DIR).map((n) => path.join(MODELS_DIR, n)).filter((d) => fs.existsSync(path.join(d, 'model_index.json')))
  : [];
for (const dir of embedded) {
  test(`the embedded model ${path.basename(dir)} loads and runs every component`, async () => {
    const info = await readModelFolder(dir);
    const model = await loadModel(info, { executionProvider: 'cpu' });
    try {
      const ids = new Int32Array(2 * SEQ).fill(0);
      const text = await model.encodeText(ids, 2);
      assert.equal(text.dims.length, 3);
      assert.deepEqual(text.dims.slice(0, 2), [2, SEQ]);
      const [c, s] = [info.latentChannels, info.sampleSize];
      const latents = wave(2 * c * s * s, 0.7);
      const noise = await model.predictNoise(latents, [2, c, s, s], 500, text.data, text.dims);
      assert.ok(noise.length === latents.length && noise.every(Number.isFinite));
      const image = await model.decodeLatents(latents.subarray(0, c * s * s), [1, c, s, s]);
      const side = s * info.vaeScaleFactor;
      assert.ok(image.length === 3 * side * side && image.every(Number.isFinite));
      if (info.hasVaeEncoder) {
        const back = await model.encodeImage(image, [1, 3, side, side]);
        assert.equal(back.length, c * s * s);
      }
    } finally {
      await model.release();
    }
  });
}

test('the VAE encoder opens on first img2img use only: txt2img does not wait for it, a broken one fails img2img with its file named', async () => {
  const dir = buildTinyModel(fs.mkdtempSync(path.join(os.tmpdir(), 'lazy-encoder-')), { seed: 3 });
  fs.writeFileSync(path.join(dir, 'vae_encoder', 'model.onnx'), fs.readFileSync(path.join(dir, 'vae_encoder', 'model.onnx')).subarray(0, 100));
  const model = await loadModel(await readModelFolder(dir), { executionProvider: 'cpu', threads: 1 });
  try {
    const latents = await model.decodeLatents(new Float32Array(4 * 8 * 8), [1, 4, 8, 8]);
    assert.equal(latents.length, 3 * 64 * 64);
    await assert.rejects(model.encodeImage(new Float32Array(3 * 64 * 64), [1, 3, 64, 64]), /vae_encoder[\\/]model\.onnx/);
  } finally {
    await model.release();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
