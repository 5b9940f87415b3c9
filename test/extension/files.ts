/** Files the extension writes into the workspace: new PNGs, their `parameters` text, the naming rule. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readPngText } from '../../src/engine/image/png';

/** PNG files (workspace-relative paths) below `dir`. */
export function listPngs(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const entry of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.png')) found.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return found.sort();
}

/** Issue 4's file name rule: the prompt lower-cased, runs of other than a–z0–9 → '-', trimmed, ≤ 60 characters. */
export function promptSlug(prompt: string): string {
  const slug = prompt.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60).replace(/-+$/, '');
  return slug === '' ? 'image' : slug;
}

export interface SavedPng {
  readonly file: string;
  readonly parameters: string;
  readonly seed: number;
}

/** Reads a saved PNG's `parameters` chunk (src/engine/image/png.ts readPngText) and its seed. */
export function readSavedPng(file: string): SavedPng {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const text = readPngText(bytes);
  const parameters = text.parameters;
  if (typeof parameters !== 'string') {
    throw new Error(`expected a 'parameters' text chunk in ${file}; found chunks: ${JSON.stringify(Object.keys(text))}`);
  }
  const seed = /(?:^|, )Seed: (\d+)/m.exec(parameters);
  if (!seed) throw new Error(`expected 'Seed: N' in the parameters of ${file}; got: ${parameters}`);
  return { file, parameters, seed: Number(seed[1]) };
}

/** True when `name` follows the naming rule for this prompt and seed (with an optional -1, -2 … suffix). */
export function isNamedFor(name: string, prompt: string, seed: number): boolean {
  const base = `${promptSlug(prompt)}-${seed}`;
  return name === `${base}.png` || new RegExp(`^${base}-\\d+\\.png$`).test(name);
}
