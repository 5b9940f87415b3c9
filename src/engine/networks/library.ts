/**
 * The LoRA and embedding folders: files found by name (the file name without its extension, as A1111 names them),
 * in the folder and its sub-folders; `<lora:name:weight>` tags resolved against them as A1111 1.10's
 * extensions-builtin/Lora/extra_networks_lora.py reads them: `<lora:name:te:unet:dyn>` positional or named
 * `te=`/`unet=`/`dyn=` (a named one wins), te default 1, unet default te, dyn (an integer) default none.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { listNetworkFiles, type NetworkFile } from '../model';
import type { ExtraNetworkParams } from '../prompt';

export { EMBEDDING_EXTENSIONS, LORA_EXTENSIONS } from '../model';
export type LibraryEntry = NetworkFile;

/** Files with these extensions under `dir`, by name (model/networkFiles.ts). */
export const listFolder = listNetworkFiles;

/** One `<lora:…>` tag resolved: the file and its text-encoder and UNet weights. */
export interface LoraRequest {
  readonly name: string;
  readonly file: string;
  readonly te: number;
  readonly unet: number;
  /** A1111's `dyn`: only the first `dyn` ranks of each layer are used (lyco_helpers.rebuild_conventional); none = all. */
  readonly dyn?: number;
}

/** The named parameters A1111's own Lora extension reads; others (the lora-block-weight extension's `lbw=`…) are not. */
const KNOWN_NAMED = new Set(['te', 'unet', 'dyn']);

/** Python's int() of a string as A1111 applies it to `dyn` (spaces around, a sign, digits); undefined if it would raise. */
function parseInt10(text: string): number | undefined {
  return /^\s*[+-]?\d+\s*$/.test(text) ? Number.parseInt(text, 10) : undefined;
}

function parseWeight(text: string | undefined, fallback: number): number | undefined {
  if (text === undefined || text.trim() === '') return fallback;
  const v = Number(text);
  return Number.isFinite(v) ? v : undefined;
}

/**
 * The LoRAs the tags name (later tags of the same name replace earlier ones, as A1111's dict does) and a warning for
 * each tag that cannot be used.
 */
export function resolveLoraTags(tags: readonly ExtraNetworkParams[], dir: string | undefined,
    library: ReadonlyMap<string, LibraryEntry>): { loras: LoraRequest[]; warnings: string[] } {
  const warnings: string[] = [];
  const byName = new Map<string, LoraRequest>();
  for (const tag of tags) {
    const name = tag.positional[0] ?? '';
    const te = parseWeight(tag.named.te ?? tag.positional[1], 1);
    const unet = parseWeight(tag.named.unet ?? tag.positional[2], te ?? 1);
    if (te === undefined || unet === undefined) {
      warnings.push(`<lora:${tag.items.join(':')}>: the weight is not a number; this LoRA was not applied`);
      continue;
    }
    const dynText = tag.named.dyn ?? tag.positional[3];
    const dyn = dynText === undefined ? undefined : parseInt10(dynText);
    if (dynText !== undefined && dyn === undefined) {
      warnings.push(`<lora:${tag.items.join(':')}>: dyn "${dynText}" is not a whole number (the number of ranks to use); this LoRA was not applied`);
      continue;
    }
    const unknown = Object.keys(tag.named).filter((k) => !KNOWN_NAMED.has(k));
    if (unknown.length > 0) {
      warnings.push(`<lora:${tag.items.join(':')}>: ${unknown.map((k) => `"${k}="`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not known here `
        + `(A1111's Lora reads te=, unet=, dyn=${unknown.includes('lbw') ? '; lbw= is the lora-block-weight extension\'s' : ''}); the LoRA was applied without ${unknown.length === 1 ? 'it' : 'them'}`);
    }
    const entry = library.get(name) ?? [...library.values()].find((e) => e.name.toLowerCase() === name.toLowerCase());
    if (entry === undefined) {
      warnings.push(dir === undefined || dir === ''
        ? `<lora:${name}>: no LoRA folder is set (setting inlineDiffusion.loraFolder, CLI --lora-dir); the tag was ignored`
        : `<lora:${name}>: no LoRA named "${name}" in ${dir}; the tag was ignored`);
      continue;
    }
    byName.set(entry.name, { name: entry.name, file: entry.file, te, unet, ...(dyn === undefined ? {} : { dyn }) });
  }
  return { loras: [...byName.values()], warnings };
}

/**
 * The published LCM-LoRAs (models/catalog.json's lcm-lora-sdv1-5 and lcm-lora-sdxl, pinned there; a test checks they
 * agree): a file of one of these sizes and sha256 is an LCM-LoRA whatever its name and however it came to the folder.
 */
export const KNOWN_LCM_LORAS: ReadonlyArray<{ readonly size: number; readonly sha256: string }> = [
  { size: 134621556, sha256: '8f90d840e075ff588a58e22c6586e2ae9a6f7922996ee6649a7f01072333afe4' },
  { size: 393855224, sha256: 'a764e6859b6e04047cd761c08ff0cee96413a8e004c9f07707530cd776b19141' },
];

const knownHashes = new Map<string, boolean>();

/** Whether the file is one of `known` (its size first; then its sha256, once per file stamp). */
export function isKnownLcmLora(file: string, known = KNOWN_LCM_LORAS): boolean {
  let size: number;
  let stamp: string;
  try {
    const s = statSync(file);
    size = s.size;
    stamp = `${file}\0${s.size}\0${s.mtimeMs}`;
  } catch {
    return false;
  }
  const candidates = known.filter((k) => k.size === size);
  if (candidates.length === 0) return false;
  const key = `${stamp}\0${candidates.map((k) => k.sha256).join(',')}`;
  let verdict = knownHashes.get(key);
  if (verdict === undefined) {
    const hash = createHash('sha256');
    const buf = Buffer.alloc(1 << 22);
    try {
      const fd = openSync(file, 'r');
      try {
        for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) hash.update(buf.subarray(0, n));
      } finally {
        closeSync(fd);
      }
    } catch {
      return false;
    }
    const hex = hash.digest('hex');
    verdict = candidates.some((k) => k.sha256 === hex);
    knownHashes.set(key, verdict);
  }
  return verdict;
}

/**
 * Whether a LoRA is an LCM-LoRA: the user's mark beside it (`<name>.json` with `"lcm": true`, as the catalog's
 * install writes it), or it is one of the published LCM-LoRA files (KNOWN_LCM_LORAS).
 */
export function isMarkedLcm(file: string): boolean {
  const json = join(file.slice(0, file.length - extname(file).length) + '.json');
  try {
    if (statSync(json).isFile() && (JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>).lcm === true) return true;
  } catch {
    // no mark
  }
  return isKnownLcmLora(file);
}
