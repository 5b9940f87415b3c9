/**
 * Validation of a GenerateRequest (issue 2, "Bad input"): everything arriving from the CLI or the host is `unknown`
 * until validateRequest accepts it. It runs before any model is loaded and reports every problem at once, each
 * naming the field, what was expected and what arrived.
 */
import type {
  EmphasisSetting, ExecutionProviderSetting, GenerateRequest, HiresRequest, InitResizeMode, InpaintArea, InpaintSettings, MaskedContent, MaskMode, RgbImage,
  RngSource, VaeDecodeSetting,
} from '../protocol/engineMessages';
import { HIRES_LIMITS, HIRES_UPSCALERS, hiresSize, isHiresUpscaler } from '../common/hires';
import { EngineError } from './model';
import type { ModelInfo } from './model';
import { allowedSamplerNames } from './schedulers/samplers';

export const LIMITS = {
  sizeMin: 64,
  sizeMax: 2048,
  sizeMultiple: 8,
  stepsMin: 1,
  stepsMax: 1000,
  cfgMax: 50,
  seedMax: 2 ** 32 - 1,
  promptMaxChars: 10_000,
  batchMax: 64,
  threadsMax: 256,
  initImageSideMax: 16_384,
  clipSkipMax: 12,
  maskBlurMax: 64,
  inpaintPaddingMax: 256,
} as const;

export const INPAINT_AREAS: readonly InpaintArea[] = ['whole', 'masked'];
export const MASK_MODES: readonly MaskMode[] = ['masked', 'unmasked'];
export const MASKED_CONTENTS: readonly MaskedContent[] = ['fill', 'original', 'latent-noise', 'latent-nothing'];

const RNG_SOURCES: readonly RngSource[] = ['cpu', 'nv'];
const EMPHASIS: readonly EmphasisSetting[] = ['original', 'no-norm', 'none'];
/** A1111's img2img resize modes, in its order (0 Just resize, 1 Crop and resize, 2 Resize and fill). */
export const RESIZE_MODES: readonly InitResizeMode[] = ['just', 'crop', 'fill'];
const VAE_DECODE: readonly VaeDecodeSetting[] = ['auto', 'full', 'tiled', 'fast'];
const EXECUTION_PROVIDERS: readonly ExecutionProviderSetting[] = ['auto', 'cpu', 'cuda', 'dml', 'coreml'];

/** Whether a sampler name is one the schedulers module resolves (trimmed, case-insensitive, as it compares). */
export function isKnownSampler(name: string): boolean {
  const key = name.trim().toLowerCase();
  return allowedSamplerNames().some((n) => n.toLowerCase() === key);
}

const FIELDS: ReadonlyArray<keyof GenerateRequest> = [
  'modelDir', 'prompt', 'negativePrompt', 'sampler', 'steps', 'cfgScale', 'seed', 'width', 'height', 'batchSize',
  'initImage', 'strength', 'resizeMode', 'inpaint', 'previews', 'rng', 'clipSkip', 'emphasis', 'oldPromptEditingTimelines', 'vaeDecode', 'executionProvider', 'threads',
  'loraDir', 'embeddingsDir',
  'variationSeed', 'variationStrength', 'seedResizeFrom', 'hires',
];

const HIRES_FIELDS: ReadonlyArray<keyof HiresRequest> = ['scale', 'steps', 'strength', 'upscaler'];

