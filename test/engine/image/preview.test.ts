import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SD15_LATENT_RGB, SDXL_LATENT_RGB, latentToRgbInto, latentsToPreviews, parseLatentRgbFactors,
} from '../../../src/engine/image/preview';

/** 2×4×2×3 latents in about [-2.7, 2.7]: float32((i·7919 mod 200 − 100) / 37). */
const LATENTS = Float32Array.from({ length: 48 }, (_, i) => ((i * 7919) % 200 - 100) / 37);
const DIMS = [2, 4, 2, 3];

// Recorded with numpy 1.24: floor(clip((einsum('bchw,cr->bhwr', latents, M) + bias + 1) / 2, 0, 1) * 255 + 0.5),
// with M and bias from REFERENCE.md "Previews" (no value lies within 0.01 of a rounding tie).
const EXPECTED_SD15 = [
  [62, 0, 0, 58, 91, 235, 85, 75, 0, 82, 175, 250, 255, 255, 255, 255, 138, 77],
  [97, 115, 0, 255, 94, 69, 43, 36, 225, 70, 20, 0, 66, 120, 240, 94, 104, 0],
];
const EXPECTED_SDXL = [
  [0, 0, 0, 255, 205, 155, 0, 0, 0, 255, 242, 192, 123, 161, 186, 184, 202, 254],
  [0, 0, 15, 191, 183, 235, 255, 181, 130, 0, 0, 0, 255, 218, 167, 0, 0, 10],
];

test('maps SD 1.x latents to RGB with the reference factors', () => {
  const previews = latentsToPreviews(LATENTS, DIMS);
  assert.deepEqual(previews.map((p) => ({ width: p.width, height: p.height, rgb: Array.from(p.rgb) })),
    EXPECTED_SD15.map((rgb) => ({ width: 3, height: 2, rgb })));
});

test('takes other factors and a bias (SDXL)', () => {
  assert.deepEqual(latentsToPreviews(LATENTS, DIMS, SDXL_LATENT_RGB).map((p) => Array.from(p.rgb)), EXPECTED_SDXL);
});

test('reads preview.json factors and rejects malformed ones', () => {
  const json = { latent_rgb_factors: SDXL_LATENT_RGB.factors, latent_rgb_bias: SDXL_LATENT_RGB.bias };
  assert.deepEqual(parseLatentRgbFactors(JSON.parse(JSON.stringify(json)), 'preview.json'), SDXL_LATENT_RGB);
  assert.deepEqual(parseLatentRgbFactors({ latent_rgb_factors: [[1, 2, 3]] }, 'p.json'), { factors: [[1, 2, 3]], bias: [0, 0, 0] });
  assert.throws(() => parseLatentRgbFactors({ latent_rgb_factors: [[1, 2]] }, 'm/preview.json'),
    /m\/preview.json: expected "latent_rgb_factors" to be a list of \[r, g, b\] number triples, one per latent channel, got \[\[1,2\]\]/);
  assert.throws(() => parseLatentRgbFactors({ latent_rgb_factors: [[1, 2, 3]], latent_rgb_bias: 'x' }, 'p.json'),
    /p.json: expected "latent_rgb_bias" to be \[r, g, b\] numbers, got "x"/);
  assert.throws(() => parseLatentRgbFactors(null, 'p.json'), /latent_rgb_factors/);
});

test('checks dims, channel count and length', () => {
  assert.throws(() => latentsToPreviews(LATENTS, [4, 2, 3]), /expected latent dims \[B, C, h, w\], got \[4, 2, 3\]/);
  assert.throws(() => latentsToPreviews(new Float32Array(16), [1, 16, 1, 1]), /preview factors have 4 rows, but the latents have 16 channels/);
  assert.throws(() => latentsToPreviews(LATENTS, [1, 4, 2, 3]), /latents have 48 values; dims \[1, 4, 2, 3\] need 24/);
});

test('NaN latents show as black, not garbage', () => {
  const [preview] = latentsToPreviews(new Float32Array(4).fill(NaN), [1, 4, 1, 1]);
  assert.deepEqual(Array.from(preview.rgb), [0, 0, 0]);
});

test('a 1×4×64×64 preview costs at most 2 ms', (t) => {
  const latents = Float32Array.from({ length: 4 * 64 * 64 }, (_, i) => Math.sin(i));
  const out = new Uint8Array(64 * 64 * 3);
  const factors = Float32Array.from(SD15_LATENT_RGB.factors.flat());
  const bias = new Float32Array(3);
  for (let i = 0; i < 50; i++) latentToRgbInto(out, latents, 0, 4, 64 * 64, factors, bias); // warm up the JIT
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const start = performance.now();
    latentsToPreviews(latents, [1, 4, 64, 64]);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  t.diagnostic(`latentsToPreviews 1×4×64×64: best ${times[0].toFixed(3)} ms, median ${times[10].toFixed(3)} ms`);
  assert.ok(times[0] <= 2, `best of 20 took ${times[0].toFixed(3)} ms`);
});
