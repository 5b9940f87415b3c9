/**
 * The real engine end to end on tiny random-weight ONNX models (test/fixtures/tinyModel.ts): shapes, determinism
 * per seed, batch = seeds alone, fp16, img2img, previews, cancellation, errors before loading.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { Engine, EngineError, ENGINE_VERSION, type GenerateProgress } from '../../src/engine/engine';
import { readPngText } from '../../src/engine/image/png';
import { modelHash, readModelFolder } from '../../src/engine/model/modelFolder';
import type { GenerateRequest } from '../../src/protocol/engineMessages';
import { buildTinyModel } from '../fixtures/tinyModel';

let root: string;
let fp32Dir: string;
let fp16Dir: string;
let noEncoderDir: string;
// the fp16 model runs on the CPU from its fp32 copy (issue 15), made into this folder
const fp32CacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-test-fp32-'));
const engine = new Engine({ fp32CacheDir });

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-test-'));
  fp32Dir = buildTinyModel(path.join(root, 'tiny'), { seed: 7 });
  fp16Dir = buildTinyModel(path.join(root, 'tiny-fp16'), { seed: 7, fp16: true, timestep: 'float16-batch' });
  noEncoderDir = buildTinyModel(path.join(root, 'tiny-noenc'), { seed: 7, vaeEncoder: 'none' });
});

after(async () => {
  await engine.release();
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(fp32CacheDir, { recursive: true, force: true });
});

function request(patch: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    modelDir: fp32Dir, prompt: 'a red circle on a blue background', negativePrompt: 'blurry', sampler: 'euler_a',
    steps: 4, cfgScale: 7.5, seed: 42, width: 64, height: 64, batchSize: 1, initImage: null, strength: 0.75,
    previews: false, rng: 'cpu', executionProvider: 'cpu', threads: 1, ...patch,
  };
}

/** Decoded RGB bytes of a PNG, checked to be 8-bit RGB. */
function pixels(png: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const d = decode(png);
  assert.equal(d.channels, 3);
  assert.equal(d.depth, 8);
  return { width: d.width, height: d.height, data: Uint8Array.from(d.data) };
}

