import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { interpolate, type InterpolateMode } from '../../../src/engine/image';
import { TorchGenerator } from '../../../src/engine/random';
import { LATENT_UPSCALERS, type LatentUpscaler } from '../../../src/common/hires';

interface Case {
  upscaler: LatentUpscaler;
  mode: InterpolateMode;
  antialias: boolean;
  seed: number;
  dims: [number, number, number, number];
  out: [number, number];
  output: number[];
}

// torch.nn.functional.interpolate (torch 2.13 CPU) on torch.randn inputs, recorded by fixtures/record_latent_upscale.py.
const cases = (JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'latent_upscale.json'), 'utf8')) as { cases: Case[] }).cases;

test('the fixture covers every A1111 latent upscaler with the mode and antialias flag A1111 maps it to', () => {
  assert.deepEqual([...new Set(cases.map((c) => c.upscaler))].sort(), Object.keys(LATENT_UPSCALERS).sort());
  for (const c of cases) assert.deepEqual({ mode: c.mode, antialias: c.antialias }, LATENT_UPSCALERS[c.upscaler]);
});

for (const c of cases) {
  test(`interpolate equals torch's F.interpolate within float32 rounding: ${c.upscaler} ${c.dims.join('×')} → ${c.out.join('×')}`, () => {
    const numel = c.dims.reduce((a, b) => a * b, 1);
    const x = new TorchGenerator(c.seed).randn(numel);
    const y = interpolate(x, c.dims, c.out[0], c.out[1], { mode: c.mode, antialias: c.antialias });
    assert.equal(y.length, c.output.length);
    let worst = 0;
    for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - Math.fround(c.output[i])) / Math.max(1, Math.abs(c.output[i])));
    if (c.mode.startsWith('nearest')) assert.equal(worst, 0, 'nearest copies values');
    // torch sums the taps in another order (and with fused multiply-adds in its AVX2 build): a few float32 ulps of
    // the inputs' magnitude (|x| < 4.5: ulp 4.8e-7) apart at most; measured worst 2.4e-6.
    assert.ok(worst < 3e-6, `differs by ${worst}`);
  });
}

test('interpolate refuses dims that do not match the data, and empty outputs', () => {
  assert.throws(() => interpolate(new Float32Array(10), [1, 1, 3, 3], 6, 6, { mode: 'bilinear' }), /needs 9 values, got 10/);
  assert.throws(() => interpolate(new Float32Array(9), [1, 1, 3, 3], 0, 6, { mode: 'bilinear' }), /output sides ≥ 1/);
});
