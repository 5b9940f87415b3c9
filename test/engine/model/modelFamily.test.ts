import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { detectModelFamily, type FamilyInfo, recommendedSettings } from '../../../src/engine/model/modelFamily';
import { buildTinyModel, SD15_SCHEDULER_CONFIG } from '../../fixtures/tinyModel';

let root: string;
before(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), 'modelFamily-')); });
after(() => fs.rmSync(root, { recursive: true, force: true }));

const BETAS = { beta_end: 0.012, beta_schedule: 'scaled_linear', beta_start: 0.00085, num_train_timesteps: 1000, steps_offset: 1, clip_sample: false, set_alpha_to_one: false };
/** stabilityai/sd-turbo scheduler/scheduler_config.json (Hub, commit b335f73). */
const SD_TURBO_SCHEDULER = {
  _class_name: 'EulerDiscreteScheduler', ...BETAS, interpolation_type: 'linear', prediction_type: 'epsilon', sample_max_value: 1.0,
  sigma_max: null, sigma_min: null, skip_prk_steps: true, timestep_spacing: 'trailing', timestep_type: 'discrete', trained_betas: null, use_karras_sigmas: false,
};
/** stabilityai/sdxl-turbo scheduler/scheduler_config.json (Hub). */
const SDXL_TURBO_SCHEDULER = { ...SD_TURBO_SCHEDULER, _class_name: 'EulerAncestralDiscreteScheduler' };
const SD21_SCHEDULER = { _class_name: 'DDIMScheduler', ...BETAS, prediction_type: 'v_prediction', skip_prk_steps: true, trained_betas: null };
const SD21_BASE_SCHEDULER = { _class_name: 'PNDMScheduler', ...BETAS, prediction_type: 'epsilon', skip_prk_steps: true, trained_betas: null };
const LCM_SCHEDULER = { _class_name: 'LCMScheduler', ...BETAS, original_inference_steps: 50, prediction_type: 'epsilon', timestep_spacing: 'leading' };
const VAE = { latent_channels: 4, block_out_channels: [128, 256, 512, 512], scaling_factor: 0.18215 };
const SD2_PAD = { bos_token: '<|startoftext|>', eos_token: '<|endoftext|>', pad_token: '!', unk_token: '<|endoftext|>' };

/** A config-only model folder (no weights): name → { relative path: JSON }. */
function folder(name: string, files: Record<string, unknown>): string {
  const dir = path.join(root, name);
  for (const [rel, value] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), JSON.stringify(value));
  }
  return dir;
}

const summary = (f: FamilyInfo): unknown[] => [f.family, f.predictionType, f.nativeSize, f.crossAttentionDim, f.isDistilled, f.timeCondProjDim, f.padToken];

test('SD 1.5: cross-attention 768, epsilon, 512 px', () => {
  const dir = folder('sd15', {
    'model_index.json': { _class_name: 'OnnxStableDiffusionPipeline' }, 'unet/config.json': { cross_attention_dim: 768, sample_size: 64, in_channels: 4 },
    'scheduler/scheduler_config.json': SD15_SCHEDULER_CONFIG, 'vae_decoder/config.json': VAE,
  });
  const f = detectModelFamily(dir);
  assert.deepEqual(summary(f), ['sd1', 'epsilon', 512, 768, false, null, null]);
  assert.deepEqual(f.evidence, ['UNet cross_attention_dim 768']);
});

test('SD 2.1: cross-attention 1024, v-prediction, 768 px, pad token "!"', () => {
  const dir = folder('sd21', {
    'model_index.json': {}, 'unet/config.json': { cross_attention_dim: 1024, sample_size: 96 }, 'scheduler/scheduler_config.json': SD21_SCHEDULER,
    'vae_decoder/config.json': VAE, 'tokenizer/special_tokens_map.json': SD2_PAD,
  });
  const f = detectModelFamily(dir);
  assert.deepEqual(summary(f), ['sd2', 'v_prediction', 768, 1024, false, null, '!']);
  assert.deepEqual(f.evidence, ['UNet cross_attention_dim 1024', 'v-prediction', 'pad token "!"']);
});

