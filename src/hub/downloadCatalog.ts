/**
 * The catalog of downloadable models (models/catalog.json): read, validated entry by entry (every problem
 * listed with the entry's index and id), and turned into downloadModel options.
 */
import * as fs from 'node:fs';
import type { ModelFamily } from '../engine/model';
import type { SamplerId } from '../engine/schedulers/samplers';
import type { DownloadModelOptions, PinnedFile } from './installTypes';

export interface CatalogSettings {
  readonly sampler: SamplerId;
  readonly steps: number;
  readonly cfgScale: number;
  readonly width: number;
  readonly height: number;
  readonly schedulerOverrides?: Readonly<Record<string, unknown>>;
}

export interface CatalogEntry {
  readonly id: string;
  readonly label: string;
  readonly repo: string;
  /** A commit (40 hex digits) or a branch / tag. */
  readonly revision: string;
  readonly revisionNote?: string;
  /** "auto": the pipeline found in the repo's listing; else the files to fetch. */
  readonly files: 'auto' | readonly PinnedFile[];
  /** The pipeline's folder inside the repo ("onnx"), when not at the root. */
  readonly subfolder?: string;
  readonly approxBytes: number;
  readonly family: ModelFamily;
  readonly precision: 'fp32' | 'fp16';
  readonly license: string;
  readonly gated: boolean;
  /** A whole pipeline, a TAESD decoder for previews, or a LoRA (copied into inlineDiffusion.loraFolder). */
  readonly role: 'pipeline' | 'preview-decoder' | 'lora';
  /** A LoRA that is an LCM-LoRA: marked so beside its copy (`<id>.json` `{"lcm": true}`), the LCM sampler then runs. */
  readonly lcm?: boolean;
  readonly recommended?: CatalogSettings;
  /** Whether the layout was checked against the repo's file list when the entry was written. */
  readonly verified: boolean;
  readonly verifiedNote?: string;
}

export interface Catalog {
  readonly version: 1;
  readonly models: CatalogEntry[];
}

const FAMILIES: readonly ModelFamily[] = ['sd1', 'sd2', 'sd-turbo', 'lcm', 'sdxl'];
const SAMPLERS: readonly SamplerId[] = ['euler', 'euler_a', 'heun', 'lms', 'dpmpp_2m', 'dpmpp_2m_karras', 'ddim', 'plms', 'ddpm', 'lcm', 'unipc'];
const REPO = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkEntry(e: unknown, where: string, problems: string[]): void {
  if (!isObject(e)) {
    problems.push(`${where}: expected an object, found ${JSON.stringify(e)}`);
    return;
  }
  const need = (key: string, ok: (v: unknown) => boolean, expected: string): void => {
    if (!ok(e[key])) problems.push(`${where}: "${key}" should be ${expected}, found ${JSON.stringify(e[key]) ?? 'nothing'}`);
  };
  const str = (v: unknown): boolean => typeof v === 'string' && v.trim() !== '';
  const optStr = (v: unknown): boolean => v === undefined || typeof v === 'string';
  need('id', (v) => typeof v === 'string' && /^[a-z0-9][a-z0-9.-]*$/.test(v), 'a lower-case id (a-z, 0-9, ".", "-")');
  need('label', str, 'a non-empty string');
  need('repo', (v) => typeof v === 'string' && REPO.test(v) && !v.includes('--') && !v.includes('..'), '"owner/name"');
  need('revision', (v) => typeof v === 'string' && /^[\w./-]+$/.test(v), 'a commit hash or a branch name');
  need('revisionNote', optStr, 'a string');
  need('files', (v) => v === 'auto' || (Array.isArray(v) && v.length > 0 && v.every((f) => isObject(f) && str(f.path) &&
    (f.sha256 === undefined || (typeof f.sha256 === 'string' && /^[0-9a-f]{64}$/.test(f.sha256))) &&
    (f.size === undefined || (typeof f.size === 'number' && Number.isSafeInteger(f.size) && f.size > 0)))),
  '"auto" or a list of { "path", optional "sha256" (64 hex digits), optional "size" (bytes) }');
  need('subfolder', optStr, 'a folder name');
  need('approxBytes', (v) => typeof v === 'number' && Number.isFinite(v) && v > 0, 'a positive number of bytes');
  need('family', (v) => (FAMILIES as readonly unknown[]).includes(v), `one of ${FAMILIES.join(', ')}`);
  need('precision', (v) => v === 'fp32' || v === 'fp16', '"fp32" or "fp16"');
  need('license', str, 'the licence name');
  need('gated', (v) => typeof v === 'boolean', 'true or false');
  need('role', (v) => v === 'pipeline' || v === 'preview-decoder' || v === 'lora', '"pipeline", "preview-decoder" or "lora"');
  need('lcm', (v) => v === undefined || typeof v === 'boolean', 'true or false');
  if (e.role === 'lora') need('files', (v) => Array.isArray(v) && v.length === 1, 'the one LoRA file of a "lora" entry');
  need('verified', (v) => typeof v === 'boolean', 'true or false');
  need('verifiedNote', optStr, 'a string');
  if (e.role === 'pipeline') need('recommended', isObject, 'the recommended settings of a pipeline');
  const r = e.recommended;
  if (isObject(r)) {
    const pos = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v > 0;
    if (!(SAMPLERS as readonly unknown[]).includes(r.sampler)) problems.push(`${where}: "recommended.sampler" should be one of ${SAMPLERS.join(', ')}, found ${JSON.stringify(r.sampler)}`);
    if (!pos(r.steps)) problems.push(`${where}: "recommended.steps" should be a positive integer, found ${JSON.stringify(r.steps)}`);
    if (typeof r.cfgScale !== 'number' || r.cfgScale < 0) problems.push(`${where}: "recommended.cfgScale" should be a number ≥ 0, found ${JSON.stringify(r.cfgScale)}`);
    for (const k of ['width', 'height']) {
      if (!pos(r[k]) || (r[k] as number) % 8 !== 0) problems.push(`${where}: "recommended.${k}" should be a positive multiple of 8, found ${JSON.stringify(r[k])}`);
    }
    if (r.schedulerOverrides !== undefined && !isObject(r.schedulerOverrides)) problems.push(`${where}: "recommended.schedulerOverrides" should be an object`);
  }
}

