import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { firstImageNoise, PhiloxGenerator, slerpA1111, TorchGenerator, type Rng } from '../../../src/engine/random';

interface Case {
  rng: 'cpu' | 'nv';
  seeds: number[];
  subseeds: number[];
  strength: number;
  shape: [number, number, number];
  resizeFrom: [number, number];
  first: number[];
  next: number[];
}

// A1111's own ImageRNG (modules/rng.py) run with torch 2.13 CPU, ATEN_CPU_CAPABILITY=avx2 (fixtures/README.md).
const cases = (JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'a1111_variation_noise.json'), 'utf8')) as { cases: Case[] }).cases;

const factory = (source: 'cpu' | 'nv') => (seed: number): Rng => (source === 'nv' ? new PhiloxGenerator(seed) : new TorchGenerator(seed));

/** Largest |a − b| over the arrays, relative to max(1, |b|): float32 rounding of values around 1 is 6e-8. */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

const label = (c: Case): string => `${c.rng} seeds ${c.seeds.join(',')} subseeds ${c.subseeds.join(',')} strength ${c.strength} `
  + `shape ${c.shape.join('×')}${c.resizeFrom[0] > 0 ? ` resized from ${c.resizeFrom.join('x')}` : ''}`;

assert.ok(cases.length >= 20, 'the fixture holds the CPU and NV cases');

let worstFirst = 0;
for (const c of cases) {
  test(`variation noise equals A1111's ImageRNG within float32 rounding (${label(c)})`, () => {
    const [channels, height, width] = c.shape;
    const shape = { channels, height, width };
    const size = channels * height * width;
    const createRng = factory(c.rng);
    const first = new Float32Array(c.seeds.length * size);
    const next = new Float32Array(c.seeds.length * size);
    c.seeds.forEach((seed, i) => {
      const generator = createRng(seed);
      first.set(firstImageNoise(seed, generator, shape, {
        variationSeed: c.subseeds[i], strength: c.strength, createRng,
        resizeFrom: { width: c.resizeFrom[0], height: c.resizeFrom[1] },
      }), i * size);
      next.set(generator.randn(size), i * size);
    });
    const diff = maxRelDiff(first, c.first);
    worstFirst = Math.max(worstFirst, diff);
    assert.ok(diff < 2e-6, `first noise differs by ${diff}`);
    // The generator goes on as A1111's: the sampler's noise after the first is bit for bit torch's / Philox's.
    assert.equal(maxRelDiff(next, c.next), 0);
  });
}

test('the worst case of the recorded first noises is float32 rounding (< 2e-6 relative)', () => {
  assert.ok(worstFirst > 0 || cases.every((c) => c.strength === 0), 'slerped noises are compared');
  assert.ok(worstFirst < 2e-6, String(worstFirst));
});

test('strength 0 leaves the seed\'s noise bit for bit, and no variation generator is made', () => {
  const shape = { channels: 4, height: 8, width: 8 };
  let made = 0;
  const createRng = (seed: number): Rng => { made++; return new TorchGenerator(seed); };
  const noise = firstImageNoise(5, new TorchGenerator(5), shape, { variationSeed: 6, strength: 0, createRng });
  assert.deepEqual(noise, new TorchGenerator(5).randn(256));
  assert.equal(made, 0);
});

test('slerp refuses tensors that do not match the shape', () => {
  assert.throws(() => slerpA1111(0.5, new Float32Array(8), new Float32Array(8), { channels: 1, height: 2, width: 3 }), /2×3 = 6 values, got 8 and 8/);
});

test('slerp of nearly parallel columns takes A1111\'s linear fallback (low·val + high·(1 − val))', () => {
  const low = Float32Array.from([1, 2, 3, 4]);
  const high = Float32Array.from([1, 2, 3, 4.0001]);
  const out = slerpA1111(0.25, low, high, { channels: 1, height: 4, width: 1 });
  assert.deepEqual(Array.from(out), Array.from(low, (v, i) => Math.fround(Math.fround(v * 0.25) + Math.fround(high[i] * 0.75))));
});
