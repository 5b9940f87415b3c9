/**
 * diffusers' tiled_decode arithmetic (vaeTiles.ts) on a fake decoder, and the memory plan that picks it
 * (memoryEstimate.ts decodePlan). The pictures themselves are checked against diffusers in
 * test/pipeline/vaeDecode.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeTiled, needsTiling, tileStarts, tilingOf } from '../../../src/engine/image';
import { decodePlan, untiledDecodeBytes, UNTILED_DECODE_BUDGET } from '../../../src/engine/model';

test('tiles start every ⌊0.75 · tile⌋ latents up to the edge, as range(0, side, overlap_size)', () => {
  assert.deepEqual(tileStarts(64, 64), [0, 48]);
  assert.deepEqual(tileStarts(128, 64), [0, 48, 96]);
  assert.deepEqual(tileStarts(16, 8), [0, 6, 12]);
  assert.throws(() => tileStarts(16, 1), /too small to overlap/);
});

test('SD\'s VAE (sample_size 512, 4 blocks): 512-pixel tiles of 64 latents; tiling only above a tile', () => {
  const tiling = tilingOf(512, 4);
  assert.deepEqual(tiling, { tileSample: 512, tileLatent: 64 });
  assert.equal(needsTiling(64, 64, tiling), false);
  assert.equal(needsTiling(64, 65, tiling), true);
});

test('a decoder that upsamples by 8 without seeing its neighbours: tiles blend back into the plain upsampling', async () => {
  // The fake "decoder" maps each latent to an 8×8 block of its channel-0 value in all 3 colours: a tile-independent
  // function, so blending (convex weights) must give back the untiled result exactly wherever tiles agree.
  const h = 20;
  const w = 28;
  const latents = Float32Array.from({ length: 4 * h * w }, (_, i) => Math.fround(Math.sin(i) * 0.5));
  const fake = async (tile: Float32Array, dims: [number, number, number, number]): Promise<Float32Array> => {
    const [, , th, tw] = dims;
    const out = new Float32Array(3 * th * 8 * tw * 8);
    for (let c = 0; c < 3; c++) for (let y = 0; y < th * 8; y++) for (let x = 0; x < tw * 8; x++) {
      out[(c * th * 8 + y) * tw * 8 + x] = tile[Math.floor(y / 8) * tw + Math.floor(x / 8)];
    }
    return out;
  };
  const calls: number[] = [];
  const tiled = await decodeTiled(latents, [1, 4, h, w], { tileLatent: 8, tileSample: 64 }, fake, (done) => calls.push(done));
  const whole = await fake(latents, [1, 4, h, w]);
  assert.equal(calls.length, tileStarts(h, 8).length * tileStarts(w, 8).length);
  assert.equal(tiled.length, whole.length);
  let max = 0;
  for (let i = 0; i < whole.length; i++) max = Math.max(max, Math.abs(tiled[i] - whole[i]));
  assert.ok(max < 1e-6, `max |Δ| ${max}`);
});

test('a batch is refused (the model decodes one image at a time)', async () => {
  await assert.rejects(decodeTiled(new Float32Array(2 * 4 * 16 * 16), [2, 4, 16, 16], { tileLatent: 8, tileSample: 64 },
    async () => new Float32Array(0)), /one image's latents/);
});

test('decodePlan: "auto" tiles only when the untiled decode passes the budget; "tiled" whenever above a tile', () => {
  const gib = 2 ** 30;
  // 1024² untiled ≈ 1.5 GiB of feature maps + 1 GiB of attention
  const at1024 = untiledDecodeBytes(1024, 1024, 8);
  assert.ok(at1024 > 2 * gib && at1024 < 3 * gib, `${at1024}`);
  assert.equal(decodePlan('auto', 1024, 1024, 8, 512, 24 * gib), 'full');
  assert.equal(decodePlan('auto', 1024, 1024, 8, 512, 8 * gib), 'tiled');
  assert.equal(decodePlan('auto', 2048, 2048, 8, 512, 24 * gib), 'tiled');
  assert.equal(decodePlan('full', 2048, 2048, 8, 512, 8 * gib), 'full');
  assert.equal(decodePlan('tiled', 1024, 768, 8, 512, 64 * gib), 'tiled');
  assert.equal(decodePlan('tiled', 512, 512, 8, 512, 1 * gib), 'full', 'not larger than a tile: diffusers does not tile');
  assert.equal(decodePlan('fast', 2048, 2048, 8, 512, 1 * gib), 'full');
  assert.equal(UNTILED_DECODE_BUDGET, 0.25);
});