/** Validates a parsed catalog; throws one Error listing every problem, each with the entry it is in. */
export function parseCatalog(value: unknown, source = 'catalog'): Catalog {
  const problems: string[] = [];
  if (!isObject(value)) throw new Error(`${source}: expected a JSON object with "version": 1 and "models": [...]`);
  if (value.version !== 1) problems.push(`${source}: "version" should be 1, found ${JSON.stringify(value.version)}`);
  if (!Array.isArray(value.models)) {
    problems.push(`${source}: "models" should be a list`);
  } else {
    value.models.forEach((e: unknown, i: number) => checkEntry(e, `${source} models[${i}]${isObject(e) && typeof e.id === 'string' ? ` (${e.id})` : ''}`, problems));
    const ids = value.models.map((e: unknown) => (isObject(e) ? e.id : undefined));
    ids.forEach((id: unknown, i: number) => {
      if (typeof id === 'string' && ids.indexOf(id) !== i) problems.push(`${source} models[${i}]: id "${id}" is used twice`);
    });
  }
  if (problems.length > 0) throw new Error(`Invalid model catalog:\n${problems.join('\n')}`);
  return value as unknown as Catalog;
}

/** Reads and validates a catalog file (models/catalog.json). */
export function readCatalog(file: string): Catalog {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`Cannot read the model catalog ${file}: ${(e as Error).message}`);
  }
  return parseCatalog(value, file);
}

/** What downloadModel needs for a catalog entry (add layout, root, client, progress). */
export function catalogDownload(entry: CatalogEntry): Pick<DownloadModelOptions, 'repoId' | 'revision' | 'files' | 'subfolder'> {
  return { repoId: entry.repo, revision: entry.revision, files: entry.files, ...(entry.subfolder !== undefined ? { subfolder: entry.subfolder } : {}) };
}

/**
 * How the download list names a precision: fp32 is the CPU choice; an fp16 graph runs slower on the CPU than its
 * fp32 version and takes no less memory there (ONNX Runtime computes it in fp32: measured on full-size SD 1.5, issue 15),
 * so on the CPU the engine converts it once into an fp32 copy (twice the disk, a conversion on the first load).
 */
export function precisionLabel(precision: CatalogEntry['precision']): string {
  return precision === 'fp32' ? 'fp32 (the CPU choice)' : 'fp16 (for GPUs: on the CPU converted once to fp32)';
}
