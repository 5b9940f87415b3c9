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