test('SD 2.x at another width (a tiny or pruned export): told by its OpenCLIP text encoder, GELU or pad "!"; CLIP-L stays SD 1.x', () => {
  const byAct = folder('sd2-narrow', {
    'unet/config.json': { cross_attention_dim: 8, sample_size: 8 }, 'text_encoder/config.json': { hidden_size: 8, hidden_act: 'gelu' },
    'scheduler/scheduler_config.json': SD21_SCHEDULER, 'vae_decoder/config.json': VAE,
  });
  const f = detectModelFamily(byAct);
  assert.deepEqual(summary(f), ['sd2', 'v_prediction', 64, 8, false, null, null]);
  assert.deepEqual(f.evidence, ['UNet cross_attention_dim 8', 'an OpenCLIP text encoder (hidden_act "gelu")', 'v-prediction']);
  const byPad = folder('sd2-legacy-onnx', { 'tokenizer/special_tokens_map.json': SD2_PAD, 'scheduler/scheduler_config.json': SD21_SCHEDULER });
  assert.equal(detectModelFamily(byPad).family, 'sd2');
  const clipL = folder('sd1-narrow', {
    'unet/config.json': { cross_attention_dim: 8 }, 'text_encoder/config.json': { hidden_size: 8, hidden_act: 'quick_gelu' },
    'scheduler/scheduler_config.json': SD15_SCHEDULER_CONFIG,
  });
  assert.equal(detectModelFamily(clipL).family, 'sd1');
  // Width 768 is CLIP-L's: SD 1.x whatever else the folder says.
  const wide = folder('sd1-gelu', { 'unet/config.json': { cross_attention_dim: 768 }, 'tokenizer/special_tokens_map.json': SD2_PAD });
  assert.equal(detectModelFamily(wide).family, 'sd1');
});

test('SD 2.1-base: 1024 with epsilon at 512 px is SD 2.x, not Turbo', () => {
  const dir = folder('sd21-base', {
    'unet/config.json': { cross_attention_dim: 1024, sample_size: 64 }, 'scheduler/scheduler_config.json': SD21_BASE_SCHEDULER,
    'tokenizer/tokenizer_config.json': { pad_token: { content: '!', lstrip: false } },
  });
  assert.deepEqual(summary(detectModelFamily(dir)), ['sd2', 'epsilon', 512, 1024, false, null, '!']);
});

test('SD-Turbo: SD 2.x width with trailing spacing; a "turbo" name says it too', () => {
  const byConfig = folder('converted', {
    'unet/config.json': { cross_attention_dim: [1024, 1024, 1024, 1024], sample_size: 64 }, 'scheduler/scheduler_config.json': SD_TURBO_SCHEDULER,
  });
  assert.deepEqual(summary(detectModelFamily(byConfig)), ['sd-turbo', 'epsilon', 512, 1024, true, null, null]);
  assert.match(detectModelFamily(byConfig).evidence.join('; '), /trailing timestep spacing with epsilon prediction/);
  // A conversion that kept a leading-spacing scheduler but whose folder (or HF cache entry) is named for Turbo.
  const byName = folder('models--schmuell--sd-turbo-ort-web/snapshots/0123', {
    'text_encoder/config.json': { hidden_size: 1024 }, 'scheduler/scheduler_config.json': SD21_BASE_SCHEDULER,
  });
  const f = detectModelFamily(byName);
  assert.deepEqual(summary(f), ['sd-turbo', 'epsilon', 512, 1024, true, null, null]);
  assert.deepEqual(f.evidence, ['text_encoder hidden_size 1024', 'named "models--schmuell--sd-turbo-ort-web"', 'epsilon prediction', 'no UNet sample_size: 512 px assumed']);
});

test('LCM: the UNet\'s time_cond_proj_dim (timestep_cond input) or the LCM scheduler', () => {
  const dir = folder('lcm', {
    'unet/config.json': { cross_attention_dim: 768, sample_size: 96, time_cond_proj_dim: 256 }, 'scheduler/scheduler_config.json': LCM_SCHEDULER,
  });
  const f = detectModelFamily(dir);
  assert.deepEqual(summary(f), ['lcm', 'epsilon', 768, 768, false, 256, null]);
  assert.deepEqual(f.evidence, ['UNet cross_attention_dim 768', 'UNet time_cond_proj_dim 256 (a timestep_cond guidance embedding)', 'scheduler LCMScheduler']);
  const lora = folder('lcm-lora-merged', { 'unet/config.json': { cross_attention_dim: 768 }, 'scheduler/scheduler_config.json': LCM_SCHEDULER });
  assert.equal(detectModelFamily(lora).family, 'lcm');
});

