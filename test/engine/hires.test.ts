import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHiresMemory, checkHiresModel, hiresInfotextExtra, hiresPlan } from '../../src/engine/hires';
import { EngineError } from '../../src/engine/model/engineError';
import { hiresSize } from '../../src/common/hires';
import type { GenerateRequest } from '../../src/protocol/engineMessages';

test('the second pass\'s size is A1111\'s int(side · scale), rounded down to whole latents', () => {
  assert.deepEqual(hiresSize(512, 512, 2), { width: 1024, height: 1024 });
  assert.deepEqual(hiresSize(512, 768, 1.3), { width: 664, height: 992 }); // 665.6 → 665 → 664; 998.4 → 998 → 992
  assert.deepEqual(hiresSize(64, 64, 1.25), { width: 80, height: 80 });
});

test('the plan: hires steps 0 = the first pass\'s; the schedule is ⌊steps / min(strength, 0.999)⌋ (A1111\'s setup_img2img_steps)', () => {
  const req = { width: 512, height: 512, steps: 20 };
  assert.deepEqual(hiresPlan(req, { scale: 2, steps: 10, strength: 0.7, upscaler: 'Latent' }, 8),
    { width: 1024, height: 1024, steps: 10, scheduleSteps: 14, latent: true });
  assert.deepEqual(hiresPlan(req, { scale: 1.5, steps: 0, strength: 1, upscaler: 'Lanczos' }, 8),
    { width: 768, height: 768, steps: 20, scheduleSteps: 20, latent: false });
  assert.equal(hiresPlan(req, { scale: 2, steps: 15, strength: 0.3, upscaler: 'None' }, 8).scheduleSteps, 50);
});

test('A1111\'s hires fields in its order; Hires steps only when not 0', () => {
  assert.deepEqual(hiresInfotextExtra({ scale: 2, steps: 10, strength: 0.7, upscaler: 'Latent' }),
    [['Hires upscale', '2'], ['Hires steps', '10'], ['Hires upscaler', 'Latent']]);
  assert.deepEqual(hiresInfotextExtra({ scale: 1.5, steps: 0, strength: 0.7, upscaler: 'Latent (bicubic antialiased)' }),
    [['Hires upscale', '1.5'], ['Hires upscaler', 'Latent (bicubic antialiased)']]);
});

test('a second pass the machine cannot hold is refused before anything loads, naming the size and what to change', () => {
  const req = { width: 1024, height: 1024, steps: 20, batchSize: 2, cfgScale: 7 } as GenerateRequest;
  const plan = hiresPlan(req, { scale: 2, steps: 0, strength: 0.5, upscaler: 'Latent' }, 8);
  const GiB = 2 ** 30;
  assert.throws(() => checkHiresMemory(req, plan, 2 * GiB, { heads: 8, downsamplings: 0 }, 8, 16 * GiB, 8 * GiB), (e: unknown) => {
    assert.ok(e instanceof EngineError && e.code === 'invalid-request');
    assert.match(e.message, /^hires\. fix's second pass at 2048×2048 × 2 needs about \d+ GiB \(weights 2\.0 GiB, UNet \d+ GiB, VAE decode [\d.]+ GiB\), more than this machine's 16 GiB of memory: use a smaller hires upscale, size or batch$/);
    return true;
  });
  const small = hiresPlan({ width: 256, height: 256, steps: 20 }, { scale: 2, steps: 0, strength: 0.5, upscaler: 'Latent' }, 8);
  assert.equal(checkHiresMemory({ ...req, width: 256, height: 256, batchSize: 1 }, small, 2 * GiB, { heads: 8, downsamplings: 0 }, 8, 16 * GiB, 8 * GiB), undefined);
  assert.match(checkHiresMemory({ ...req, width: 256, height: 256, batchSize: 1 }, small, 2 * GiB, { heads: 8, downsamplings: 0 }, 8, 16 * GiB, 1 * GiB) ?? '',
    /more than the 1\.0 GiB free now/);
});

test('a second pass whose decode will be tiled is judged with the tiled decode\'s memory (refused untiled, fits tiled)', () => {
  const GiB = 2 ** 30;
  const req = { width: 1024, height: 1024, steps: 20, batchSize: 1, cfgScale: 7 } as GenerateRequest;
  const plan = hiresPlan(req, { scale: 2, steps: 0, strength: 0.5, upscaler: 'Latent' }, 8);
  assert.throws(() => checkHiresMemory(req, plan, 2.1 * GiB, null, 8, 24 * GiB, 20 * GiB), /VAE decode 22 GiB/);
  assert.equal(checkHiresMemory(req, plan, 2.1 * GiB, null, 8, 24 * GiB, 20 * GiB, 512), undefined);
});

test('the pixel upscalers need a VAE encoder; the latent ones do not', () => {
  assert.throws(() => checkHiresModel({ dir: '/m', hasVaeEncoder: false }, { scale: 2, steps: 0, strength: 0.5, upscaler: 'None' }),
    /"None" encodes the upscaled image again and needs \/m\/vae_encoder\/model\.onnx/);
  checkHiresModel({ dir: '/m', hasVaeEncoder: false }, { scale: 2, steps: 0, strength: 0.5, upscaler: 'Latent (nearest)' });
});