/** A short, safe description of what arrived, for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `${JSON.stringify(shown)}${value.length > 40 ? ` (${value.length} characters)` : ''}`;
  }
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  return `a ${typeof value}`;
}

type Problems = string[];

function checkInteger(problems: Problems, field: string, value: unknown, min: number, max: number, extra = ''): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`${field}: expected an integer in ${min}…${max}${extra}, got ${describeValue(value)}`);
    return min;
  }
  return value;
}

function checkNumber(problems: Problems, field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    problems.push(`${field}: expected a number in ${min}…${max}, got ${describeValue(value)}`);
    return min;
  }
  return value;
}

function checkString(problems: Problems, field: string, value: unknown, maxChars: number, nonEmpty = false, orElse = ''): string {
  if (typeof value !== 'string') {
    problems.push(`${field}: expected a string${orElse}, got ${describeValue(value)}`);
    return '';
  }
  if (value.length > maxChars) {
    problems.push(`${field}: expected at most ${maxChars} characters, got ${value.length} characters`);
  } else if (nonEmpty && value.trim() === '') {
    problems.push(`${field}: expected a non-empty string, got ${describeValue(value)}`);
  }
  return value;
}

function checkOneOf<T extends string>(problems: Problems, field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    problems.push(`${field}: expected one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${describeValue(value)}`);
    return allowed[0];
  }
  return value as T;
}

function checkSize(problems: Problems, field: string, value: unknown): number {
  const { sizeMin, sizeMax, sizeMultiple } = LIMITS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < sizeMin || value > sizeMax
      || value % sizeMultiple !== 0) {
    problems.push(`${field}: expected a multiple of ${sizeMultiple} in ${sizeMin}…${sizeMax}, got ${describeValue(value)}`);
    return sizeMin;
  }
  return value;
}

function checkSampler(problems: Problems, value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== 'string' || !isKnownSampler(value)) {
    problems.push(`sampler: expected null (the model's own scheduler) or one of ${allowedSamplerNames().join(', ')}; `
      + `got ${describeValue(value)}`);
    return null;
  }
  return value;
}

function checkInitImage(problems: Problems, value: unknown): RgbImage | null {
  if (value === null) return null;
  const expected = 'initImage: expected null or an RGB image {width, height, rgb: Uint8Array of width·height·3 bytes}';
  if (typeof value !== 'object' || value === undefined) {
    problems.push(`${expected}, got ${describeValue(value)}`);
    return null;
  }
  const { width, height, rgb } = value as Record<string, unknown>;
  const max = LIMITS.initImageSideMax;
  const sideOk = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= max;
  if (!sideOk(width) || !sideOk(height)) {
    problems.push(`${expected} with sides in 1…${max}, got width ${describeValue(width)}, height ${describeValue(height)}`);
    return null;
  }
  if (!(rgb instanceof Uint8Array)) {
    problems.push(`${expected}, got rgb ${describeValue(rgb)}`);
    return null;
  }
  if (rgb.length !== width * height * 3) {
    problems.push(`${expected}: ${width}×${height} needs ${width * height * 3} bytes, got ${rgb.length}`);
    return null;
  }
  return { width, height, rgb };
}

const INPAINT_FIELDS = ['mask', 'maskBlur', 'maskMode', 'maskedContent', 'inpaintArea', 'inpaintPadding'];

function checkInpaint(problems: Problems, value: unknown): InpaintSettings | null {
  if (value === null) return null;
  if (typeof value !== 'object' || value === undefined || Array.isArray(value)) {
    problems.push(`inpaint: expected null or {${INPAINT_FIELDS.join(', ')}}, got ${describeValue(value)}`);
    return null;
  }
  const r = value as Record<string, unknown>;
  for (const key of Object.keys(r)) if (!INPAINT_FIELDS.includes(key)) problems.push(`inpaint.${key}: unknown field (expected only ${INPAINT_FIELDS.join(', ')})`);
  const expected = 'inpaint.mask: expected a grayscale image {width, height, gray: Uint8Array of width·height bytes}';
  const m = r.mask as Record<string, unknown> | null | undefined;
  let mask: InpaintSettings['mask'] = { width: 1, height: 1, gray: new Uint8Array(1) };
  const max = LIMITS.initImageSideMax;
  const sideOk = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= max;
  if (typeof m !== 'object' || m === null) problems.push(`${expected}, got ${describeValue(m)}`);
  else if (!sideOk(m.width) || !sideOk(m.height)) problems.push(`${expected} with sides in 1…${max}, got width ${describeValue(m.width)}, height ${describeValue(m.height)}`);
  else if (!(m.gray instanceof Uint8Array)) problems.push(`${expected}, got gray ${describeValue(m.gray)}`);
  else if (m.gray.length !== m.width * m.height) problems.push(`${expected}: ${m.width}×${m.height} needs ${m.width * m.height} bytes, got ${m.gray.length}`);
  else mask = { width: m.width, height: m.height, gray: m.gray };
  return {
    mask,
    maskBlur: checkInteger(problems, 'inpaint.maskBlur', r.maskBlur, 0, LIMITS.maskBlurMax),
    maskMode: checkOneOf(problems, 'inpaint.maskMode', r.maskMode, MASK_MODES),
    maskedContent: checkOneOf(problems, 'inpaint.maskedContent', r.maskedContent, MASKED_CONTENTS),
    inpaintArea: checkOneOf(problems, 'inpaint.inpaintArea', r.inpaintArea, INPAINT_AREAS),
    inpaintPadding: checkInteger(problems, 'inpaint.inpaintPadding', r.inpaintPadding, 0, LIMITS.inpaintPaddingMax),
  };
}

function checkSeedResize(problems: Problems, value: unknown): { width: number; height: number } | undefined {
  const expected = `seedResizeFrom: expected {width, height}, integers in 0…${LIMITS.sizeMax} (0: not resized)`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${expected}, got ${describeValue(value)}`);
    return undefined;
  }
  const { width, height, ...rest } = value as Record<string, unknown>;
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= LIMITS.sizeMax;
  if (!ok(width) || !ok(height) || Object.keys(rest).length > 0) {
    problems.push(`${expected}, got width ${describeValue(width)}, height ${describeValue(height)}`
      + `${Object.keys(rest).length > 0 ? ` and ${Object.keys(rest).join(', ')}` : ''}`);
    return undefined;
  }
  return { width, height };
}

/** hires: null (none) or {scale, steps, strength, upscaler} (A1111's hires. fix); the size it reaches is checked too. */
function checkHires(problems: Problems, value: unknown): HiresRequest | null {
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`hires: expected null or {scale, steps, strength, upscaler}, got ${describeValue(value)}`);
    return null;
  }
  const h = value as Record<string, unknown>;
  for (const key of Object.keys(h)) {
    if (!(HIRES_FIELDS as readonly string[]).includes(key)) problems.push(`hires.${key}: unknown field (expected only ${HIRES_FIELDS.join(', ')})`);
  }
  const before = problems.length;
  const { scale, strength } = h;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 1 || scale > HIRES_LIMITS.scaleMax) {
    problems.push(`hires.scale: expected a number above 1 and at most ${HIRES_LIMITS.scaleMax}, got ${describeValue(scale)}`);
  }
  const steps = checkInteger(problems, 'hires.steps', h.steps, 0, HIRES_LIMITS.stepsMax, ' (0: the first pass\'s steps)');
  if (typeof strength !== 'number' || !Number.isFinite(strength) || strength <= 0 || strength > 1) {
    problems.push(`hires.strength: expected a denoising strength above 0 and at most 1, got ${describeValue(strength)}`);
  }
  if (!isHiresUpscaler(h.upscaler)) {
    problems.push(`hires.upscaler: expected one of ${HIRES_UPSCALERS.map((a) => `"${a}"`).join(', ')}, got ${describeValue(h.upscaler)}`);
  }
  if (problems.length > before) return null;
  return { scale: scale as number, steps, strength: strength as number, upscaler: h.upscaler as HiresRequest['upscaler'] };
}

