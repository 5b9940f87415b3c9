import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guideNoise, img2imgTimesteps, runPipeline, type PipelineInput } from '../../src/engine/pipeline';
import { EngineError } from '../../src/engine/model/engineError';
import type { LoadedModel, ModelInfo } from '../../src/engine/model/modelTypes';
import { PhiloxGenerator, TorchGenerator, type Rng } from '../../src/engine/random';
import { createScheduler } from '../../src/engine/schedulers';
import type { Scheduler, StepOptions, StepResult } from '../../src/engine/schedulers/types';

const SEQ = 4;
const HIDDEN = 2;

/** A model like diffusers' dummy components: tiny, deterministic, per-row (so batches don't mix). */
class FakeModel implements LoadedModel {
  readonly executionProvider = 'fake';
  readonly calls: string[] = [];
  readonly info: ModelInfo = {
    dir: '/fake', name: 'fake', pipelineClass: 'StableDiffusionPipeline', schedulerConfig: {},
    latentChannels: 2, vaeScaleFactor: 8, scalingFactor: 0.5, sampleSize: 1, tokenizerDir: '/fake/tokenizer',
    hasVaeEncoder: true, previewFactors: { factors: [[1, 0, 0], [0, 1, 0]], bias: [0, 0, 0] }, precision: 'fp32',
  };

  /** hidden[b, j, d] = ids[b, 1] / 100 + d (only token 1 matters, enough to tell rows apart). */
  async encodeText(ids: Int32Array, batch: number): Promise<{ data: Float32Array; dims: number[] }> {
    this.calls.push(`text ${batch}`);
    const data = new Float32Array(batch * SEQ * HIDDEN);
    for (let b = 0; b < batch; b++) {
      for (let j = 0; j < SEQ; j++) for (let d = 0; d < HIDDEN; d++) data[(b * SEQ + j) * HIDDEN + d] = ids[b * SEQ + 1] / 100 + d;
    }
    return { data, dims: [batch, SEQ, HIDDEN] };
  }

  /** ε[b, k] = sample[b, k] / 2 + hidden[b, 0, 0] + t / 1000. */
  async predictNoise(sample: Float32Array, dims: number[], t: number, hidden: Float32Array, hiddenDims: number[]): Promise<Float32Array> {
    this.calls.push(`unet ${dims.join('x')} t=${t} hidden ${hiddenDims.join('x')}`);
    const size = sample.length / dims[0];
    const out = new Float32Array(sample.length);
    for (let b = 0; b < dims[0]; b++) {
      for (let k = 0; k < size; k++) out[b * size + k] = sample[b * size + k] / 2 + hidden[b * SEQ * HIDDEN] + t / 1000;
    }
    return out;
  }

  /** Each latent pixel becomes an 8×8 block; RGB = tanh(channel 0, channel 1, their sum). */
  async decodeLatents(latents: Float32Array, dims: number[]): Promise<Float32Array> {
    this.calls.push(`decode ${dims.join('x')}`);
    const [b, c, h, w] = dims;
    const H = h * 8;
    const W = w * 8;
    const out = new Float32Array(b * 3 * H * W);
    for (let i = 0; i < b; i++) {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const base = i * c * h * w + Math.floor(y / 8) * w + Math.floor(x / 8);
          const l0 = latents[base];
          const l1 = latents[base + h * w];
          const rgb = [l0, l1, l0 + l1];
          for (let ch = 0; ch < 3; ch++) out[((i * 3 + ch) * H + y) * W + x] = Math.tanh(rgb[ch]);
        }
      }
    }
    return out;
  }

  /** Latent pixel = the mean of its 8×8 block, channel c from image channel c. */
  async encodeImage(image: Float32Array, dims: number[]): Promise<Float32Array> {
    this.calls.push(`encode ${dims.join('x')}`);
    const [, , H, W] = dims;
    const h = H / 8;
    const w = W / 8;
    const out = new Float32Array(2 * h * w);
    for (let c = 0; c < 2; c++) {
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out[(c * h + Math.floor(y / 8)) * w + Math.floor(x / 8)] += image[(c * H + y) * W + x] / 64;
    }
    return out;
  }

  async release(): Promise<void> {
    this.calls.push('release');
  }
}