test('SDXL: text_encoder_2, text_time embeddings, VAE scaling 0.13025, 1024 px; SDXL-Turbo is distilled', () => {
  const xl = {
    'model_index.json': { _class_name: 'ORTStableDiffusionXLPipeline', text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'] },
    'unet/config.json': { cross_attention_dim: 2048, sample_size: 128, addition_embed_type: 'text_time' },
    'vae_decoder/config.json': { ...VAE, scaling_factor: 0.13025 }, 'text_encoder_2/config.json': { hidden_size: 1280 },
    'scheduler/scheduler_config.json': { _class_name: 'EulerDiscreteScheduler', ...BETAS, timestep_spacing: 'leading' },
  };
  const f = detectModelFamily(folder('sdxl', xl));
  assert.deepEqual(summary(f), ['sdxl', 'epsilon', 1024, 2048, false, null, null]);
  assert.deepEqual(f.evidence, ['UNet cross_attention_dim 2048', 'a second text encoder (text_encoder_2)', 'UNet addition_embed_type "text_time"',
    'VAE scaling_factor 0.13025', 'pipeline ORTStableDiffusionXLPipeline']);
  const turbo = detectModelFamily(folder('sdxl-t', { ...xl, 'unet/config.json': { cross_attention_dim: 2048, sample_size: 64, addition_embed_type: 'text_time' }, 'scheduler/scheduler_config.json': SDXL_TURBO_SCHEDULER }));
  assert.deepEqual(summary(turbo), ['sdxl', 'epsilon', 512, 2048, true, null, null]);
});

test('a folder without configs is taken as SD 1.x and says so; broken JSON is an error naming the file', () => {
  const f = detectModelFamily(folder('bare', { 'model_index.json': {} }));
  assert.deepEqual(summary(f), ['sd1', 'epsilon', 512, null, false, null, null]);
  assert.deepEqual(f.evidence, ['no UNet or text encoder config: taken as SD 1.x', 'no UNet sample_size: 512 px assumed']);
  const broken = folder('broken', {});
  fs.mkdirSync(path.join(broken, 'unet'), { recursive: true });
  fs.writeFileSync(path.join(broken, 'unet', 'config.json'), '{ nope');
  assert.throws(() => detectModelFamily(broken), new RegExp(`${path.join(broken, 'unet', 'config.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid JSON`));
});

test('the tiny ONNX model (buildTinyModel) reads as SD 1.x at 64 px', () => {
  const dir = buildTinyModel(path.join(root, 'tiny'), { vaeEncoder: 'none' });
  assert.deepEqual(summary(detectModelFamily(dir)), ['sd1', 'epsilon', 64, 16, false, null, '<|endoftext|>']);
});

test('recommended settings per family', () => {
  const pick = (r: ReturnType<typeof recommendedSettings>): unknown[] => [r.sampler, r.steps, r.cfgScale, r.guidance, r.width, r.height, r.schedulerOverrides, r.stepsRange];
  assert.deepEqual(pick(recommendedSettings('sd1')), ['euler_a', 25, 7.5, 'cfg', 512, 512, {}, [15, 50]]);
  assert.deepEqual(pick(recommendedSettings('sd2')), ['euler_a', 25, 7.5, 'cfg', 768, 768, {}, [15, 50]]);
  assert.deepEqual(pick(recommendedSettings('sd-turbo')), ['euler', 1, 0, 'none', 512, 512, { timestep_spacing: 'trailing' }, [1, 4]]);
  assert.deepEqual(pick(recommendedSettings('lcm')), ['lcm', 4, 8, 'embedded', 512, 512, {}, [2, 8]]);
  assert.deepEqual(pick(recommendedSettings('sdxl')), ['euler', 30, 7, 'cfg', 1024, 1024, {}, [20, 50]]);
  // A FamilyInfo refines: SD 2.x-base is 512 px, SDXL-Turbo is distilled.
  const base = detectModelFamily(folder('sd21-base-2', { 'unet/config.json': { cross_attention_dim: 1024, sample_size: 64 }, 'scheduler/scheduler_config.json': SD21_BASE_SCHEDULER }));
  assert.deepEqual(pick(recommendedSettings(base)), ['euler_a', 25, 7.5, 'cfg', 512, 512, {}, [15, 50]]);
  assert.match(recommendedSettings(base).note, /SD 2\.x base \(epsilon\)/);
  const xlTurbo: FamilyInfo = { family: 'sdxl', predictionType: 'epsilon', nativeSize: 512, crossAttentionDim: 2048, isDistilled: true, timeCondProjDim: null, padToken: null, evidence: [] };
  assert.deepEqual(pick(recommendedSettings(xlTurbo)), ['euler_a', 1, 0, 'none', 512, 512, { timestep_spacing: 'trailing' }, [1, 4]]);
});