/** What hires. fix cannot do with the rest of the request: an init image, a size past the limit or not grown. */
function checkHiresFits(problems: Problems, request: GenerateRequest): void {
  const { hires } = request;
  if (hires === undefined || hires === null) return;
  if (request.initImage !== null) {
    problems.push('hires: hires. fix follows text to image (as in A1111); it cannot run with an init image');
  }
  const size = hiresSize(request.width, request.height, hires.scale);
  if (size.width > LIMITS.sizeMax || size.height > LIMITS.sizeMax) {
    problems.push(`hires.scale: ${request.width}×${request.height} upscaled by ${hires.scale} is ${size.width}×${size.height}, `
      + `past the largest side of ${LIMITS.sizeMax}; use an upscale of at most ${Math.floor(LIMITS.sizeMax / Math.max(request.width, request.height) * 100) / 100}`);
  } else if (size.width <= request.width && size.height <= request.height) {
    problems.push(`hires.scale: ${request.width}×${request.height} upscaled by ${hires.scale} stays ${size.width}×${size.height} `
      + '(sides round down to multiples of 8); use a larger upscale');
  }
}

/**
 * Checks a request field by field and returns it typed, or throws EngineError('invalid-request') whose message
 * lists every problem ("steps: expected an integer in 1…1000, got 0"). Unknown fields are problems too (typos).
 */