/** A stream of numbers from a seed: 0.1·seed + 0.01·n for the n-th draw. */
class CountingRng implements Rng {
  private drawn = 0;
  constructor(private readonly seed: number) {}
  randn(count: number): Float32Array {
    const out = new Float32Array(count);
    for (let k = 0; k < count; k++) out[k] = 0.1 * this.seed + 0.01 * this.drawn++;
    return out;
  }
}

/** x ← x − 0.1·ε + one generator draw per image; records what it is given; predOriginalSample = x − ε on demand. */
class RecordingScheduler implements Scheduler {
  readonly order = 1;
  readonly initNoiseSigma = 2;
  timesteps: number[] = [];
  readonly modelOutputs: Float32Array[] = [];
  readonly added: Array<{ original: Float32Array; noise: Float32Array; t: number }> = [];
  constructor(private readonly withPredOriginal = true) {}
  setTimesteps(steps: number): void {
    this.timesteps = Array.from({ length: steps }, (_, i) => 900 - i * 100);
  }
  scaleModelInput(sample: Float32Array): Float32Array {
    return sample.map((x) => x * 0.5);
  }
  step(eps: Float32Array, _t: number, x: Float32Array, opts?: StepOptions): StepResult {
    this.modelOutputs.push(eps.slice());
    const gens = opts?.generator as Rng[];
    const size = x.length / gens.length;
    const prev = new Float32Array(x.length);
    for (let i = 0; i < gens.length; i++) {
      const noise = gens[i].randn(size);
      for (let k = 0; k < size; k++) prev[i * size + k] = x[i * size + k] - 0.1 * eps[i * size + k] + noise[k];
    }
    return { prevSample: prev, predOriginalSample: this.withPredOriginal ? x.map((v, k) => v - eps[k]) : undefined };
  }
  addNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array {
    this.added.push({ original: original.slice(), noise: noise.slice(), t });
    return original.map((v, k) => v + noise[k]);
  }
}

function baseInput(model: LoadedModel, scheduler: Scheduler, patch: Partial<PipelineInput> = {}): PipelineInput {
  return {
    model, scheduler,
    promptIds: Int32Array.from([9, 50, 7, 7]),
    negativeIds: Int32Array.from([9, 20, 7, 7]),
    steps: 1, cfgScale: 7.5, seeds: [3], width: 8, height: 8,
    createRng: (seed) => new CountingRng(seed), initImage: null, strength: 0.75,
    ...patch,
  };
}

test('guidance: one UNet call on [uncond; cond] and ε = ε_u + cfg·(ε_c − ε_u), by hand', async () => {
  const model = new FakeModel();
  const scheduler = new RecordingScheduler();
  await runPipeline(baseInput(model, scheduler, { steps: 1 }));
  // x_T = randn(seed 3) · σ_init 2 = [0.30, 0.31] · 2 = [0.6, 0.62]; scaled by ½ → [0.3, 0.31]; t = 900.
  // ε_u = 0.3/2 + 0.20 + 0.9 = 1.25 and 0.31/2 + 1.1 = 1.255; ε_c = 0.15 + 0.50 + 0.9 = 1.55 and 1.555.
  // ε = ε_u + 7.5·(ε_c − ε_u) = 1.25 + 7.5·0.3 = 3.5 and 1.255 + 7.5·0.3 = 3.505.
  assert.deepEqual(Array.from(scheduler.modelOutputs[0], (v) => Number(v.toFixed(5))), [3.5, 3.505]);
  assert.deepEqual(model.calls, ['text 2', 'unet 2x2x1x1 t=900 hidden 2x4x2', 'decode 1x2x1x1']);
});

test('guideNoise rounds like float32 tensors: each operation rounded to float32', () => {
  const u = Float32Array.from([0.1, -3.3]);
  const c = Float32Array.from([0.7, 2.9]);
  const got = guideNoise(Float32Array.from([...u, ...c]), 7.5);
  const f = Math.fround;
  assert.deepEqual(Array.from(got), [0, 1].map((k) => f(u[k] + f(7.5 * f(c[k] - u[k])))));
});

