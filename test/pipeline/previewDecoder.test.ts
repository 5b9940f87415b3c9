/**
 * TAESD step previews: a model folder with taesd/vae_decoder/model.onnx previews through that session. The tiny
 * model's own VAE decoder stands in for TAESD, with the VAE's scaling_factor set to 1, so with Euler (whose last
 * predicted x₀ is the final latents) the last preview must equal the final image pixel for pixel — the preview path
 * and the engine's VAE path agree. Without a decoder, previews stay the linear latent-size ones.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { Engine, type GenerateProgress } from '../../src/engine/engine';
import { downscaleRgb, findPreviewDecoder } from '../../src/engine/onnx/previewDecoder';
import { PREVIEW_DECODER_ENV } from '../../src/protocol/engineEnv';
import type { GenerateRequest } from '../../src/protocol/engineMessages';
import { buildTinyModel } from '../fixtures/tinyModel';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'preview-decoder-'));
const engine = new Engine();

after(async () => {
  await engine.release();
  fs.rmSync(root, { recursive: true, force: true });
});

function withTaesd(name: string): string {
  const dir = buildTinyModel(path.join(root, name), { seed: 11 });
  const cfgFile = path.join(dir, 'vae_decoder', 'config.json');
  fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfgFile, 'utf8')), scaling_factor: 1 }));
  fs.mkdirSync(path.join(dir, 'taesd', 'vae_decoder'), { recursive: true });
  fs.copyFileSync(path.join(dir, 'vae_decoder', 'model.onnx'), path.join(dir, 'taesd', 'vae_decoder', 'model.onnx'));
  return dir;
}

function request(modelDir: string): GenerateRequest {
  return {
    modelDir, prompt: 'a red circle', negativePrompt: '', sampler: 'euler', steps: 3, cfgScale: 7.5, seed: 9,
    width: 64, height: 64, batchSize: 2, initImage: null, strength: 0.75, previews: true, rng: 'cpu', executionProvider: 'cpu', threads: 1,
  };
}

test('with a TAESD decoder the previews are full images, and the last one is the final image', async () => {
  const dir = withTaesd('with-taesd');
  const steps: GenerateProgress[] = [];
  const out = await engine.generate(request(dir), { onProgress: (p) => steps.push(p) });
  assert.deepEqual(steps.map((s) => s.previews.map((p) => `${p.width}x${p.height}`)), [['64x64', '64x64'], ['64x64', '64x64'], ['64x64', '64x64']]);
  const last = steps[steps.length - 1].previews;
  for (let i = 0; i < 2; i++) assert.deepEqual(Buffer.from(last[i].rgb), Buffer.from(decode(out.images[i].png).data as Uint8Array));
});

test('without one the previews are the linear latent-size ones', async () => {
  const dir = buildTinyModel(path.join(root, 'plain'), { seed: 11 });
  const steps: GenerateProgress[] = [];
  await engine.generate({ ...request(dir), batchSize: 1, steps: 1 }, { onProgress: (p) => steps.push(p) });
  assert.deepEqual(steps[0].previews.map((p) => `${p.width}x${p.height}`), ['8x8']);
});

test('the model\'s own decoder first, else the environment\'s', () => {
  const dir = withTaesd('lookup');
  const other = path.join(root, 'downloaded.onnx');
  fs.writeFileSync(other, 'x');
  assert.deepEqual([
    findPreviewDecoder(dir, { [PREVIEW_DECODER_ENV]: other }),
    findPreviewDecoder(path.join(root, 'plain'), { [PREVIEW_DECODER_ENV]: other }),
    findPreviewDecoder(path.join(root, 'plain'), {}),
  ], [path.join(dir, 'taesd', 'vae_decoder', 'model.onnx'), other, undefined]);
});

test('downscaling averages k×k boxes to bring the longest side under the limit', () => {
  const rgb = new Uint8Array(4 * 2 * 3);
  for (let p = 0; p < 8; p++) rgb.set([p * 10, 100, 255 - p], p * 3);
  // 4×2 → k = 2 → 2×1: pixels (0,1,4,5) and (2,3,6,7)
  assert.deepEqual(downscaleRgb({ width: 4, height: 2, rgb }, 2), { width: 2, height: 1, rgb: Uint8Array.from([25, 100, 253, 45, 100, 251]) });
});
