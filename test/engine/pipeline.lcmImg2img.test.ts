/**
 * img2img on LCM UNets runs diffusers' LatentConsistencyModelImg2ImgPipeline schedule: set_timesteps(steps,
 * strength) — all `steps` steps on the first ⌊50·strength⌋ distillation timesteps, noise added at the first — where
 * StableDiffusionImg2ImgPipeline (any other UNet) runs the ⌊steps·strength⌋-step tail of the full schedule.
 * Also: the model's VAE-encoder noise warning reaches the output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../src/engine/model/engineError';
import { runPipeline } from '../../src/engine/pipeline';
import type { LoadedModel, ModelInfo } from '../../src/engine/model/modelTypes';
import type { Rng } from '../../src/engine/random';
import { LCMScheduler } from '../../src/engine/schedulers/lcm';

const LCM_CONFIG = {
  beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', num_train_timesteps: 1000, original_inference_steps: 50,
  set_alpha_to_one: true, steps_offset: 1, clip_sample: false, timestep_spacing: 'leading', prediction_type: 'epsilon',
};

class FakeModel implements LoadedModel {
  readonly executionProvider = 'fake';
  readonly unetCalls: Array<{ t: number; sample: number[] }> = [];
  noiseChecks = 0;
  readonly info: ModelInfo = {
    dir: '/fake', name: 'fake', pipelineClass: 'LatentConsistencyModelPipeline', schedulerConfig: {},
    latentChannels: 1, vaeScaleFactor: 8, scalingFactor: 1, sampleSize: 1, tokenizerDir: '/fake/tokenizer',
    hasVaeEncoder: true, previewFactors: { factors: [[1, 1, 1]], bias: [0, 0, 0] }, precision: 'fp32',
  };
  constructor(readonly hasGuidanceEmbedding: boolean, private readonly noiseWarning?: string) {}
  async encodeText(_ids: Int32Array, batch: number): Promise<{ data: Float32Array; dims: number[] }> {
    return { data: new Float32Array(batch * 2), dims: [batch, 2, 1] };
  }
  async predictNoise(sample: Float32Array, _dims: number[], t: number): Promise<Float32Array> {
    this.unetCalls.push({ t, sample: Array.from(sample) });
    return sample.map((x) => x * 0.1);
  }
  async decodeLatents(_latents: Float32Array, dims: number[]): Promise<Float32Array> {
    return new Float32Array(dims[0] * 3 * 64);
  }
  async encodeImage(): Promise<Float32Array> {
    return Float32Array.of(0.5);
  }
  async vaeEncoderNoiseWarning(): Promise<string | undefined> {
    this.noiseChecks++;
    return this.noiseWarning;
  }
  async release(): Promise<void> {}
}

class ConstRng implements Rng {
  randn(count: number): Float32Array {
    return new Float32Array(count).fill(0.25);
  }
}

function run(model: LoadedModel, steps: number, strength: number) {
  return runPipeline({
    model, scheduler: new LCMScheduler(LCM_CONFIG), promptIds: Int32Array.from([1, 2]), negativeIds: Int32Array.from([1, 0]),
    steps, cfgScale: 8, seeds: [3], width: 8, height: 8, createRng: () => new ConstRng(),
    initImage: new Float32Array(3 * 64).fill(0.1), strength,
  });
}

test('an LCM UNet runs all 4 steps on the strength-shortened schedule, noised at its first timestep', async () => {
  const model = new FakeModel(true);
  const out = await run(model, 4, 0.8);
  assert.deepEqual(out.timesteps, [799, 599, 399, 199]); // diffusers: set_timesteps(4, strength=0.8)
  const expectedStart = new LCMScheduler(LCM_CONFIG).addNoise(Float32Array.of(0.5), Float32Array.of(0.25), 799);
  assert.deepEqual(model.unetCalls.map((c) => c.t), [799, 599, 399, 199]);
  assert.deepEqual(model.unetCalls[0].sample, Array.from(expectedStart));
});

test('a UNet without the guidance embedding keeps the SD img2img tail with the same scheduler', async () => {
  const out = await run(new FakeModel(false), 4, 0.8);
  assert.deepEqual(out.timesteps, [759, 499, 259]); // ⌊4·0.8⌋ = 3 steps of [999, 759, 499, 259]
});

test('a strength too small for the steps is refused with diffusers\' reason', async () => {
  await assert.rejects(run(new FakeModel(true), 4, 0.07),
    (e: unknown) => e instanceof EngineError && e.code === 'invalid-request' && /img2img with LCM: .*leaves 3 timesteps/.test(e.message));
});

test('the model\'s VAE-encoder noise warning is in the output, asked once per img2img', async () => {
  const model = new FakeModel(false, 'noisy encoder');
  const out = await run(model, 4, 0.5);
  assert.deepEqual([out.warnings, model.noiseChecks], [['noisy encoder'], 1]);
  assert.deepEqual((await run(new FakeModel(false), 4, 0.5)).warnings, []);
});