test('cfg ≤ 1 skips the unconditional half: text encoder and UNet on the prompt alone, ε unguided', async () => {
  const model = new FakeModel();
  const scheduler = new RecordingScheduler();
  await runPipeline(baseInput(model, scheduler, { cfgScale: 1, seeds: [3, 4] }));
  assert.deepEqual(model.calls, ['text 1', 'unet 2x2x1x1 t=900 hidden 2x4x2', 'decode 2x2x1x1']);
  // ε_c for image 0 = x·½/2 + 0.5 + 0.9 with x = [0.6, 0.62]
  assert.deepEqual(Array.from(scheduler.modelOutputs[0].subarray(0, 2), (v) => Number(v.toFixed(5))), [1.55, 1.555]);
});

test('image i of a batch equals seed + i generated alone (initial noise and step noise per image)', async () => {
  const run = async (seeds: number[]) => (await runPipeline(baseInput(new FakeModel(), new RecordingScheduler(), { steps: 4, seeds, width: 16, height: 8 }))).images;
  const batch = await run([10, 11, 12]);
  const third = await run([12]);
  const size = 3 * 8 * 16;
  assert.deepEqual(batch.subarray(2 * size), third);
  assert.notDeepEqual(batch.subarray(0, size), third);
});

test('cancelling during a step stops before the next UNet call and never decodes', async () => {
  const model = new FakeModel();
  const controller = new AbortController();
  const steps: number[] = [];
  const run = runPipeline(baseInput(model, new RecordingScheduler(), {
    steps: 5, signal: controller.signal,
    onStep: (p) => { steps.push(p.step); if (p.step === 2) controller.abort(); },
  }));
  await assert.rejects(run, (e: unknown) => e instanceof EngineError && e.code === 'cancelled');
  assert.deepEqual(steps, [1, 2]);
  assert.equal(model.calls.filter((c) => c.startsWith('unet')).length, 2);
  assert.equal(model.calls.some((c) => c.startsWith('decode')), false);
});

test('a cancel that arrives as an event while the loop runs is seen between steps', async () => {
  const model = new FakeModel();
  const controller = new AbortController();
  setImmediate(() => controller.abort());
  await assert.rejects(runPipeline(baseInput(model, new RecordingScheduler(), { steps: 50, signal: controller.signal })), { name: 'EngineError', message: 'generation cancelled' });
  assert.ok(model.calls.filter((c) => c.startsWith('unet')).length < 3, model.calls.join(', '));
});

test('an already cancelled signal stops before the text encoder', async () => {
  const model = new FakeModel();
  await assert.rejects(runPipeline(baseInput(model, new RecordingScheduler(), { signal: AbortSignal.abort() })), { name: 'EngineError' });
  assert.deepEqual(model.calls, []);
});

test('one progress event per step with one preview per image of predOriginalSample, else the latents', async () => {
  for (const withPred of [true, false]) {
    const seen: Array<[number, number, number]> = [];
    const previewed: Float32Array[] = [];
    const scheduler = new RecordingScheduler(withPred);
    await runPipeline(baseInput(new FakeModel(), scheduler, {
      steps: 3, seeds: [1, 2],
      preview: (latents, dims) => {
        previewed.push(latents.slice());
        return Array.from({ length: dims[0] }, () => ({ width: 1, height: 1, rgb: new Uint8Array(3) }));
      },
      onStep: (p) => seen.push([p.step, p.totalSteps, p.previews.length]),
    }));
    assert.deepEqual(seen, [[1, 3, 2], [2, 3, 2], [3, 3, 2]]);
    // Step 1 of image 0: x = [0.2, 0.22] (seed 1 · σ 2); x̂₀ = x − ε, or x_{t−1} = x − 0.1ε + next draw (0.1 + 0.02).
    const eps = scheduler.modelOutputs[0];
    const f = Math.fround;
    const expected = withPred ? [f(0.2) - eps[0], f(0.22) - eps[1]]
      : [f(0.2) - 0.1 * eps[0] + f(0.12), f(0.22) - 0.1 * eps[1] + f(0.13)];
    assert.deepEqual(Array.from(previewed[0].subarray(0, 2)), expected.map(f));
  }
});

