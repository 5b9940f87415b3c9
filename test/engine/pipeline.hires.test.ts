/**
 * The pipeline's pieces hires. fix and variation seeds use, on a fake model, against the loops written out by hand:
 * img2img from given latents running the schedule's last N steps (A1111's second pass), the first-noise hook, and
 * a first pass that keeps its latents instead of decoding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPipeline } from '../../src/engine/pipeline';
import type { LoadedModel, ModelInfo } from '../../src/engine/model/modelTypes';
import { firstImageNoise, TorchGenerator } from '../../src/engine/random';
import { createScheduler } from '../../src/engine/schedulers';

const SD15_SCHEDULER = {
  _class_name: 'EulerAncestralDiscreteScheduler', beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000, steps_offset: 1,
};

/** 16×16 images = 2×2 latents of 4 channels; ε = 0.1·x + 0.01; decode counts its calls. */
class FakeModel implements LoadedModel {
  readonly executionProvider = 'fake';
  decodes = 0;
  encodes = 0;
  readonly info: ModelInfo = {
    dir: '/fake', name: 'fake', pipelineClass: 'StableDiffusionPipeline', schedulerConfig: SD15_SCHEDULER,
    latentChannels: 4, vaeScaleFactor: 8, scalingFactor: 1, sampleSize: 2, tokenizerDir: '/fake/tokenizer',
    hasVaeEncoder: true, previewFactors: { factors: [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]], bias: [0, 0, 0] }, precision: 'fp32',
  };
  async encodeText(_ids: Int32Array, batch: number): Promise<{ data: Float32Array; dims: number[] }> {
    return { data: new Float32Array(batch * 2), dims: [batch, 1, 2] };
  }
  async predictNoise(sample: Float32Array): Promise<Float32Array> {
    return sample.map((x) => 0.1 * x + 0.01);
  }
  async decodeLatents(latents: Float32Array): Promise<Float32Array> {
    this.decodes++;
    return new Float32Array((latents.length / 16) * 3 * 256);
  }
  async encodeImage(): Promise<Float32Array> {
    this.encodes++;
    return new Float32Array(16);
  }
  async release(): Promise<void> {}
}

const common = { promptIds: new Int32Array(2), negativeIds: new Int32Array(2), cfgScale: 1, width: 16, height: 16, strength: 0.45 };

test('img2img from latents runs the schedule\'s last N steps on noise drawn first from the seed (A1111\'s hires pass)', async () => {
  const model = new FakeModel();
  const init = Float32Array.from({ length: 16 }, (_, k) => (k - 8) / 10);
  const out = await runPipeline({
    ...common, model, scheduler: createScheduler('euler_a', SD15_SCHEDULER), seeds: [5], steps: 7, denoiseSteps: 3,
    createRng: (seed) => new TorchGenerator(seed), initImage: null, initLatents: init, latentsOnly: true,
  });
  assert.equal(model.encodes, 0, 'the latents are not encoded again');
  assert.equal(model.decodes, 0, 'latentsOnly: no decode');
  const oracle = createScheduler('euler_a', SD15_SCHEDULER);
  oracle.setTimesteps(7);
  const timesteps = oracle.timesteps.slice(4);
  assert.deepEqual(out.timesteps, timesteps);
  const rng = new TorchGenerator(5);
  let x = oracle.addNoise(init, rng.randn(16), timesteps[0]);
  for (const t of timesteps) x = oracle.step(await model.predictNoise(oracle.scaleModelInput(x, t)), t, x, { generator: [rng], eta: 0 }).prevSample;
  assert.deepEqual(out.latents, x);
});

test('the first-noise hook gives txt2img its noise; the generator then goes on for the sampler (variation seed)', async () => {
  const model = new FakeModel();
  const shape = { channels: 4, height: 2, width: 2 };
  const createRng = (seed: number): TorchGenerator => new TorchGenerator(seed);
  const hook = (i: number, generator: TorchGenerator, s: typeof shape): Float32Array =>
    firstImageNoise([9, 10][i], generator, s, { variationSeed: 30 + i, strength: 0.4, createRng });
  const out = await runPipeline({
    ...common, model, scheduler: createScheduler('euler_a', SD15_SCHEDULER), seeds: [9, 10], steps: 3, createRng,
    initImage: null, initialNoise: hook as never, latentsOnly: true,
  });
  const oracle = createScheduler('euler_a', SD15_SCHEDULER);
  oracle.setTimesteps(3);
  const expected: number[] = [];
  for (const [i, seed] of [9, 10].entries()) {
    const rng = new TorchGenerator(seed);
    const noise = firstImageNoise(seed, rng, shape, { variationSeed: 30 + i, strength: 0.4, createRng });
    let x: Float32Array = noise.map((v) => v * Math.fround(oracle.initNoiseSigma));
    const s = createScheduler('euler_a', SD15_SCHEDULER);
    s.setTimesteps(3);
    for (const t of s.timesteps) x = s.step(await model.predictNoise(s.scaleModelInput(x, t)), t, x, { generator: [rng], eta: 0 }).prevSample;
    expected.push(...x);
  }
  assert.deepEqual(Array.from(out.latents!), expected);
});

test('inpainting takes its noise from the first-noise hook too (a variation seed varies an inpainted picture); an identity hook changes nothing', async () => {
  const shape = { channels: 4, height: 2, width: 2 };
  const mask = { width: 16, height: 16, data: Float32Array.from({ length: 256 }, (_, k) => (k % 16 < 8 ? 1 : 0)) };
  const initImage = Float32Array.from({ length: 3 * 256 }, (_, k) => ((k % 7) - 3) / 4);
  const run = (initialNoise?: unknown) => runPipeline({
    ...common, model: new FakeModel(), scheduler: createScheduler('euler_a', SD15_SCHEDULER), seeds: [9, 10], steps: 3,
    createRng: (seed) => new TorchGenerator(seed), initImage, strength: 0.75, inpaint: { mask }, latentsOnly: true,
    ...(initialNoise === undefined ? {} : { initialNoise: initialNoise as never }),
  });
  const plain = await run();
  const calls: number[] = [];
  const identity = await run((i: number, generator: TorchGenerator) => { calls.push(i); return generator.randn(16); });
  assert.deepEqual(calls, [0, 1], 'the hook is asked for each image');
  assert.deepEqual(identity.latents, plain.latents, 'the same draws in the same order as without a hook');
  const createRng = (seed: number): TorchGenerator => new TorchGenerator(seed);
  const varied = await run((i: number, generator: TorchGenerator, s: typeof shape) =>
    firstImageNoise([9, 10][i], generator, s, { variationSeed: 30 + i, strength: 0.4, createRng }));
  assert.notDeepEqual(varied.latents, plain.latents, 'a variation seed changes the inpainted latents');
});
