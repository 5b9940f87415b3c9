/**
 * LCM UNets (hasGuidanceEmbedding): the pipeline runs diffusers' LatentConsistencyModelPipeline shape — the prompt
 * alone through the text encoder (no negative prompt, no CFG batch), one UNet pass per step on the image batch, and
 * the request's CFG value handed to predictNoise as the guidance scale to embed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPipeline } from '../../src/engine/pipeline';
import type { LoadedModel, ModelInfo } from '../../src/engine/model/modelTypes';
import type { Rng } from '../../src/engine/random';
import type { Scheduler, StepOptions, StepResult } from '../../src/engine/schedulers/types';

const SEQ = 2;

class FakeLcmModel implements LoadedModel {
  readonly executionProvider = 'fake';
  readonly calls: string[] = [];
  readonly guidance: Array<number | undefined> = [];
  readonly info: ModelInfo = {
    dir: '/fake', name: 'fake', pipelineClass: 'LatentConsistencyModelPipeline', schedulerConfig: {},
    latentChannels: 1, vaeScaleFactor: 8, scalingFactor: 1, sampleSize: 1, tokenizerDir: '/fake/tokenizer',
    hasVaeEncoder: false, previewFactors: { factors: [[1, 1, 1]], bias: [0, 0, 0] }, precision: 'fp32',
  };
  constructor(readonly hasGuidanceEmbedding: boolean) {}

  /** hidden[b, j] = ids[b, 1] (one hidden unit). */
  async encodeText(ids: Int32Array, batch: number): Promise<{ data: Float32Array; dims: number[] }> {
    this.calls.push(`text ${Array.from(ids).join(',')}`);
    const data = new Float32Array(batch * SEQ);
    for (let b = 0; b < batch; b++) data.fill(ids[b * SEQ + 1], b * SEQ, (b + 1) * SEQ);
    return { data, dims: [batch, SEQ, 1] };
  }

  /** ε = sample + hidden + w (w = the embedded guidance scale, 0 without one). */
  async predictNoise(sample: Float32Array, dims: number[], t: number, hidden: Float32Array, hiddenDims: number[],
    opts?: { readonly guidanceScale?: number }): Promise<Float32Array> {
    this.calls.push(`unet ${dims.join('x')} t=${t} hidden ${hiddenDims.join('x')}`);
    this.guidance.push(opts?.guidanceScale);
    const w = opts?.guidanceScale ?? 0;
    return sample.map((x, b) => x + hidden[b * SEQ] + w);
  }

  async decodeLatents(latents: Float32Array, dims: number[]): Promise<Float32Array> {
    this.calls.push(`decode ${dims.join('x')}`);
    const out = new Float32Array(dims[0] * 3 * 64);
    for (let b = 0; b < dims[0]; b++) out.fill(Math.tanh(latents[b]), b * 192, (b + 1) * 192);
    return out;
  }

  async encodeImage(): Promise<Float32Array> {
    throw new Error('not used');
  }

  async release(): Promise<void> {}
}

class ConstRng implements Rng {
  constructor(private readonly value: number) {}
  randn(count: number): Float32Array {
    return new Float32Array(count).fill(this.value);
  }
}

/** x ← x − ε/10; records the model outputs. */
class StepScheduler implements Scheduler {
  readonly order = 1;
  readonly initNoiseSigma = 1;
  timesteps: number[] = [];
  readonly outputs: number[][] = [];
  setTimesteps(steps: number): void {
    this.timesteps = Array.from({ length: steps }, (_, i) => 999 - 250 * i);
  }
  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }
  step(eps: Float32Array, _t: number, x: Float32Array, _opts?: StepOptions): StepResult {
    this.outputs.push(Array.from(eps));
    return { prevSample: x.map((v, k) => v - eps[k] / 10) };
  }
  addNoise(original: Float32Array): Float32Array {
    return original;
  }
}

function input(model: LoadedModel, scheduler: Scheduler, cfgScale: number) {
  return {
    model, scheduler, promptIds: Int32Array.from([1, 30]), negativeIds: Int32Array.from([1, 20]),
    steps: 2, cfgScale, seeds: [5, 6], width: 8, height: 8,
    createRng: (seed: number) => new ConstRng(seed / 10), initImage: null, strength: 0.75,
  };
}

test('an LCM UNet gets the prompt alone, the image batch, and the CFG value as its embedded guidance scale', async () => {
  const model = new FakeLcmModel(true);
  const scheduler = new StepScheduler();
  await runPipeline(input(model, scheduler, 8));
  assert.deepEqual(model.calls, [
    'text 1,30', // no negative prompt: LCM pipelines encode the prompt only
    'unet 2x1x1x1 t=999 hidden 2x2x1',
    'unet 2x1x1x1 t=749 hidden 2x2x1',
    'decode 2x1x1x1',
  ]);
  assert.deepEqual(model.guidance, [8, 8]);
  // step 1: x = [0.5, 0.6], ε = x + 30 + 8 (no guidance mixing)
  assert.deepEqual(scheduler.outputs[0].map((v) => Math.round(v * 1e4) / 1e4), [38.5, 38.6]);
});

test('an LCM UNet with CFG ≤ 1 still embeds the scale (diffusers feeds w − 1 = 0 at scale 1)', async () => {
  const model = new FakeLcmModel(true);
  await runPipeline(input(model, new StepScheduler(), 1));
  assert.deepEqual(model.guidance, [1, 1]);
});

test('a UNet without the embedding keeps classifier-free guidance: [uncond; cond] batch, no guidance scale passed', async () => {
  const model = new FakeLcmModel(false);
  await runPipeline(input(model, new StepScheduler(), 8));
  assert.deepEqual(model.calls.slice(0, 2), ['text 1,20,1,30', 'unet 4x1x1x1 t=999 hidden 4x2x1']);
  assert.deepEqual(model.guidance, [undefined, undefined]);
});
