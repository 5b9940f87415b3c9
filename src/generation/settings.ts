/**
 * The extension's settings (package.json `contributes.configuration`, prefix `inlineDiffusion.`), read through a
 * getter so node tests need no `vscode`. Wrong types or out-of-range values fall back to the default.
 */
import type { EmphasisSetting, ExecutionProviderSetting, VaeDecodeSetting } from '../protocol/engineMessages';
import { LIMITS } from '../engine/request';
import { isSamplerChoice, MODEL_DEFAULT_SAMPLER } from './samplers';
import { readVariationSettings, VARIATION_DEFAULTS } from './seedsAndSize';
import { resolveModelSetting } from '../models/modelChoices';

export interface ExtensionSettings {
  /** A model folder; "" = the embedded model. */
  readonly model: string;
  /** Relative to the workspace folder, or absolute. */
  readonly outputFolder: string;
  readonly sampler: string;
  readonly steps: number;
  readonly cfgScale: number;
  /** 0 = the model's native size. */
  readonly width: number;
  readonly height: number;
  readonly executionProvider: ExecutionProviderSetting;
  /** 0 = the engine's default. */
  readonly threads: number;
  readonly previews: boolean;
  readonly autoSave: boolean;
  /** Candidates per image in "Illustrate Document"'s review. */
  readonly candidates: number;
  /** A1111's "Clip skip" for new generations (1 = the last layer). */
  readonly clipSkip: number;
  /** A1111's "Emphasis": how (word:1.2) weights apply. */
  readonly emphasis: EmphasisSetting;
  /** How the VAE decodes (GenerateRequest.vaeDecode). */
  readonly vaeDecode: VaeDecodeSetting;
  /** LoRA files for `<lora:name:weight>` ("" = none). */
  readonly loraFolder: string;
  /** Textual-inversion embeddings used by name ("" = none). */
  readonly embeddingsFolder: string;
  /** Images a result's "Variations" makes. */
  readonly variationCount: number;
  /** The variation strength they use. */
  readonly variationStrength: number;
}

export const DEFAULT_SETTINGS: ExtensionSettings = {
  model: '',
  outputFolder: 'images',
  sampler: MODEL_DEFAULT_SAMPLER,
  steps: 20,
  cfgScale: 7.5,
  width: 0,
  height: 0,
  executionProvider: 'auto',
  threads: 0,
  previews: true,
  autoSave: true,
  candidates: 2,
  clipSkip: 1,
  emphasis: 'original',
  vaeDecode: 'auto',
  loraFolder: '',
  embeddingsFolder: '',
  variationCount: VARIATION_DEFAULTS.count,
  variationStrength: VARIATION_DEFAULTS.strength,
};
const VAE_DECODE: readonly VaeDecodeSetting[] = ['auto', 'full', 'tiled', 'fast'];
const EMPHASIS: readonly EmphasisSetting[] = ['original', 'no-norm', 'none'];

/** The most candidates per image a review makes (package.json's maximum). */
export const CANDIDATES_MAX = 8;

const PROVIDERS: readonly ExecutionProviderSetting[] = ['auto', 'cpu', 'cuda', 'dml', 'coreml'];

function intIn(value: unknown, min: number, max: number, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : fallback;
}

function size(value: unknown): number {
  const n = intIn(value, 0, LIMITS.sizeMax, 0);
  return n === 0 || (n >= LIMITS.sizeMin && n % LIMITS.sizeMultiple === 0) ? n : 0;
}

/** Reads every setting; `get(key)` returns the configured value for `inlineDiffusion.<key>` (or undefined). */
export function readSettings(get: (key: keyof ExtensionSettings) => unknown): ExtensionSettings {
  const d = DEFAULT_SETTINGS;
  const str = (key: 'model' | 'outputFolder' | 'loraFolder' | 'embeddingsFolder'): string => {
    const v = get(key);
    return typeof v === 'string' ? v.trim() : d[key];
  };
  const sampler = get('sampler');
  const provider = get('executionProvider');
  const cfg = get('cfgScale');
  const bool = (key: 'previews' | 'autoSave'): boolean => {
    const v = get(key);
    return typeof v === 'boolean' ? v : d[key];
  };
  return {
    model: str('model'),
    outputFolder: str('outputFolder') || d.outputFolder,
    sampler: typeof sampler === 'string' && isSamplerChoice(sampler) ? sampler : d.sampler,
    steps: intIn(get('steps'), LIMITS.stepsMin, LIMITS.stepsMax, d.steps),
    cfgScale: typeof cfg === 'number' && Number.isFinite(cfg) && cfg >= 0 && cfg <= LIMITS.cfgMax ? cfg : d.cfgScale,
    width: size(get('width')),
    height: size(get('height')),
    executionProvider: typeof provider === 'string' && (PROVIDERS as readonly string[]).includes(provider)
      ? provider as ExecutionProviderSetting : d.executionProvider,
    threads: intIn(get('threads'), 0, LIMITS.threadsMax, d.threads),
    previews: bool('previews'),
    autoSave: bool('autoSave'),
    candidates: intIn(get('candidates'), 1, CANDIDATES_MAX, d.candidates),
    clipSkip: intIn(get('clipSkip'), 1, LIMITS.clipSkipMax, d.clipSkip),
    emphasis: (EMPHASIS as readonly unknown[]).includes(get('emphasis')) ? get('emphasis') as EmphasisSetting : d.emphasis,
    vaeDecode: (VAE_DECODE as readonly unknown[]).includes(get('vaeDecode')) ? get('vaeDecode') as VaeDecodeSetting : d.vaeDecode,
    loraFolder: str('loraFolder'),
    embeddingsFolder: str('embeddingsFolder'),
    ...variationSettings(get),
  };
}

/** inlineDiffusion.variationCount / variationStrength (src/generation/seedsAndSize.ts). */
function variationSettings(get: (key: keyof ExtensionSettings) => unknown): Pick<ExtensionSettings, 'variationCount' | 'variationStrength'> {
  const { count, strength } = readVariationSettings(get);
  return { variationCount: count, variationStrength: strength };
}

/**
 * The LoRA and embeddings folders as absolute paths, as the model setting reads (`~` the home folder, a relative path
 * from the workspace folder; "" when relative without a workspace): the engine process has another working folder.
 */
export function withResolvedNetworkFolders(settings: ExtensionSettings, workspaceFolder: string | undefined, home?: string): ExtensionSettings {
  const resolveOne = (value: string): string => (value === '' ? '' : resolveModelSetting(value, workspaceFolder, home) ?? '');
  return { ...settings, loraFolder: resolveOne(settings.loraFolder), embeddingsFolder: resolveOne(settings.embeddingsFolder) };
}
