/**
 * Which Stable Diffusion family a diffusers ONNX model folder holds, read from its configs alone (no ONNX
 * session): SD 1.x (cross-attention 768), SD 2.x (1024; v-prediction at 768 px, or epsilon at 512 px for
 * 2.x-base; pad token "!" = id 0; at other widths its OpenCLIP text encoder: GELU, pad "!"), SD-Turbo (SD 2.1 distilled: trailing timesteps, 1–4 steps, no CFG), LCM
 * (UNet `time_cond_proj_dim` → a `timestep_cond` input, LCMScheduler) and SDXL (text_encoder_2,
 * addition_embed_type "text_time", VAE scaling 0.13025). `recommendedSettings` gives each family's defaults
 * for the panel and the CLI.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { assertNever } from '../../common/assertNever';
import type { SamplerId } from '../schedulers/samplers';
import { parsePythonJson } from '../../common/pythonJson';

export type ModelFamily = 'sd1' | 'sd2' | 'sd-turbo' | 'lcm' | 'sdxl';

export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';

export interface FamilyInfo {
  readonly family: ModelFamily;
  readonly predictionType: PredictionType;
  /** Native image side in pixels (UNet sample_size × VAE scale). */
  readonly nativeSize: number;
  /** The UNet's cross-attention width (768 SD 1.x, 1024 SD 2.x, 2048 SDXL); null when no config says. */
  readonly crossAttentionDim: number | null;
  /** Distilled for a few steps without CFG (SD-Turbo, SDXL-Turbo). */
  readonly isDistilled: boolean;
  /** LCM UNets: the size of the guidance-scale embedding (`timestep_cond`). */
  readonly timeCondProjDim: number | null;
  /** The tokenizer's pad token ("!" = id 0 for SD 2.x, "<|endoftext|>" for SD 1.x) where the folder says. */
  readonly padToken: string | null;
  /** What gave the family away, one item per clue, for tooltips and logs. */
  readonly evidence: string[];
}

type Json = Record<string, unknown>;

