/**
 * The LoRA and embedding folders: files found by name (the file name without its extension, as A1111 names them),
 * in the folder and its sub-folders; `<lora:name:weight>` tags resolved against them as A1111 1.10's
 * extensions-builtin/Lora/extra_networks_lora.py reads them: `<lora:name:te:unet:dyn>` positional or named
 * `te=`/`unet=`/`dyn=` (a named one wins), te default 1, unet default te, dyn (an integer) default none.
 */
import { readFileSync, statSync } from 'node:fs';
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

/** The user's mark beside a LoRA (`<name>.json` with `"lcm": true`), or the catalog's, saying it is an LCM-LoRA. */
export function isMarkedLcm(file: string): boolean {
  const json = join(file.slice(0, file.length - extname(file).length) + '.json');
  try {
    if (!statSync(json).isFile()) return false;
    const parsed = JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>;
    return parsed.lcm === true;
  } catch {
    return false;
  }
}