test('img2img timesteps start where diffusers get_timesteps starts', () => {
  const ts = Array.from({ length: 10 }, (_, i) => 900 - 100 * i);
  assert.deepEqual(img2imgTimesteps(ts, 10, 0.75, 1), ts.slice(3));   // int(7.5) = 7 steps
  assert.deepEqual(img2imgTimesteps(ts, 10, 0.7, 1), ts.slice(3));    // 10 · 0.7 = 7.000000000000001 → 7
  assert.deepEqual(img2imgTimesteps(ts, 10, 0.29, 1), ts.slice(8));   // int(2.9) = 2
  assert.deepEqual(img2imgTimesteps(ts, 10, 1, 1), ts);
  assert.deepEqual(img2imgTimesteps(ts, 10, 0, 1), []);
  const heun = [999, 888, 888, 777, 777, 666, 666];                   // order 2, 4 steps
  assert.deepEqual(img2imgTimesteps(heun, 4, 0.5, 2), heun.slice(4));
});

test('img2img: encodes the init image once, adds each image its own seed noise at the first timestep, runs the tail', async () => {
  const model = new FakeModel();
  const scheduler = new RecordingScheduler();
  const initImage = new Float32Array(3 * 8 * 8).fill(0.5);
  initImage.fill(-0.25, 64, 128);
  await runPipeline(baseInput(model, scheduler, { steps: 10, strength: 0.3, initImage, seeds: [5, 6] }));
  assert.deepEqual(model.calls.filter((c) => !c.startsWith('unet')), ['text 2', 'encode 1x3x8x8', 'decode 2x2x1x1']);
  assert.deepEqual(model.calls.filter((c) => c.startsWith('unet')).map((c) => c.split(' ')[2]), ['t=200', 't=100', 't=0']);
  assert.equal(scheduler.added.length, 1);
  assert.equal(scheduler.added[0].t, 200);
  assert.deepEqual(Array.from(scheduler.added[0].original), [0.5, -0.25, 0.5, -0.25]);
  assert.deepEqual(Array.from(scheduler.added[0].noise), [0.5, 0.51, 0.6, 0.61].map(Math.fround));
});

test('img2img with strength 0 decodes the encoded init image without any denoising step', async () => {
  const model = new FakeModel();
  const initImage = new Float32Array(3 * 8 * 8).fill(0.25);
  const out = await runPipeline(baseInput(model, new RecordingScheduler(), { steps: 10, strength: 0, initImage }));
  assert.deepEqual(model.calls, ['text 2', 'encode 1x3x8x8', 'decode 1x2x1x1']);
  assert.deepEqual(out.timesteps, []);
  assert.equal(out.images[0], Math.fround(Math.tanh(0.25)));
});

// ---- Real schedulers through the pipeline -------------------------------------------------------------------

const SD15_SCHEDULER = {
  _class_name: 'PNDMScheduler', beta_end: 0.012, beta_schedule: 'scaled_linear', beta_start: 0.00085, clip_sample: false,
  num_train_timesteps: 1000, set_alpha_to_one: false, skip_prk_steps: true, steps_offset: 1, trained_betas: null,
};

/** SD 1.5's ᾱ_t (scaled_linear betas) and log σ_t = log √((1 − ᾱ)/ᾱ), in double. */
const LOG_SIGMAS = (() => {
  const out = new Float64Array(1000);
  let alphaBar = 1;
  for (let t = 0; t < 1000; t++) {
    const sqrtBeta = Math.sqrt(0.00085) + (t / 999) * (Math.sqrt(0.012) - Math.sqrt(0.00085));
    alphaBar *= 1 - sqrtBeta * sqrtBeta;
    out[t] = 0.5 * Math.log((1 - alphaBar) / alphaBar);
  }
  return out;
})();

/**
 * The exact denoiser for data that is all zeros: the UNet input is √ᾱ_t·x_t = √(1 − ᾱ_t)·ε (sigma samplers scale
 * x = σε by 1/√(σ²+1); DDPM-style ones pass x_t as it is), so ε = input / √(1 − ᾱ_t). Fractional timesteps
 * (Karras) interpolate log σ as diffusers' _sigma_to_t does.
 */
