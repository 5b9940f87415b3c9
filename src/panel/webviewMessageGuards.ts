/**
 * Validation of everything the webview posts (STYLE.md: `unknown` until a guard accepts it). A rejected message
 * becomes an inline notice in the panel naming the field, what was expected and what arrived; never an exception
 * in the host. No `vscode` import: node tests load it.
 */
import type { FromWebview, PanelParams } from '../protocol/webviewMessages';
import { describeValue } from '../engine/request';
import { PANEL_LIMITS } from '../generation/panelLimits';
import { isSamplerChoice } from '../generation/samplers';
import { isRecord } from '../common/isRecord';
import { INPUT_IMAGE_MAX_BYTES } from '../generation/inputImage';
import { decodeMaskRuns } from '../common/maskRuns';
import { seedsAndSizeProblem } from '../generation/seedsAndSize';

export type ParsedMessage =
  | { readonly ok: true; readonly message: FromWebview }
  | { readonly ok: false; readonly problem: string; readonly field: keyof PanelParams | null };

export interface GuardContext {
  /** Model ids the panel offered. */
  readonly modelIds: readonly string[];
}

type Problem = { readonly ok: false; readonly problem: string; readonly field: keyof PanelParams | null };
export type CheckedParams = { readonly ok: true; readonly params: PanelParams } | Problem;

const PARAM_KEYS: ReadonlyArray<keyof PanelParams> = [
  'prompt', 'negativePrompt', 'sampler', 'steps', 'cfgScale', 'seed', 'randomSeed', 'width', 'height', 'batchCount', 'model',
  'clipSkip', 'oldPromptEditingTimelines', 'strength', 'resizeMode', 'inpaint', 'maskSettings', 'variationSeed', 'randomVariationSeed', 'variationStrength', 'hires',
];

const RESIZE_MODES = ['just', 'crop', 'fill'];

const LABELS: Record<keyof PanelParams, string> = {
  prompt: 'Prompt', negativePrompt: 'Negative prompt', sampler: 'Sampler', steps: 'Steps', cfgScale: 'CFG scale',
  seed: 'Seed', randomSeed: 'Random seed', width: 'Width', height: 'Height', batchCount: 'Batch count', model: 'Model',
  clipSkip: 'Clip skip', oldPromptEditingTimelines: 'Old prompt editing timelines',
  strength: 'Denoising strength', resizeMode: 'Resize mode', inpaint: 'Mask', maskSettings: 'Mask settings',
  variationSeed: 'Variation seed', randomVariationSeed: 'Random variation seed', variationStrength: 'Variation strength', hires: 'Hires. fix',
};

const INPAINT_KEYS = ['mask', 'maskBlur', 'maskMode', 'maskedContent', 'inpaintArea', 'inpaintPadding'];

/** The first problem with the mask editor's value (its run lengths decoded and counted), or null. */
export function inpaintProblem(value: unknown): string | null {
  if (!isRecord(value)) return `expected the mask and its settings, got ${describeValue(value)}`;
  const extra = Object.keys(value).find((k) => !INPAINT_KEYS.includes(k));
  if (extra !== undefined) return `unknown field "${extra}" (expected only ${INPAINT_KEYS.join(', ')})`;
  const mask = decodeMaskRuns(value.mask);
  if (!mask.ok) return mask.problem;
  return maskSettingsProblem(value);
}

/** The first problem with A1111's mask settings (blur, padding, mode, content, area), or null. */
export function maskSettingsProblem(value: Record<string, unknown>): string | null {
  if (!isIntIn(value.maskBlur, 0, 64)) return `Mask blur: expected a whole number from 0 to 64, got ${describeValue(value.maskBlur)}`;
  if (!isIntIn(value.inpaintPadding, 0, 256)) return `Only masked padding: expected a whole number from 0 to 256, got ${describeValue(value.inpaintPadding)}`;
  const choices: Array<[string, unknown, readonly string[]]> = [['Mask mode', value.maskMode, ['masked', 'unmasked']],
    ['Masked content', value.maskedContent, ['fill', 'original', 'latent-noise', 'latent-nothing']], ['Inpaint area', value.inpaintArea, ['whole', 'masked']]];
  for (const [label, v, allowed] of choices) {
    if (typeof v !== 'string' || !allowed.includes(v)) return `${label}: expected one of ${allowed.join(', ')}, got ${describeValue(v)}`;
  }
  return null;
}

function isIntIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** The first problem with a PanelParams, or the params typed. */
export function checkParams(value: unknown, ctx: GuardContext): CheckedParams {
  if (!isRecord(value)) return { ok: false, problem: `parameters: expected an object, got ${describeValue(value)}`, field: null };
  for (const key of Object.keys(value)) {
    if (!(PARAM_KEYS as readonly string[]).includes(key)) {
      return { ok: false, problem: `parameters: unknown field "${key}" (expected only ${PARAM_KEYS.join(', ')})`, field: null };
    }
  }
  const p = value;
  const fail = (field: keyof PanelParams, expected: string): Problem =>
    ({ ok: false, problem: `${LABELS[field]}: expected ${expected}, got ${describeValue(p[field])}`, field });
  const L = PANEL_LIMITS;
  for (const field of ['prompt', 'negativePrompt'] as const) {
    const v = p[field];
    if (typeof v !== 'string') return fail(field, 'text');
    if (v.length > L.promptMaxChars) {
      return { ok: false, problem: `${LABELS[field]}: expected at most ${L.promptMaxChars} characters, got ${v.length}`, field };
    }
  }
  if (typeof p.sampler !== 'string' || !isSamplerChoice(p.sampler)) return fail('sampler', 'one of the listed samplers');
  if (!isIntIn(p.steps, 1, L.stepsMax)) return fail('steps', `a whole number from 1 to ${L.stepsMax}`);
  if (typeof p.cfgScale !== 'number' || !Number.isFinite(p.cfgScale) || p.cfgScale < 0 || p.cfgScale > L.cfgMax) {
    return fail('cfgScale', `a number from 0 to ${L.cfgMax}`);
  }
  if (!isIntIn(p.seed, 0, L.seedMax)) return fail('seed', `a whole number from 0 to ${L.seedMax}`);
  if (typeof p.randomSeed !== 'boolean') return fail('randomSeed', 'true or false');
  for (const field of ['width', 'height'] as const) {
    const v = p[field];
    if (!isIntIn(v, L.sizeMin, L.sizeMax) || v % L.sizeMultiple !== 0) {
      return fail(field, `a multiple of ${L.sizeMultiple} from ${L.sizeMin} to ${L.sizeMax}`);
    }
  }
  if (!isIntIn(p.batchCount, 1, L.batchCountMax)) return fail('batchCount', `a whole number from 1 to ${L.batchCountMax}`);
  if (!p.randomSeed && p.seed + p.batchCount - 1 > L.seedMax) {
    return {
      ok: false,
      problem: `Seed: image i of a batch uses seed + i, so seed + batch count − 1 must be at most ${L.seedMax}; got seed ${p.seed} with batch count ${p.batchCount}`,
      field: 'seed',
    };
  }
  if (typeof p.model !== 'string' || !ctx.modelIds.includes(p.model)) return fail('model', 'one of the listed models');
  if (p.clipSkip !== undefined && !isIntIn(p.clipSkip, 1, L.clipSkipMax)) return fail('clipSkip', `a whole number from 1 to ${L.clipSkipMax}`);
  if (p.oldPromptEditingTimelines !== undefined && typeof p.oldPromptEditingTimelines !== 'boolean') {
    return fail('oldPromptEditingTimelines', 'true or false');
  }
  if (p.strength !== undefined && (typeof p.strength !== 'number' || !Number.isFinite(p.strength) || p.strength < 0 || p.strength > 1)) {
    return fail('strength', 'a number from 0 to 1');
  }
  if (p.resizeMode !== undefined && (typeof p.resizeMode !== 'string' || !RESIZE_MODES.includes(p.resizeMode))) {
    return fail('resizeMode', 'just, crop or fill');
  }
  if (p.inpaint !== undefined) {
    const problem = inpaintProblem(p.inpaint);
    if (problem !== null) return { ok: false, problem: `Mask: ${problem}`, field: 'inpaint' };
  }
  if (p.maskSettings !== undefined) {
    const settings = p.maskSettings;
    const extra = isRecord(settings) ? Object.keys(settings).find((k) => k === 'mask' || !INPAINT_KEYS.includes(k)) : undefined;
    const problem = !isRecord(settings) ? `expected the mask settings, got ${describeValue(settings)}`
      : extra !== undefined ? `unknown field "${extra}"` : maskSettingsProblem(settings);
    if (problem !== null) return { ok: false, problem: `Mask settings: ${problem}`, field: 'maskSettings' };
  }
  const extras = seedsAndSizeProblem(p);
  if (extras !== undefined) return { ok: false, ...extras };
  return { ok: true, params: p as unknown as PanelParams };
}

const IMAGE_ID = /^[A-Za-z0-9-]{1,64}$/;
/** The host's input image ids (src/generation/inputImage.ts: 16 hex digits of a SHA-1). */
const INPUT_IMAGE_ID = /^[0-9a-f]{16}$/;
/** URIs of dropped files the host reads: local files, and a remote window's files. */
const DROPPED_URI = /^(file|vscode-remote):/i;