async function rejectsWith(run: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof EngineError, `expected an EngineError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

test('makes a batch of PNGs of the requested size with A1111 infotext, one UNet timing per step', async () => {
  const out = await engine.generate(request({ batchSize: 2, width: 96, height: 64 }));
  assert.equal(out.images.length, 2);
  const hash = await modelHash(fp32Dir);
  out.images.forEach((img, i) => {
    const { width, height } = pixels(img.png);
    assert.deepEqual([img.seed, img.width, img.height, width, height], [42 + i, 96, 64, 96, 64]);
    assert.equal(img.infotext, 'a red circle on a blue background\nNegative prompt: blurry\n'
      + `Steps: 4, Sampler: Euler a, CFG scale: 7.5, Seed: ${42 + i}, Size: 96x64, Model hash: ${hash}, Model: tiny, `
      + `RNG: CPU, Version: ${ENGINE_VERSION}`);
    assert.deepEqual(readPngText(img.png), { parameters: img.infotext });
  });
  assert.equal(out.executionProvider, 'cpu');
  assert.equal(out.timingsMs.unetSteps.length, 4);
  const t = out.timingsMs;
  for (const v of [t.load, t.textEncoder, t.unet, t.vae, t.png, t.total, ...t.unetSteps]) assert.ok(v >= 0 && Number.isFinite(v));
  assert.ok(t.total >= t.textEncoder + t.unet + t.vae + t.png);
  assert.deepEqual(out.warnings, []);
});

test('the output names the sampler as the infotext does; a model folder already read is used, not read again', async () => {
  for (const [sampler, label] of [['euler_a', 'Euler a'], ['dpmpp_2m_karras', 'DPM++ 2M (Karras)'], ['ddim', 'DDIM']]) {
    const out = await engine.generate(request({ sampler, steps: 2 }));
    assert.equal(out.sampler, label);
    const params = out.images[0].infotext.split('\n').pop() as string;
    const scheduleType = /Schedule type: ([^,]+)/.exec(params)?.[1];
    assert.equal(label, `${/Sampler: ([^,]+)/.exec(params)?.[1]}${scheduleType === undefined ? '' : ` (${scheduleType})`}`);
  }
  const info = await readModelFolder(fp32Dir);
  const given = await engine.generate(request({ steps: 2 }), { modelInfo: { ...info, name: 'as-read-before' } });
  assert.match(given.images[0].infotext, /, Model: as-read-before,/);
  const other = await engine.generate(request({ steps: 2 }), { modelInfo: { ...info, dir: fp16Dir, name: 'another-folder' } });
  assert.match(other.images[0].infotext, /, Model: tiny,/, 'the info of another folder is not taken for this one');
});

test('the same seed gives identical PNG bytes; another seed differs', async () => {
  const a = await engine.generate(request({ seed: 123 }));
  const b = await new Engine().generate(request({ seed: 123 }));
  const c = await engine.generate(request({ seed: 124 }));
  assert.deepEqual(a.images[0].png, b.images[0].png);
  assert.notDeepEqual(pixels(a.images[0].png).data, pixels(c.images[0].png).data);
});

test('image i of a batch has the same pixels as its seed generated alone (stochastic sampler, CFG, NV rng)', async () => {
  for (const rng of ['cpu', 'nv'] as const) {
    const batch = await engine.generate(request({ seed: 900, batchSize: 3, rng }));
    const alone = await engine.generate(request({ seed: 902, rng }));
    assert.deepEqual(pixels(batch.images[2].png).data, pixels(alone.images[0].png).data);
    assert.deepEqual(batch.images[2].infotext, alone.images[0].infotext);
    assert.match(alone.images[0].infotext, rng === 'nv' ? /, RNG: NV,/ : /, RNG: CPU,/);
  }
});

test('the fp16 model runs and lands close to the fp32 model with the same weights', async () => {
  const half = await engine.generate(request({ modelDir: fp16Dir, sampler: 'ddim' }));
  const full = await engine.generate(request({ sampler: 'ddim' }));
  const a = pixels(half.images[0].png).data;
  const b = pixels(full.images[0].png).data;
  let maxDiff = 0;
  for (let k = 0; k < a.length; k++) maxDiff = Math.max(maxDiff, Math.abs(a[k] - b[k]));
  assert.ok(maxDiff <= 8, `fp16 vs fp32 max pixel difference ${maxDiff}`);
});

test('previews: one event per step, one preview image per batch item', async () => {
  const events: GenerateProgress[] = [];
  await engine.generate(request({ batchSize: 2, steps: 3, previews: true }), { onProgress: (p) => events.push(p) });
  assert.deepEqual(events.map((e) => [e.step, e.totalSteps, e.previews.length]), [[1, 3, 2], [2, 3, 2], [3, 3, 2]]);
  for (const p of events[2].previews) assert.equal(p.rgb.length, p.width * p.height * 3);
  const quiet: GenerateProgress[] = [];
  await engine.generate(request({ steps: 2 }), { onProgress: (p) => quiet.push(p) });
  assert.deepEqual(quiet.map((e) => e.previews.length), [0, 0]);
});

test('img2img: runs int(steps·strength) steps from the init image and writes the denoising strength', async () => {
  const init = await engine.generate(request({ seed: 5 }));
  const { width, height, data } = pixels(init.images[0].png);
  const initImage = { width, height, rgb: data };
  const events: number[] = [];
  const out = await engine.generate(request({ initImage, strength: 0.5, steps: 10, sampler: 'ddim' }), { onProgress: (p) => events.push(p.totalSteps) });
  assert.deepEqual(events, Array(5).fill(5));
  assert.match(out.images[0].infotext, /, Denoising strength: 0\.5, RNG: CPU,/);
  // A smaller init image is resized to the requested size first.
  const small = await engine.generate(request({ initImage: { width: 8, height: 8, rgb: new Uint8Array(192).fill(200) }, strength: 0.3 }));
  assert.deepEqual([pixels(small.images[0].png).width, pixels(small.images[0].png).height], [64, 64]);
});

test('img2img with strength 0 returns the init image through the VAE, without denoising steps', async () => {
  const initImage = { width: 64, height: 64, rgb: new Uint8Array(64 * 64 * 3).fill(128) };
  const events: GenerateProgress[] = [];
  const a = await engine.generate(request({ initImage, strength: 0, seed: 1 }), { onProgress: (p) => events.push(p) });
  const b = await engine.generate(request({ initImage, strength: 0, seed: 2 }));
  assert.equal(events.length, 0);
  assert.deepEqual(pixels(a.images[0].png).data, pixels(b.images[0].png).data);
});

test('cancelling mid-run rejects with "cancelled" and the engine still works afterwards', async () => {
  const controller = new AbortController();
  const steps: number[] = [];
  await rejectsWith(engine.generate(request({ steps: 20 }), {
    signal: controller.signal,
    onProgress: (p) => { steps.push(p.step); if (p.step === 2) controller.abort(); },
  }), 'cancelled', /cancelled/);
  assert.deepEqual(steps, [1, 2]);
  await rejectsWith(engine.generate(request(), { signal: AbortSignal.abort() }), 'cancelled', /cancelled/);
  assert.equal((await engine.generate(request({ steps: 1 }))).images.length, 1);
});

test('a prompt beyond 75 tokens on a UNet whose token axis is fixed at 77: the first chunk, and a warning naming the dropped tokens', async () => {
  const out = await engine.generate(request({ prompt: Array(80).fill('red').join(' '), steps: 1 }));
  const dropped = (n: number): string => `this UNet reads 77 tokens (its token axis was fixed at export): only the first chunk of 75 is used, ${n} tokens are dropped`;
  assert.deepEqual(out.warnings, [dropped(5)]);
  const negative = Array(77).fill('blue').join(' ');
  assert.deepEqual((await engine.generate(request({ negativePrompt: negative, steps: 1 }))).warnings, [dropped(2)]);
  assert.deepEqual((await engine.generate(request({ negativePrompt: negative, steps: 1, cfgScale: 1 }))).warnings, []);
});

test('bad requests and bad model folders fail with a code and a message before anything is loaded', async () => {
  const fresh = new Engine();
  await rejectsWith(fresh.generate(request({ width: 65 })), 'invalid-request', /width: expected a multiple of 8 in 64…2048, got 65/);
  await rejectsWith(fresh.generate(request({ sampler: 'warp' })), 'invalid-request', /sampler: .*got "warp"/);
  await rejectsWith(fresh.generate(request({ modelDir: root })), 'model-invalid', /is not a model folder/);
  await rejectsWith(fresh.generate(request({ modelDir: path.join(root, 'nope') })), 'model-invalid', /does not exist/);
  await rejectsWith(fresh.generate(request({ modelDir: noEncoderDir, initImage: { width: 1, height: 1, rgb: new Uint8Array(3) } })),
    'model-invalid', /img2img needs .*vae_encoder\/model\.onnx/);
  const broken = path.join(root, 'broken');
  fs.cpSync(fp32Dir, broken, { recursive: true });
  fs.writeFileSync(path.join(broken, 'unet', 'model.onnx'), 'not an onnx file');
  await rejectsWith(fresh.generate(request({ modelDir: broken })), 'model-invalid', /unet.model\.onnx/);
  await fresh.release();
});

test('keeps the loaded model between calls with the same folder, provider and threads; reloads when they change', async () => {
  const logs: string[] = [];
  const e = new Engine({ log: (level, message) => { if (message.startsWith('loading ')) logs.push(`${level} ${message}`); } });
  await e.generate(request({ steps: 1 }));
  await e.generate(request({ steps: 1, seed: 9 }));
  assert.equal(logs.length, 1);
  await e.generate(request({ steps: 1, threads: 2 }));
  assert.equal(logs.length, 2);
  await e.release();
  await e.generate(request({ steps: 1, threads: 2 }));
  assert.equal(logs.length, 3);
  assert.match(logs[0], /^info loading .*tiny \(execution provider cpu, threads 1\)$/);
  await e.release();
});

test('overlapping calls run one after the other: a release waits for the generation in flight', async () => {
  const e = new Engine();
  const order: string[] = [];
  const first = e.generate(request({ steps: 3 }), { onProgress: (p) => order.push(`step ${p.step}`) }).then(() => order.push('first done'));
  const released = e.release().then(() => order.push('released'));
  const second = e.generate(request({ steps: 1, seed: 3 })).then(() => order.push('second done'));
  await Promise.all([first, released, second]);
  assert.deepEqual(order, ['step 1', 'step 2', 'step 3', 'first done', 'released', 'second done']);
  await e.release();
});

test('exporter variants (static batch, int64 [1] / scalar timesteps, int64 ids, external data) give batch = seed alone', async () => {
  const variants = [
    { staticBatch: true }, { timestep: 'int64-one' as const }, { timestep: 'float32-scalar' as const, inputIds: 'int64' as const },
    { externalData: true, vaeEncoder: 'latent_sample' as const },
  ];
  for (const [i, opts] of variants.entries()) {
    const dir = buildTinyModel(path.join(root, `variant${i}`), { seed: 7, ...opts });
    const batch = await engine.generate(request({ modelDir: dir, seed: 30, batchSize: 2 }));
    const alone = await engine.generate(request({ modelDir: dir, seed: 31 }));
    assert.deepEqual(pixels(batch.images[1].png).data, pixels(alone.images[0].png).data, JSON.stringify(opts));
  }
});

test('a step count the schedule cannot run is refused before loading, naming the limit', async () => {
  const fresh = new Engine();
  // PNDM (the model's own) with steps_offset 1 at 1000 steps would start at timestep 1000, past 0…999.
  await rejectsWith(fresh.generate(request({ sampler: null, steps: 1000 })), 'invalid-request',
    /steps: PLMS at 1000 steps would start at timestep 1000, past the model's 1000 training timesteps \(0…999\); use at most 999 steps/);
  await rejectsWith(fresh.generate(request({ sampler: 'ddim', steps: 1000 })), 'invalid-request', /DDIM at 1000 steps/);
  // 999 steps fit: the run starts (cancelled at its first step to keep the test short).
  const controller = new AbortController();
  await rejectsWith(fresh.generate(request({ sampler: null, steps: 999 }), { signal: controller.signal, onProgress: () => controller.abort() }),
    'cancelled', /cancel/);
  await fresh.release();
});