class ZeroDataModel extends FakeModel {
  override async predictNoise(sample: Float32Array, dims: number[], t: number): Promise<Float32Array> {
    this.calls.push(`unet ${dims.join('x')} t=${t}`);
    const lo = Math.floor(t);
    const hi = Math.min(lo + 1, 999);
    const logSigma = LOG_SIGMAS[lo] + (t - lo) * (LOG_SIGMAS[hi] - LOG_SIGMAS[lo]);
    const sigma2 = Math.exp(2 * logSigma);
    const sqrtOneMinusAlphaBar = Math.sqrt(sigma2 / (sigma2 + 1));
    return sample.map((x) => x / sqrtOneMinusAlphaBar);
  }
}

const SAMPLER_IDS = ['euler', 'euler_a', 'heun', 'lms', 'dpmpp_2m', 'dpmpp_2m_karras', 'ddim', 'plms', 'ddpm', 'lcm', 'unipc'];

/** Records every prevSample (and predOriginalSample, where given) a scheduler returns. */
function recording(inner: Scheduler, log: Float32Array[], predicted: Float32Array[] = []): Scheduler {
  return {
    order: inner.order, initNoiseSigma: inner.initNoiseSigma,
    get timesteps() { return inner.timesteps; },
    setTimesteps: (n) => inner.setTimesteps(n),
    scaleModelInput: (x, t) => inner.scaleModelInput(x, t),
    addNoise: (x, n, t) => inner.addNoise(x, n, t),
    step: (eps, t, x, opts) => {
      const r = inner.step(eps, t, x, opts);
      log.push(r.prevSample.slice());
      if (r.predOriginalSample) predicted.push(r.predOriginalSample.slice());
      return r;
    },
  };
}

test('every sampler runs through the pipeline and denoises to the data with an exact denoiser', async () => {
  const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const results: Record<string, string> = {};
  for (const id of SAMPLER_IDS) {
    const predicted: Float32Array[] = [];
    const scheduler = recording(createScheduler(id, SD15_SCHEDULER), [], predicted);
    let steps = 0;
    const out = await runPipeline(baseInput(new ZeroDataModel(), scheduler, {
      steps: 6, seeds: [1, 2], width: 32, height: 16, cfgScale: 1,
      createRng: (seed) => new TorchGenerator(seed),
      onStep: () => steps++,
    }));
    // x̂₀ of every step is the data (0) up to float32 rounding and, for Karras timesteps rounded to integers, the
    // σ(t) mismatch; all-zero data decodes to tanh(0) = 0, DDIM/PLMS ending at √(1 − ᾱ_0)·ε ≈ 0.03ε.
    const worstPredicted = Math.max(0, ...predicted.map(maxAbs));
    const ok = maxAbs(out.images) < 0.2 && worstPredicted < (id === 'dpmpp_2m_karras' ? 0.01 : 1e-4);
    results[id] = `${steps} steps, ${ok ? 'denoised' : `NOT denoised (image ${maxAbs(out.images)}, x̂₀ ${worstPredicted})`}`;
  }
  // Heun makes 2N − 1 model calls, PLMS N + 1 (diffusers' skip_prk_steps schedule).
  assert.deepEqual(results, Object.fromEntries(SAMPLER_IDS.map((id) => [id, `${id === 'heun' ? 11 : id === 'plms' ? 7 : 6} steps, denoised`])));
});

test('image i of a batch equals seed + i alone at every step with the stochastic samplers, TorchGenerator and Philox', async () => {
  for (const id of ['euler_a', 'ddpm', 'lcm']) {
    for (const createRng of [(s: number) => new TorchGenerator(s), (s: number) => new PhiloxGenerator(s)]) {
      const run = async (seeds: number[]): Promise<Float32Array[]> => {
        const log: Float32Array[] = [];
        await runPipeline(baseInput(new ZeroDataModel(), recording(createScheduler(id, SD15_SCHEDULER), log), {
          steps: 5, seeds, width: 16, height: 16, createRng, cfgScale: 1,
        }));
        return log;
      };
      const batch = await run([77, 78]);
      const alone = await run([78]);
      assert.equal(batch.length, 5);
      assert.deepEqual(batch.map((x) => x.subarray(x.length / 2)), alone, id);
      assert.notDeepEqual(batch.map((x) => x.subarray(0, x.length / 2)), alone, id);
    }
  }
});