function readJson(file: string): Json | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let v: unknown;
  try {
    v = parsePythonJson(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${file} should hold a JSON object`);
  return v as Json;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** cross_attention_dim is a number, or one per block (all equal in SD). */
function crossAttention(unet: Json | undefined): number | null {
  const v = unet?.cross_attention_dim;
  if (Array.isArray(v)) return num(v[0]);
  return num(v);
}

function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as Json).content === 'string') return (v as Json).content as string;
  return null;
}

/** Names the folder goes by: its last path segments, and the repo its manifest.json or configs name. */
function namesOf(dir: string, configs: ReadonlyArray<Json | undefined>): string[] {
  const segments = resolve(dir).split(sep).slice(-4);
  const manifest = readJson(join(dir, 'manifest.json'));
  const names = [...segments, str(manifest?.repo) ?? ''];
  for (const c of configs) names.push(str(c?._name_or_path) ?? '');
  return names.filter((n) => n !== '');
}

/** Reads the configs of the model folder `dir` and tells its family. Throws only on unreadable JSON. */
export function detectModelFamily(dir: string): FamilyInfo {
  const index = readJson(join(dir, 'model_index.json'));
  const unet = readJson(join(dir, 'unet', 'config.json'));
  const sched = readJson(join(dir, 'scheduler', 'scheduler_config.json'));
  const text = readJson(join(dir, 'text_encoder', 'config.json'));
  const vae = ['vae_decoder', 'vae_encoder', 'vae'].map((d) => readJson(join(dir, d, 'config.json'))).find((c) => c !== undefined);
  const special = readJson(join(dir, 'tokenizer', 'special_tokens_map.json'));
  const tokCfg = readJson(join(dir, 'tokenizer', 'tokenizer_config.json'));
  const evidence: string[] = [];

  const pipelineClass = str(index?._class_name) ?? '';
  const schedulerClass = str(sched?._class_name) ?? '';
  const prediction = (str(sched?.prediction_type) ?? 'epsilon') as PredictionType;
  const spacing = str(sched?.timestep_spacing);
  const blocks = vae?.block_out_channels;
  const vaeScale = Array.isArray(blocks) && blocks.length > 0 ? 2 ** (blocks.length - 1) : 8;
  const sampleSize = num(unet?.sample_size);
  const padToken = tokenString(special?.pad_token) ?? tokenString(tokCfg?.pad_token);
  let xattn = crossAttention(unet);
  if (xattn === null && num(text?.hidden_size) !== null) {
    xattn = num(text?.hidden_size);
    evidence.push(`text_encoder hidden_size ${xattn}`);
  } else if (xattn !== null) {
    evidence.push(`UNet cross_attention_dim ${xattn}`);
  }
  const timeCond = num(unet?.time_cond_proj_dim);
  // SD 2.x's OpenCLIP-H text encoder, told by its layout where the width does not say (fine-tunes and exports of
  // other widths): GELU where OpenAI's CLIP-L uses quick_gelu, and the pad token "!" of its tokenizer.
  const openClip = text?.hidden_act === 'gelu' ? 'an OpenCLIP text encoder (hidden_act "gelu")'
    : padToken === '!' ? 'an OpenCLIP tokenizer (pad token "!")' : null;
  const names = namesOf(dir, [index, unet, sched, text]);
  const turboName = names.find((n) => /turbo/i.test(n));
  const isTrailing = spacing === 'trailing';

  const isXl = existsSync(join(dir, 'text_encoder_2')) || (index !== undefined && 'text_encoder_2' in index) ||
    unet?.addition_embed_type === 'text_time' || /XL/.test(pipelineClass) || num(vae?.scaling_factor) === 0.13025;
  let family: ModelFamily;
  if (isXl) {
    family = 'sdxl';
    if (existsSync(join(dir, 'text_encoder_2')) || (index !== undefined && 'text_encoder_2' in index)) evidence.push('a second text encoder (text_encoder_2)');
    if (unet?.addition_embed_type === 'text_time') evidence.push('UNet addition_embed_type "text_time"');
    if (num(vae?.scaling_factor) === 0.13025) evidence.push('VAE scaling_factor 0.13025');
    if (/XL/.test(pipelineClass)) evidence.push(`pipeline ${pipelineClass}`);
  } else if (timeCond !== null || schedulerClass === 'LCMScheduler') {
    family = 'lcm';
    if (timeCond !== null) evidence.push(`UNet time_cond_proj_dim ${timeCond} (a timestep_cond guidance embedding)`);
    if (schedulerClass === 'LCMScheduler') evidence.push('scheduler LCMScheduler');
  } else if (xattn === 1024 || (xattn !== 768 && openClip !== null)) {
    family = turboName !== undefined || (isTrailing && prediction === 'epsilon') ? 'sd-turbo' : 'sd2';
    if (xattn !== 1024 && openClip !== null) evidence.push(openClip);
    if (family === 'sd-turbo') evidence.push(turboName !== undefined ? `named "${turboName}"` : 'trailing timestep spacing with epsilon prediction');
    evidence.push(prediction === 'v_prediction' ? 'v-prediction' : `${prediction} prediction`);
  } else {
    family = 'sd1';
    if (xattn === null) evidence.push('no UNet or text encoder config: taken as SD 1.x');
  }
  if (padToken !== null && family !== 'sd1') evidence.push(`pad token ${JSON.stringify(padToken)}`);

  const isDistilled = family === 'sd-turbo' || (family === 'sdxl' && (turboName !== undefined || isTrailing));
  if (family === 'sdxl' && isDistilled) evidence.push(turboName !== undefined ? `named "${turboName}"` : 'trailing timestep spacing');
  const defaultSide = family === 'sdxl' ? 128 : family === 'sd2' && prediction === 'v_prediction' ? 96 : 64;
  const nativeSize = (sampleSize ?? defaultSide) * vaeScale;
  if (sampleSize === null) evidence.push(`no UNet sample_size: ${nativeSize} px assumed`);
  return { family, predictionType: prediction, nativeSize, crossAttentionDim: xattn, isDistilled, timeCondProjDim: timeCond, padToken, evidence };
}

/** How a family uses guidance: classifier-free (two UNet passes), none (distilled), or embedded (LCM's w input). */
export type GuidanceMode = 'cfg' | 'none' | 'embedded';

export interface RecommendedSettings {
  readonly sampler: SamplerId;
  readonly steps: number;
  /** For 'cfg' the CFG scale; for 'embedded' the guidance scale fed to the UNet; 0 for 'none'. */
  readonly cfgScale: number;
  readonly guidance: GuidanceMode;
  readonly width: number;
  readonly height: number;
  /** scheduler_config.json keys to set over the model's own (snake_case), e.g. trailing spacing for Turbo. */
  readonly schedulerOverrides: Readonly<Record<string, unknown>>;
  /** The steps range that makes sense, for the panel's hint. */
  readonly stepsRange: readonly [number, number];
  /** One line for the UI. */
  readonly note: string;
}

/** The defaults the panel and the CLI offer for a model of `family` (a FamilyInfo refines size and distillation). */
export function recommendedSettings(family: ModelFamily | FamilyInfo): RecommendedSettings {
  const info = typeof family === 'string' ? undefined : family;
  const f = typeof family === 'string' ? family : family.family;
  const side = (fallback: number): number => info?.nativeSize ?? fallback;
  switch (f) {
    case 'sd1':
      return { sampler: 'euler_a', steps: 25, cfgScale: 7.5, guidance: 'cfg', width: side(512), height: side(512), schedulerOverrides: {}, stepsRange: [15, 50], note: 'SD 1.x: 20–30 steps at CFG 7–8, 512×512' };
    case 'sd2': {
      const v = (info?.predictionType ?? 'v_prediction') === 'v_prediction';
      const s = side(v ? 768 : 512);
      return {
        sampler: 'euler_a', steps: 25, cfgScale: 7.5, guidance: 'cfg', width: s, height: s, schedulerOverrides: {}, stepsRange: [15, 50],
        note: v ? `SD 2.x (v-prediction): 20–30 steps at CFG 7–8, ${s}×${s}` : `SD 2.x base (epsilon): 20–30 steps at CFG 7–8, ${s}×${s}`,
      };
    }
    case 'sd-turbo':
      return { sampler: 'euler', steps: 1, cfgScale: 0, guidance: 'none', width: side(512), height: side(512), schedulerOverrides: { timestep_spacing: 'trailing' }, stepsRange: [1, 4], note: 'SD-Turbo: 1–4 steps without CFG, trailing timesteps, 512×512' };
    case 'lcm':
      return { sampler: 'lcm', steps: 4, cfgScale: 8, guidance: 'embedded', width: side(512), height: side(512), schedulerOverrides: {}, stepsRange: [2, 8], note: 'LCM: 4–8 steps with the LCM scheduler; the guidance scale is embedded, one UNet pass per step' };
    case 'sdxl':
      return info?.isDistilled === true
        ? { sampler: 'euler_a', steps: 1, cfgScale: 0, guidance: 'none', width: 512, height: 512, schedulerOverrides: { timestep_spacing: 'trailing' }, stepsRange: [1, 4], note: 'SDXL-Turbo: 1–4 steps without CFG, trailing timesteps, 512×512' }
        : { sampler: 'euler', steps: 30, cfgScale: 7, guidance: 'cfg', width: side(1024), height: side(1024), schedulerOverrides: {}, stepsRange: [20, 50], note: 'SDXL: 25–40 steps at CFG 5–8, 1024×1024' };
    default:
      return assertNever(f, 'model family');
  }
}
