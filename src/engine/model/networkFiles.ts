/**
 * The LoRA and embedding files of a folder, by name (the file name without its extension, as AUTOMATIC1111 names
 * them; sub-folders searched to depth 4, the first found wins on a clash) — read by the engine to resolve
 * `<lora:name>` and embedding names, and by the host to list them in the panel.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';

export const LORA_EXTENSIONS: readonly string[] = ['.safetensors', '.pt', '.ckpt', '.bin'];
export const EMBEDDING_EXTENSIONS: readonly string[] = ['.safetensors', '.pt', '.bin'];

export interface NetworkFile { readonly name: string; readonly file: string }

/** Files with these extensions under `dir`, by name; an empty map for no folder or one that cannot be read. */
export function listNetworkFiles(dir: string | undefined, extensions: readonly string[]): Map<string, NetworkFile> {
  const out = new Map<string, NetworkFile>();
  if (dir === undefined || dir === '') return out;
  const walk = (d: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const path = join(d, e.name);
      if (e.isDirectory() && depth < 4 && !e.name.startsWith('.')) walk(path, depth + 1);
      else if ((e.isFile() || e.isSymbolicLink()) && extensions.includes(extname(e.name).toLowerCase())) {
        const name = basename(e.name, extname(e.name));
        if (!out.has(name)) out.set(name, { name, file: path });
      }
    }
  };
  walk(dir, 0);
  return out;
}

/**
 * A LoRA's "preferred weight" as A1111's user metadata gives it: the `<name>.json` beside the file (A1111's
 * ui_extra_networks_lora.py: 0 or none means the default multiplier); undefined when none is set or it is no number.
 */
export function preferredWeight(file: string): number | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file.slice(0, file.length - extname(file).length) + '.json', 'utf8'));
  } catch {
    return undefined;
  }
  const raw = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)['preferred weight'] : undefined;
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  return Number.isFinite(value) && value !== 0 ? value : undefined;
}