export function validateRequest(value: unknown): GenerateRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EngineError('invalid-request', `invalid request: expected an object, got ${describeValue(value)}`);
  }
  const r = value as Record<string, unknown>;
  const problems: Problems = [];
  for (const key of Object.keys(r)) {
    if (!(FIELDS as readonly string[]).includes(key)) problems.push(`${key}: unknown field (expected only ${FIELDS.join(', ')})`);
  }
  const request: GenerateRequest = {
    modelDir: checkString(problems, 'modelDir', r.modelDir, 4096, true),
    prompt: checkString(problems, 'prompt', r.prompt, LIMITS.promptMaxChars),
    negativePrompt: r.negativePrompt === null ? null
      : checkString(problems, 'negativePrompt', r.negativePrompt, LIMITS.promptMaxChars, false, ' or null (none)'),
    sampler: checkSampler(problems, r.sampler),
    steps: checkInteger(problems, 'steps', r.steps, LIMITS.stepsMin, LIMITS.stepsMax),
    cfgScale: checkNumber(problems, 'cfgScale', r.cfgScale, 0, LIMITS.cfgMax),
    seed: checkInteger(problems, 'seed', r.seed, 0, LIMITS.seedMax),
    width: checkSize(problems, 'width', r.width),
    height: checkSize(problems, 'height', r.height),
    batchSize: checkInteger(problems, 'batchSize', r.batchSize, 1, LIMITS.batchMax),
    initImage: checkInitImage(problems, r.initImage),
    strength: checkNumber(problems, 'strength', r.strength, 0, 1),
    ...(r.resizeMode === undefined ? {} : { resizeMode: checkOneOf(problems, 'resizeMode', r.resizeMode, RESIZE_MODES) }),
    ...(r.inpaint === undefined ? {} : { inpaint: checkInpaint(problems, r.inpaint) }),
    previews: typeof r.previews === 'boolean' ? r.previews
      : (problems.push(`previews: expected true or false, got ${describeValue(r.previews)}`), false),
    rng: checkOneOf(problems, 'rng', r.rng, RNG_SOURCES),
    ...(r.clipSkip === undefined ? {} : { clipSkip: checkInteger(problems, 'clipSkip', r.clipSkip, 1, LIMITS.clipSkipMax) }),
    ...(r.emphasis === undefined ? {} : { emphasis: checkOneOf(problems, 'emphasis', r.emphasis, EMPHASIS) }),
    ...(r.oldPromptEditingTimelines === undefined ? {} : {
      oldPromptEditingTimelines: typeof r.oldPromptEditingTimelines === 'boolean' ? r.oldPromptEditingTimelines
        : (problems.push(`oldPromptEditingTimelines: expected true or false, got ${describeValue(r.oldPromptEditingTimelines)}`), false),
    }),
    ...(r.vaeDecode === undefined ? {} : { vaeDecode: checkOneOf(problems, 'vaeDecode', r.vaeDecode, VAE_DECODE) }),
    executionProvider: checkOneOf(problems, 'executionProvider', r.executionProvider, EXECUTION_PROVIDERS),
    threads: r.threads === null ? null : checkInteger(problems, 'threads', r.threads, 1, LIMITS.threadsMax, ' or null'),
    ...(r.loraDir === undefined || r.loraDir === null ? {} : { loraDir: checkString(problems, 'loraDir', r.loraDir, 4096, false, ' or null') }),
    ...(r.embeddingsDir === undefined || r.embeddingsDir === null ? {}
      : { embeddingsDir: checkString(problems, 'embeddingsDir', r.embeddingsDir, 4096, false, ' or null') }),
    ...(r.variationSeed === undefined ? {} : { variationSeed: checkInteger(problems, 'variationSeed', r.variationSeed, 0, LIMITS.seedMax) }),
    ...(r.variationStrength === undefined ? {} : { variationStrength: checkNumber(problems, 'variationStrength', r.variationStrength, 0, 1) }),
    ...(r.seedResizeFrom === undefined ? {} : { seedResizeFrom: checkSeedResize(problems, r.seedResizeFrom) }),
    ...(r.hires === undefined ? {} : { hires: checkHires(problems, r.hires) }),
  };
  if (request.inpaint != null && r.initImage === null) problems.push('inpaint: a mask needs an input image (initImage is null)');
  if ((request.variationStrength ?? 0) > 0 && request.variationSeed === undefined) {
    problems.push(`variationSeed: a variation strength of ${request.variationStrength} needs a variation seed (an integer in 0…${LIMITS.seedMax}), got nothing (missing)`);
  }
  if (request.variationSeed !== undefined && request.batchSize > 1 && request.variationSeed + request.batchSize - 1 > LIMITS.seedMax) {
    problems.push(`variationSeed: image i of a batch uses variationSeed + i, so variationSeed + batchSize − 1 must be ≤ ${LIMITS.seedMax}; `
      + `got variationSeed ${request.variationSeed} with batchSize ${request.batchSize}`);
  }
  checkHiresFits(problems, request);
  const varied = (request.variationStrength ?? 0) > 0; // A1111: every image of a varied batch keeps the seed
  if (request.batchSize > 1 && !varied && request.seed + request.batchSize - 1 > LIMITS.seedMax) {
    problems.push(`seed: image i of a batch uses seed + i, so seed + batchSize − 1 must be ≤ ${LIMITS.seedMax}; `
      + `got seed ${request.seed} with batchSize ${request.batchSize}`);
  }
  if (problems.length > 0) {
    const noun = problems.length === 1 ? 'problem' : `${problems.length} problems`;
    throw new EngineError('invalid-request', `invalid request (${noun}):\n- ${problems.join('\n- ')}`);
  }
  return request;
}

/**
 * The defaults for a model (issue 2 point 8): its native size (UNet sample_size × VAE factor), its own scheduler,
 * 20 steps, CFG 7.5, one image, seed 0 (callers pick a random one), txt2img with A1111's denoising strength 0.75,
 * CPU RNG, automatic execution provider, the engine's thread default. Override fields, then validateRequest.
 */
export function defaultRequest(info: ModelInfo): GenerateRequest {
  const nativeSize = info.sampleSize * info.vaeScaleFactor;
  return {
    modelDir: info.dir,
    prompt: '',
    negativePrompt: null,
    sampler: null,
    steps: 20,
    cfgScale: 7.5,
    seed: 0,
    width: nativeSize,
    height: nativeSize,
    batchSize: 1,
    initImage: null,
    strength: 0.75,
    previews: false,
    rng: 'cpu',
    executionProvider: 'auto',
    threads: null,
  };
}
