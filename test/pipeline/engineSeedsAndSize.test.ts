/**
 * Variation seeds and hires. fix through the real engine on tiny random-weight ONNX models (test/fixtures/tinyModel.ts):
 * infotext as A1111 writes it, batches (seed + i, variation seed + i), strength 0 = no variation, the second pass's
 * size, steps and progress, the pixel upscalers' VAE encoder, and errors before anything loads.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { Engine, EngineError, type GenerateProgress } from '../../src/engine/engine';
import { parseInfotext } from '../../src/engine/infotext';
import type { GenerateRequest } from '../../src/protocol/engineMessages';
import { buildTinyModel } from '../fixtures/tinyModel';

let root: string;
let modelDir: string;
let noEncoderDir: string;
const engine = new Engine();

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-seeds-size-'));
  modelDir = buildTinyModel(path.join(root, 'tiny'), { seed: 7 });
  noEncoderDir = buildTinyModel(path.join(root, 'tiny-noenc'), { seed: 7, vaeEncoder: 'none' });
});

after(async () => {
  await engine.release();
  fs.rmSync(root, { recursive: true, force: true });
});

function request(patch: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    modelDir, prompt: 'a red circle', negativePrompt: null, sampler: 'euler_a', steps: 4, cfgScale: 7.5, seed: 42,
    width: 64, height: 64, batchSize: 1, initImage: null, strength: 0.75, previews: false, rng: 'cpu',
    executionProvider: 'cpu', threads: 1, ...patch,
  };
}

function pixels(png: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const d = decode(png);
  return { width: d.width, height: d.height, data: Uint8Array.from(d.data) };
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
  return worst;
}

async function rejectsWith(run: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof EngineError, `expected an EngineError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

test('variation seed: a batch keeps the seed and counts up the variation seed (A1111\'s process_images), each written', async () => {
  const plain = await engine.generate(request({ batchSize: 2 }));
  const varied = await engine.generate(request({ batchSize: 2, variationSeed: 9, variationStrength: 0.3 }));
  assert.deepEqual(varied.images.map((img) => img.seed), [42, 42]);
  varied.images.forEach((img, i) => {
    assert.match(img.infotext, new RegExp(`, Seed: 42, Size: 64x64, Model hash: \\w+, Model: tiny, Variation seed: ${9 + i}, Variation seed strength: 0\\.3, RNG: CPU,`));
    const params = parseInfotext(img.infotext).params;
    assert.equal(params['Variation seed'], String(9 + i));
    assert.equal(params['Variation seed strength'], '0.3');
    assert.ok(maxDiff(pixels(img.png).data, pixels(plain.images[i].png).data) > 0, 'the variation changes the picture');
  });
  // image 1 of the batch is seed 42 with variation seed 10 made alone
  const alone = await engine.generate(request({ seed: 42, variationSeed: 10, variationStrength: 0.3 }));
  assert.deepEqual(pixels(alone.images[0].png).data, pixels(varied.images[1].png).data);
});

test('variation strength 0 is the plain seed, bit for bit, and writes no variation fields (as A1111)', async () => {
  const plain = await engine.generate(request({ sampler: 'ddim' }));
  const zero = await engine.generate(request({ sampler: 'ddim', variationSeed: 9, variationStrength: 0 }));
  assert.deepEqual(zero.images[0].png, plain.images[0].png);
  assert.doesNotMatch(zero.images[0].infotext, /Variation/);
});

test('variation strength 1 with a deterministic sampler lands on the variation seed\'s own picture (within rounding)', async () => {
  for (const rng of ['cpu', 'nv'] as const) {
    const target = await engine.generate(request({ sampler: 'ddim', seed: 9, rng }));
    const full = await engine.generate(request({ sampler: 'ddim', seed: 42, variationSeed: 9, variationStrength: 1, rng }));
    assert.ok(maxDiff(pixels(full.images[0].png).data, pixels(target.images[0].png).data) <= 1, rng);
  }
});

test('Resize seed from: written as A1111 writes it; the seed\'s noise made at that size changes the picture', async () => {
  const plain = await engine.generate(request({ sampler: 'ddim' }));
  const resized = await engine.generate(request({ sampler: 'ddim', seedResizeFrom: { width: 32, height: 48 } }));
  assert.match(resized.images[0].infotext, /, Seed resize from: 32x48,/);
  assert.ok(maxDiff(pixels(resized.images[0].png).data, pixels(plain.images[0].png).data) > 0);
});

test('hires. fix (Latent): the image at the upscaled size, Size the first pass\'s, A1111\'s fields, both passes\' progress', async () => {
  const events: GenerateProgress[] = [];
  const out = await engine.generate(request({
    previews: true, variationSeed: 3, variationStrength: 0.2,
    hires: { scale: 2, steps: 3, strength: 0.7, upscaler: 'Latent' },
  }), { onProgress: (p) => events.push(p) });
  const img = out.images[0];
  assert.deepEqual([img.width, img.height], [128, 128]);
  assert.deepEqual([pixels(img.png).width, pixels(img.png).height], [128, 128]);
  assert.match(img.infotext, /, Size: 64x64, .*Variation seed: 3, Variation seed strength: 0\.2, Denoising strength: 0\.7, RNG: CPU, Hires upscale: 2, Hires steps: 3, Hires upscaler: Latent, Version: /);
  assert.deepEqual(events.map((e) => [e.pass, e.step, e.totalSteps]),
    [[1, 1, 4], [1, 2, 4], [1, 3, 4], [1, 4, 4], [2, 1, 3], [2, 2, 3], [2, 3, 3]]);
  assert.deepEqual([events[0].previews[0].width, events[6].previews[0].width], [8, 16], 'previews of both sizes');
  assert.equal(out.timingsMs.unetSteps.length, 7);
});

test('hires. fix: hires steps 0 runs as many steps as the first pass and is not written; every latent mode and Lanczos run', async () => {
  const events: GenerateProgress[] = [];
  const out = await engine.generate(request({ steps: 3, hires: { scale: 1.5, steps: 0, strength: 0.5, upscaler: 'Latent (bicubic antialiased)' } }),
    { onProgress: (p) => events.push(p) });
  assert.deepEqual(events.filter((e) => e.pass === 2).map((e) => e.totalSteps), [3, 3, 3]);
  assert.deepEqual([out.images[0].width, out.images[0].height], [96, 96]);
  assert.doesNotMatch(out.images[0].infotext, /Hires steps/);
  assert.match(out.images[0].infotext, /Hires upscale: 1\.5, Hires upscaler: Latent \(bicubic antialiased\)/);
  const seen = new Set<string>();
  for (const upscaler of ['Latent (antialiased)', 'Latent (bicubic)', 'Latent (nearest)', 'Latent (nearest-exact)', 'None', 'Lanczos'] as const) {
    const r = await engine.generate(request({ steps: 2, width: 64, height: 96, hires: { scale: 1.25, steps: 2, strength: 0.6, upscaler } }));
    assert.deepEqual([r.images[0].width, r.images[0].height], [80, 120], upscaler);
    seen.add(Buffer.from(pixels(r.images[0].png).data).toString('base64'));
  }
  assert.equal(seen.size, 5, 'the upscalers give different pictures ("None" and "Lanczos" are the same resize)');
});

test('hires. fix is deterministic per seed, and image i of a batch equals its seed alone', async () => {
  const hires = { scale: 1.5, steps: 2, strength: 0.6, upscaler: 'Latent' } as const;
  const batch = await engine.generate(request({ batchSize: 2, hires, variationSeed: 5, variationStrength: 0.4 }));
  const alone = await engine.generate(request({ seed: 42, hires, variationSeed: 6, variationStrength: 0.4 }));
  const plainBatch = await engine.generate(request({ batchSize: 2, hires }));
  const plainAlone = await engine.generate(request({ seed: 43, hires }));
  assert.deepEqual(plainBatch.images[1].png, plainAlone.images[0].png);
  assert.deepEqual(batch.images[1].png, alone.images[0].png);
});

test('hires. fix errors before anything loads: an init image, a pixel upscaler without a VAE encoder, a size past 2048', async () => {
  const image = { width: 8, height: 8, rgb: new Uint8Array(8 * 8 * 3) };
  await rejectsWith(engine.generate(request({ initImage: image, hires: { scale: 2, steps: 0, strength: 0.5, upscaler: 'Latent' } })),
    'invalid-request', /hires: hires\. fix follows text to image/);
  await rejectsWith(engine.generate(request({ modelDir: noEncoderDir, hires: { scale: 2, steps: 0, strength: 0.5, upscaler: 'Lanczos' } })),
    'model-invalid', /"Lanczos" encodes the upscaled image again and needs .*vae_encoder\/model\.onnx.*use a latent upscaler/);
  await rejectsWith(engine.generate(request({ width: 1536, height: 512, hires: { scale: 1.5, steps: 0, strength: 0.5, upscaler: 'Latent' } })),
    'invalid-request', /1536×512 upscaled by 1\.5 is 2304×768, past the largest side of 2048; use an upscale of at most 1\.33/);
  // the model without an encoder still runs the latent upscalers
  const ok = await engine.generate(request({ modelDir: noEncoderDir, steps: 2, hires: { scale: 1.5, steps: 1, strength: 0.5, upscaler: 'Latent' } }));
  assert.equal(ok.images[0].width, 96);
});
