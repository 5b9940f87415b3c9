import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPipeline } from '../../src/engine/pipeline';
import type { LoadedModel, ModelInfo } from '../../src/engine/model/modelTypes';
import { TorchGenerator } from '../../src/engine/random';
import { createScheduler } from '../../src/engine/schedulers';

const SD15_SCHEDULER = {
  _class_name: 'PNDMScheduler', beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000, steps_offset: 1, skip_prk_steps: true, set_alpha_to_one: false, clip_sample: false,
};

/** One 8×8 image = one latent pixel of 3 channels; ε = 0.1·x + 0.01; decode copies channel c to RGB channel c. */
class TinyModel implements LoadedModel {
  readonly executionProvider = 'fake';
  readonly info: ModelInfo = {
    dir: '/fake', name: 'fake', pipelineClass: 'StableDiffusionPipeline', schedulerConfig: SD15_SCHEDULER,
    latentChannels: 3, vaeScaleFactor: 8, scalingFactor: 1, sampleSize: 1, tokenizerDir: '/fake/tokenizer',
    hasVaeEncoder: true, previewFactors: { factors: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], bias: [0, 0, 0] }, precision: 'fp32',
  };
  async encodeText(_ids: Int32Array, batch: number): Promise<{ data: Float32Array; dims: number[] }> {
    return { data: new Float32Array(batch * 2), dims: [batch, 1, 2] };
  }
  async predictNoise(sample: Float32Array): Promise<Float32Array> {
    return sample.map((x) => 0.1 * x + 0.01);
  }
  async decodeLatents(latents: Float32Array): Promise<Float32Array> {
    const out = new Float32Array(3 * 64);
    for (let c = 0; c < 3; c++) out.fill(latents[c], c * 64, (c + 1) * 64);
    return out;
  }
  async encodeImage(): Promise<Float32Array> {
    return Float32Array.from([0.5, -0.25, 1]);
  }
  async release(): Promise<void> {}
}

test('img2img starts the scheduler at t_start · order as diffusers get_timesteps does (set_begin_index), '
  + 'also where the first timestep repeats (DPM++ 2M Karras, 50 steps, strength 0.06 → [1, 1, 0])', async () => {
  const model = new TinyModel();
  const out = await runPipeline({
    model, scheduler: createScheduler('dpmpp_2m_karras', SD15_SCHEDULER),
    promptIds: new Int32Array(2), negativeIds: new Int32Array(2), steps: 50, cfgScale: 1, seeds: [7], width: 8, height: 8,
    createRng: (seed) => new TorchGenerator(seed), initImage: new Float32Array(3 * 64), strength: 0.06,
  });
  assert.deepEqual(out.timesteps, [1, 1, 0]);

  // diffusers StableDiffusionImg2ImgPipeline, step by step: set_timesteps, get_timesteps → set_begin_index(47),
  // prepare_latents → add_noise(init, randn, timesteps[0]), then the loop.
  const oracle = createScheduler('dpmpp_2m_karras', SD15_SCHEDULER) as ReturnType<typeof createScheduler> & { setBeginIndex(i: number): void };
  oracle.setTimesteps(50);
  oracle.setBeginIndex(47);
  const rng = new TorchGenerator(7);
  let x = oracle.addNoise(Float32Array.from([0.5, -0.25, 1]), rng.randn(3), 1);
  for (const t of oracle.timesteps.slice(47)) {
    const eps = await model.predictNoise(oracle.scaleModelInput(x, t));
    x = oracle.step(eps, t, x, { generator: [rng], eta: 0 }).prevSample;
  }
  assert.deepEqual([out.images[0], out.images[64], out.images[128]], Array.from(x));
});

test('img2img samples the VAE posterior as diffusers does: (μ + exp(½·clamp(logvar)) · ε) · scaling_factor with ε drawn '
  + 'from image i\'s generator before its added noise; a batch of 2 draws each from its own seed', async () => {
  const mean = Float32Array.from([0.5, -0.25, 1]);
  const logvar = Float32Array.from([-1, 0.5, -40]); // −40 is clamped to −30
  const scalingFactor = 0.18215;
  class PosteriorModel extends TinyModel {
    override readonly info: ModelInfo = { ...new TinyModel().info, scalingFactor };
    async encodeImageDistribution(): Promise<{ mean: Float32Array; logvar: Float32Array }> {
      return { mean, logvar };
    }
    override async decodeLatents(latents: Float32Array): Promise<Float32Array> {
      const out = new Float32Array(latents.length * 64);
      for (let i = 0; i < latents.length; i++) out.fill(latents[i], i * 64, (i + 1) * 64);
      return out;
    }
  }
  const model = new PosteriorModel();
  const scheduler = createScheduler('ddim', SD15_SCHEDULER);
  const out = await runPipeline({
    model, scheduler, promptIds: new Int32Array(2), negativeIds: new Int32Array(2), steps: 4, cfgScale: 1, seeds: [3, 4],
    width: 8, height: 8, createRng: (seed) => new TorchGenerator(seed), initImage: new Float32Array(3 * 64), strength: 0.5,
  });
  assert.deepEqual(out.timesteps, [251, 1]);
  for (const [i, seed] of [[0, 3], [1, 4]]) {
    // retrieve_latents(vae.encode(image), generator) · scaling_factor, then add_noise(…, randn(generator), t), then the loop.
    const oracle = createScheduler('ddim', SD15_SCHEDULER);
    oracle.setTimesteps(4);
    const rng = new TorchGenerator(seed);
    const eps = rng.randn(3);
    const f = Math.fround(scalingFactor);
    const z = mean.map((m, k) => Math.fround(Math.fround(m + Math.fround(Math.fround(Math.exp(Math.fround(0.5 * Math.max(logvar[k], -30)))) * eps[k])) * f));
    let x = oracle.addNoise(z, rng.randn(3), 251);
    for (const t of [251, 1]) x = oracle.step(await model.predictNoise(oracle.scaleModelInput(x, t)), t, x, { generator: [rng], eta: 0 }).prevSample;
    const base = i * 3 * 64;
    assert.deepEqual([out.images[base], out.images[base + 64], out.images[base + 128]], Array.from(x), `image ${i}`);
  }
});
