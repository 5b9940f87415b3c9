/**
 * img2img through the Engine on tiny ONNX models: a VAE encoder that samples with unseeded noise is reported in the
 * first img2img result of a loaded model (once), and an LCM UNet (timestep_cond) with the LCM sampler runs all its
 * steps on the strength-shortened schedule, as diffusers' LCM img2img pipeline, without the "no step" warning.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Engine } from '../../src/engine/engine';
import { VAE_ENCODER_NOISE_WARNING } from '../../src/engine/onnx/onnxModel';
import type { GenerateRequest } from '../../src/protocol/engineMessages';
import { buildTinyModel } from '../fixtures/tinyModel';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-i2i-'));
const engine = new Engine();

after(async () => {
  await engine.release();
  fs.rmSync(root, { recursive: true, force: true });
});

function img2img(modelDir: string, sampler: string, steps: number, strength: number): GenerateRequest {
  return {
    modelDir, prompt: 'a red circle', negativePrompt: '', sampler, steps, cfgScale: 7.5, seed: 1, width: 64,
    height: 64, batchSize: 1, initImage: { width: 64, height: 64, rgb: new Uint8Array(64 * 64 * 3).fill(90) }, strength,
    previews: false, rng: 'cpu', executionProvider: 'cpu', threads: 1,
  };
}

test('a noisy VAE encoder is reported once per loaded model; a deterministic one never', async () => {
  const noisy = buildTinyModel(path.join(root, 'noisy'), { seed: 3, vaeEncoder: 'latent_sample', vaeEncoderNoise: true });
  const plain = buildTinyModel(path.join(root, 'plain'), { seed: 3, vaeEncoder: 'latent_sample' });
  const first = await engine.generate(img2img(noisy, 'ddim', 4, 0.5));
  const second = await engine.generate(img2img(noisy, 'ddim', 4, 0.5));
  const other = await engine.generate(img2img(plain, 'ddim', 4, 0.5));
  assert.deepEqual([first.warnings, second.warnings, other.warnings], [[VAE_ENCODER_NOISE_WARNING], [], []]);
});

test('an LCM UNet with the LCM sampler runs all 4 steps at strength 0.2 (⌊50 × 0.2⌋ = 10 timesteps), no warning', async () => {
  const lcm = buildTinyModel(path.join(root, 'lcm'), { seed: 5, timestepCond: 8 });
  const out = await engine.generate(img2img(lcm, 'lcm', 4, 0.2));
  assert.deepEqual([out.timingsMs.unetSteps.length, out.warnings], [4, []]);
  await assert.rejects(engine.generate(img2img(lcm, 'lcm', 4, 0.07)), /img2img with LCM: .*leaves 3 timesteps/);
});
