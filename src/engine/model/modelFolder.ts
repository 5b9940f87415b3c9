/**
 * Reads and validates a model folder in diffusers / Optimum ONNX layout (REFERENCE.md "Diffusers / Optimum ONNX
 * layout") into a ModelInfo, without loading ONNX Runtime. Every error is a ModelError naming the file.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ModelError } from './modelError';
import type { ModelInfo, XlInfo } from './modelTypes';
import { isDir, isFile } from './fileChecks';
import { SDXL_LATENT_RGB } from '../image';
import { checkConfigBounds } from '../../common/configBounds';
import { detectModelFamily, recommendedSettings } from './modelFamily';
import { modelSchedulerSetup } from './modelScheduler';
import { JsonSyntaxError, parsePythonJson } from '../../common/pythonJson';

export { modelHash } from './modelHash';

/** SD 1.x latent→RGB preview factors (REFERENCE.md "Previews"): rows = latent channels, columns = R,G,B. */
export const SD1_PREVIEW_FACTORS: readonly (readonly number[])[] = [
  [0.3512, 0.2297, 0.3227],
  [0.3250, 0.4974, 0.2350],
  [-0.2829, 0.1762, 0.2721],
  [-0.2120, -0.2616, -0.7177],
];

export const DEFAULT_SCALING_FACTOR = 0.18215;
export const DEFAULT_SAMPLE_SIZE = 64;
export const DEFAULT_LATENT_CHANNELS = 4;

type Json = Record<string, unknown>;

/** The ONNX files of a model folder, relative to it. */
export const COMPONENT_FILES = {
  textEncoder: 'text_encoder/model.onnx',
  unet: 'unet/model.onnx',
  vaeDecoder: 'vae_decoder/model.onnx',
  vaeEncoder: 'vae_encoder/model.onnx',
  /** SDXL only. */
  textEncoder2: 'text_encoder_2/model.onnx',
} as const;



