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
  'clipSkip', 'oldPromptEditingTimelines', 'variationSeed', 'randomVariationSeed', 'variationStrength', 'hires',
];

const LABELS: Record<keyof PanelParams, string> = {
  prompt: 'Prompt', negativePrompt: 'Negative prompt', sampler: 'Sampler', steps: 'Steps', cfgScale: 'CFG scale',
  seed: 'Seed', randomSeed: 'Random seed', width: 'Width', height: 'Height', batchCount: 'Batch count', model: 'Model',
  clipSkip: 'Clip skip', oldPromptEditingTimelines: 'Old prompt editing timelines',
  variationSeed: 'Variation seed', randomVariationSeed: 'Random variation seed', variationStrength: 'Variation strength', hires: 'Hires. fix',
};

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
  const extras = seedsAndSizeProblem(p);
  if (extras !== undefined) return { ok: false, ...extras };
  return { ok: true, params: p as unknown as PanelParams };
}

const IMAGE_ID = /^[A-Za-z0-9-]{1,64}$/;

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
      return { ok: true, message: { type: 'generate', params: checked.params } };
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
      return bad(`message: unknown type ${describeValue(value.type)} (expected ready, generate, cancel, save, insert, open, discard, show, variations, copySeed or countTokens)`);
  }
}