/** Accepts a message from the webview as a FromWebview, or says what is wrong with it. */
export function parseFromWebview(value: unknown, ctx: GuardContext): ParsedMessage {
  if (!isRecord(value)) return { ok: false, problem: `message: expected an object, got ${describeValue(value)}`, field: null };
  const bad = (problem: string): ParsedMessage => ({ ok: false, problem, field: null });
  switch (value.type) {
    case 'ready':
      return { ok: true, message: { type: 'ready' } };
    case 'generate': {
      const checked = checkParams(value.params, ctx);
      if (!checked.ok) return checked;
      if (value.inputImageId === undefined) return { ok: true, message: { type: 'generate', params: checked.params } };
      if (typeof value.inputImageId !== 'string' || !INPUT_IMAGE_ID.test(value.inputImageId)) {
        return bad(`generate: expected inputImageId as an input image id, got ${describeValue(value.inputImageId)}`);
      }
      return { ok: true, message: { type: 'generate', params: checked.params, inputImageId: value.inputImageId } };
    }
    case 'cancel':
      if (value.jobId !== null && !isIntIn(value.jobId, 1, Number.MAX_SAFE_INTEGER)) {
        return bad(`cancel: expected jobId null or a job number, got ${describeValue(value.jobId)}`);
      }
      return { ok: true, message: { type: 'cancel', jobId: value.jobId } };
    case 'save':
    case 'insert':
    case 'open':
    case 'discard':
    case 'show':
    case 'variations':
      if (typeof value.imageId !== 'string' || !IMAGE_ID.test(value.imageId)) {
        return bad(`${value.type}: expected an image id, got ${describeValue(value.imageId)}`);
      }
      return { ok: true, message: { type: value.type, imageId: value.imageId } };
    case 'useAsInput':
      if (typeof value.imageId !== 'string' || !IMAGE_ID.test(value.imageId)) {
        return bad(`useAsInput: expected an image id, got ${describeValue(value.imageId)}`);
      }
      return { ok: true, message: { type: 'useAsInput', imageId: value.imageId } };
    case 'pickInputImage':
      return { ok: true, message: { type: 'pickInputImage' } };
    case 'inputImageData': {
      if (typeof value.name !== 'string' || value.name.length === 0 || value.name.length > 255) {
        return bad(`inputImageData: expected a name of 1 to 255 characters, got ${describeValue(value.name)}`);
      }
      const data = value.data instanceof ArrayBuffer ? new Uint8Array(value.data) : value.data;
      if (!(data instanceof Uint8Array)) return bad(`inputImageData: expected the picture's bytes, got ${describeValue(value.data)}`);
      if (data.byteLength === 0 || data.byteLength > INPUT_IMAGE_MAX_BYTES) {
        return bad(`inputImageData: expected 1 byte to ${INPUT_IMAGE_MAX_BYTES / 1024 / 1024} MB, got ${data.byteLength} bytes`);
      }
      return { ok: true, message: { type: 'inputImageData', name: value.name, data } };
    }
    case 'inputImageUri':
      if (typeof value.uri !== 'string' || value.uri.length > 4096 || !DROPPED_URI.test(value.uri)) {
        return bad(`inputImageUri: expected a file: URI of at most 4096 characters, got ${describeValue(value.uri)}`);
      }
      return { ok: true, message: { type: 'inputImageUri', uri: value.uri } };
    case 'copySeed':
      if (!isIntIn(value.seed, 0, PANEL_LIMITS.seedMax)) {
        return bad(`copySeed: expected a seed from 0 to ${PANEL_LIMITS.seedMax}, got ${describeValue(value.seed)}`);
      }
      return { ok: true, message: { type: 'copySeed', seed: value.seed } };
    case 'countTokens': {
      const L = PANEL_LIMITS;
      for (const field of ['prompt', 'negativePrompt'] as const) {
        const v = value[field];
        if (typeof v !== 'string' || v.length > L.promptMaxChars) {
          return bad(`countTokens: expected ${field} as text of at most ${L.promptMaxChars} characters, got ${describeValue(v)}`);
        }
      }
      if (typeof value.model !== 'string' || !ctx.modelIds.includes(value.model)) {
        return bad(`countTokens: expected one of the listed models, got ${describeValue(value.model)}`);
      }
      if (!isIntIn(value.steps, 1, L.stepsMax)) return bad(`countTokens: expected steps from 1 to ${L.stepsMax}, got ${describeValue(value.steps)}`);
      return { ok: true, message: { type: 'countTokens', prompt: value.prompt as string, negativePrompt: value.negativePrompt as string, model: value.model, steps: value.steps } };
    }
    default:
      return bad(`message: unknown type ${describeValue(value.type)} (expected ready, generate, cancel, save, insert, open, discard, show, variations, useAsInput, pickInputImage, inputImageData, inputImageUri, copySeed or countTokens)`);
  }
}