/** Reads a JSON object file as Python's json does (diffusers wrote it); undefined when absent and not required. */
function readJson(file: string, required: boolean): Json | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelError('missing-file', file, `Missing ${file}: ${(e as Error).message}`, { cause: e });
  }
  let value: unknown;
  try {
    value = parsePythonJson(text);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    throw new ModelError('invalid-config', file, `${file} is not valid JSON: ${e.message}`, { cause: e });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ModelError('invalid-config', file, `${file} should hold a JSON object, found ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return value as Json;
}

function readNumber(cfg: Json | undefined, key: string, fallback: number, file: string, isValid: (n: number) => boolean): number {
  const v = cfg?.[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !isValid(v)) {
    throw new ModelError('invalid-config', file, `${file}: "${key}" should be a valid number, found ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Checks that `file` exists and starts like an ONNX ModelProto (a protobuf field of ModelProto: ir_version,
 * producer_name/version, domain, model_version, doc_string, graph or opset_import).
 */
export function checkOnnxFile(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new ModelError('missing-file', file, `Missing ${file}: the model folder needs this ONNX file`, { cause: e });
  }
  try {
    const head = Buffer.alloc(64);
    const n = readSync(fd, head, 0, head.length, 0);
    if (n === 0) throw new ModelError('invalid-onnx', file, `${file} is empty (0 bytes): expected an ONNX model`);
    const first = head[0];
    const looksLikeModelProto = [0x08, 0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72].includes(first);
    const asText = head.subarray(0, n).toString('latin1');
    if (!looksLikeModelProto || /^\s*[<{]|^version https:\/\/git-lfs/.test(asText)) {
      const hint = asText.startsWith('version https://git-lfs')
        ? ' (it is a Git LFS pointer: the real file was never downloaded)'
        : /^\s*[<{]/.test(asText) ? ' (it looks like text: HTML or JSON, perhaps an error page)' : '';
      throw new ModelError('invalid-onnx', file, `${file} is not an ONNX model${hint}`);
    }
  } finally {
    closeSync(fd);
  }
}

/** A config value too large to be real (CONFIG_BOUNDS) as a ModelError naming the file. */
function checkBounds(config: Readonly<Record<string, unknown>>, file: string): void {
  try {
    checkConfigBounds(config, file);
  } catch (err) {
    throw new ModelError('invalid-config', file, (err as Error).message);
  }
}

function fail(kind: 'not-a-model' | 'unsupported' | 'missing-file', file: string, message: string): never {
  throw new ModelError(kind, file, message);
}

/**
 * Rejects folders that are not (yet) supported models, naming what gives them away, and reads what an SDXL folder
 * adds (text_encoder_2/, tokenizer_2/). SDXL's refiner (text_encoder_2 only, aesthetic-score time ids) is refused.
 */
function checkSupported(dir: string, index: Json, indexFile: string): XlInfo | undefined {
  const cls = typeof index._class_name === 'string' ? index._class_name : '';
  if (/Flux|StableDiffusion3|Transformer/.test(cls) || isDir(join(dir, 'transformer')) || 'transformer' in index) {
    fail('unsupported', indexFile, `${dir} is a ${cls || 'transformer-based'} model (a diffusion transformer, no UNet): only Stable Diffusion 1.x / 2.x / XL UNet models are supported`);
  }
  const component = (key: string): string | null => {
    const v = index[key];
    return Array.isArray(v) && typeof v[1] === 'string' ? `${v[1]} (${String(v[0])})` : null;
  };
  const unet = component('unet');
  if (/Video|Hotshot|AnimateDiff|I2VGen|Motion/i.test(cls) || (unet !== null && /3D|Motion/.test(unet))) {
    fail('unsupported', indexFile, `${dir} is a ${cls} video model${unet === null ? '' : ` (unet: ${unet})`}: only Stable Diffusion 1.x / 2.x / XL image models are supported`);
  }
  if (unet === null && Object.keys(index).some((k) => k.startsWith('unet_'))) {
    fail('unsupported', indexFile, `${dir} is a ${cls} model, a custom pipeline (its UNets: ${Object.keys(index).filter((k) => k.startsWith('unet_')).join(', ')}): only Stable Diffusion 1.x / 2.x / XL text-to-image pipelines are supported`);
  }
  const textEncoder = component('text_encoder');
  if (textEncoder !== null && !/CLIP|Onnx|ORT/i.test(textEncoder)) {
    fail('unsupported', indexFile, `${dir}: its text encoder ${textEncoder} is not a CLIP text encoder: only Stable Diffusion 1.x / 2.x / XL models are supported`);
  }
  const xl = isDir(join(dir, 'text_encoder_2')) || 'text_encoder_2' in index || /XL/.test(cls);
  if (!xl) return undefined;
  // The refiner's model_index.json says requires_aesthetics_score and has text_encoder [null, null] (or none).
  const te = index.text_encoder;
  const noTextEncoder = te === undefined || te === null || (Array.isArray(te) && te[0] === null);
  const refiner = index.requires_aesthetics_score === true || (noTextEncoder && !isDir(join(dir, 'text_encoder')));
  if (refiner) {
    fail('unsupported', indexFile, `${dir} is a Stable Diffusion XL refiner (${indexFile}: ${index.requires_aesthetics_score === true
      ? 'requires_aesthetics_score' : 'no text_encoder'}): the refiner only refines SDXL base images (img2img with aesthetic-score `
      + 'conditioning), which is not supported; use an SDXL base or SDXL-Turbo model');
  }
  checkOnnxFile(join(dir, COMPONENT_FILES.textEncoder2));
  const tokenizer2Dir = join(dir, 'tokenizer_2');
  for (const f of ['vocab.json', 'merges.txt']) {
    const file = join(tokenizer2Dir, f);
    if (!isFile(file)) fail('missing-file', file, `Missing ${file}: SDXL's second tokenizer needs vocab.json and merges.txt`);
  }
  const force = index.force_zeros_for_empty_prompt;
  return { tokenizer2Dir, forceZerosForEmptyPrompt: typeof force === 'boolean' ? force : true };
}

function readPreview(dir: string, latentChannels: number, xl: boolean): ModelInfo['previewFactors'] {
  const file = join(dir, 'preview.json');
  const cfg = readJson(file, false);
  if (cfg === undefined) {
    if (latentChannels === 4 && xl) return { factors: SDXL_LATENT_RGB.factors.map((r) => [...r]), bias: [...SDXL_LATENT_RGB.bias] };
    if (latentChannels === 4) return { factors: SD1_PREVIEW_FACTORS.map((r) => [...r]), bias: [0, 0, 0] };
    // An unknown latent space: show the first three channels as grey-ish RGB.
    return { factors: Array.from({ length: latentChannels }, (_, c) => [0, 1, 2].map((k) => (k === c ? 0.5 : 0))), bias: [0, 0, 0] };
  }
  const isRow = (r: unknown): r is number[] =>
    Array.isArray(r) && r.length === 3 && r.every((x) => typeof x === 'number' && Number.isFinite(x));
  const factors = cfg.latent_rgb_factors;
  if (!Array.isArray(factors) || factors.length !== latentChannels || !factors.every(isRow)) {
    throw new ModelError('invalid-config', file,
      `${file}: "latent_rgb_factors" should be ${latentChannels} rows (one per latent channel) of 3 finite numbers [r, g, b], ` +
      `found ${JSON.stringify(factors)?.slice(0, 200)}`);
  }
  const bias = cfg.latent_rgb_bias ?? [0, 0, 0];
  if (!isRow(bias)) {
    throw new ModelError('invalid-config', file, `${file}: "latent_rgb_bias" should be 3 finite numbers [r, g, b], found ${JSON.stringify(bias)}`);
  }
  return { factors: factors.map((r) => [...r]), bias: [...bias] };
}

/** A model folder one or two levels down (an `onnx/` subfolder, a Hugging Face cache's snapshots/<rev>/). */
function findNestedModel(dir: string): string | undefined {
  const children = (d: string): string[] => {
    try {
      return readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(d, e.name));
    } catch {
      return [];
    }
  };
  for (const child of children(dir)) {
    if (isFile(join(child, 'model_index.json'))) return child;
    for (const grandchild of children(child)) if (isFile(join(grandchild, 'model_index.json'))) return grandchild;
  }
  return undefined;
}

/** Reads and validates the model folder `dir` (diffusers / Optimum ONNX layout). */
export async function readModelFolder(dir: string): Promise<ModelInfo> {
  const abs = resolve(dir);
  if (!isDir(abs)) {
    if (!existsSync(abs)) fail('missing-file', abs, `Model folder ${abs} does not exist`);
    fail('not-a-model', abs, `${abs} is a file, not a model folder: give the folder that holds model_index.json` +
      (abs.endsWith('.onnx') ? ` (perhaps ${dirname(dirname(abs))})` : ''));
  }
  const indexFile = join(abs, 'model_index.json');
  if (!isFile(indexFile)) {
    const hasAny = Object.values(COMPONENT_FILES).some((f) => isFile(join(abs, f)));
    if (hasAny) fail('missing-file', indexFile, `Missing ${indexFile}: the model folder needs it (diffusers layout)`);
    const nested = findNestedModel(abs);
    if (nested !== undefined) fail('not-a-model', abs, `${abs} is not a model folder itself, but ${nested} looks like one: use that`);
    const hasTorch = ['unet/diffusion_pytorch_model.safetensors', 'unet/diffusion_pytorch_model.bin']
      .some((f) => isFile(join(abs, f)));
    fail('not-a-model', abs, hasTorch
      ? `${abs} holds a PyTorch diffusers model, not an ONNX export: expected unet/model.onnx and model_index.json`
      : `${abs} is not a model folder: expected model_index.json, text_encoder/, unet/, vae_decoder/, tokenizer/ and scheduler/`);
  }
  const index = readJson(indexFile, true) as Json;
  const xl = checkSupported(abs, index, indexFile);

  for (const rel of [COMPONENT_FILES.textEncoder, COMPONENT_FILES.unet, COMPONENT_FILES.vaeDecoder]) {
    checkOnnxFile(join(abs, rel));
  }
  const vaeEncoderFile = join(abs, COMPONENT_FILES.vaeEncoder);
  const hasVaeEncoder = existsSync(vaeEncoderFile);
  if (hasVaeEncoder) checkOnnxFile(vaeEncoderFile);

  const tokenizerDir = join(abs, 'tokenizer');
  for (const f of ['vocab.json', 'merges.txt']) {
    const file = join(tokenizerDir, f);
    if (!isFile(file)) fail('missing-file', file, `Missing ${file}: the CLIP tokenizer needs vocab.json and merges.txt`);
  }
  const schedulerFile = join(abs, 'scheduler', 'scheduler_config.json');
  const schedulerConfig = readJson(schedulerFile, true) as Json;
  checkBounds(schedulerConfig, schedulerFile);
  const pipelineClass = typeof index._class_name === 'string' ? index._class_name : 'OnnxStableDiffusionPipeline';
  const scheduler = modelSchedulerSetup(schedulerConfig, index, pipelineClass,
    () => recommendedSettings(detectModelFamily(abs)).sampler, schedulerFile);

  const unetCfgFile = join(abs, 'unet', 'config.json');
  const unetCfg = readJson(unetCfgFile, false);
  if (unetCfg) checkBounds(unetCfg, unetCfgFile);
  const positiveInt = (n: number): boolean => Number.isInteger(n) && n > 0;
  const unetInChannels = readNumber(unetCfg, 'in_channels', DEFAULT_LATENT_CHANNELS, unetCfgFile, positiveInt);
  // An inpainting UNet (SD 1.5 / 2 inpainting: in_channels 9) reads [latents (4); mask (1); masked-image latents (4)]
  // as diffusers' StableDiffusionInpaintPipeline feeds it; it needs the VAE encoder for the masked image.
  const inpainting = unetInChannels === 9;
  if (inpainting && !hasVaeEncoder) {
    fail('missing-file', vaeEncoderFile, `Missing ${vaeEncoderFile}: an inpainting UNet (in_channels 9) needs the VAE encoder for the masked image`);
  }
  const latentChannels = inpainting ? unetInChannels - 5 : unetInChannels;
  const sampleSize = readNumber(unetCfg, 'sample_size', DEFAULT_SAMPLE_SIZE, unetCfgFile, positiveInt);

  // Optimum writes config.json in vae_decoder/ (and vae_encoder/); diffusers' converter may leave only vae/.
  const vaeCfgFile = [join(abs, 'vae_decoder', 'config.json'), join(abs, 'vae_encoder', 'config.json'),
    join(abs, 'vae', 'config.json')].find(isFile) ?? join(abs, 'vae_decoder', 'config.json');
  const vaeCfg = readJson(vaeCfgFile, false);
  const scalingFactor = readNumber(vaeCfg, 'scaling_factor', DEFAULT_SCALING_FACTOR, vaeCfgFile, (n) => Number.isFinite(n) && n > 0);
  const blocks = vaeCfg?.block_out_channels;
  const vaeScaleFactor = Array.isArray(blocks) && blocks.length > 0 ? 2 ** (blocks.length - 1) : 8;
  const vaeSample = vaeCfg?.sample_size;
  const vaeSampleSize = typeof vaeSample === 'number' && Number.isInteger(vaeSample) && vaeSample >= vaeScaleFactor && vaeSample <= 16384
    ? vaeSample : undefined;

  return {
    dir: abs,
    name: basename(abs),
    pipelineClass,
    schedulerConfig,
    scheduler,
    latentChannels,
    ...(inpainting ? { inpainting: true } : {}),
    vaeScaleFactor,
    scalingFactor,
    sampleSize,
    ...(vaeSampleSize === undefined ? {} : { vaeSampleSize }),
    tokenizerDir,
    hasVaeEncoder,
    previewFactors: readPreview(abs, latentChannels, xl !== undefined),
    precision: 'fp32',
    ...(xl === undefined ? {} : { xl }),
  };
}
