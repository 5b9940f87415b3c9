/**
 * Every model the panel offers, from every place one can be: the `inlineDiffusion.model` setting, the embedded
 * model, folders added with "Add Model…", models downloaded into the extension's global storage, and the Hugging
 * Face cache (listed without asking). Each with its family, read from its configs (no ONNX Runtime). No `vscode`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectModelFamily, type ModelFamily } from '../engine/model';
import { listHfCacheModels } from '../hub/hfCache';
import { MANIFEST_FILE, readManifest } from '../hub/install';
import { listModels, type ModelEntry } from './modelChoices';
export { familyName } from './modelChoices';

export interface ModelLocations {
  /** The `inlineDiffusion.model` setting ("" = none). */
  readonly setting: string;
  readonly workspaceFolder: string | undefined;
  readonly embeddedDir: string;
  /** Folders added with "Add Model…". */
  readonly added: readonly string[];
  /** The 'global' download layout's root (<globalStorage>/models), if any. */
  readonly downloadRoot?: string;
  /** The Hugging Face hub cache folder, if it should be listed. */
  readonly hfCache?: string;
}

/** Models installed under the 'global' layout: folders with a manifest.json (half-done `.partial` ones are not). */
export function listDownloadedModels(root: string): Array<{ dir: string; repoId: string; commit: string }> {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return [];
  }
  const out: Array<{ dir: string; repoId: string; commit: string }> = [];
  for (const name of names.sort()) {
    if (name.startsWith('.') || name.endsWith('.partial') || name.includes('.old-')) continue;
    const dir = path.join(root, name);
    if (!fs.existsSync(path.join(dir, MANIFEST_FILE)) || !fs.existsSync(path.join(dir, 'model_index.json'))) continue; // not a pipeline (a TAESD decoder)
    const manifest = readManifest(dir);
    if (manifest === undefined) continue;
    out.push({ dir, repoId: manifest.repo, commit: manifest.commit });
  }
  return out;
}

/** The family of a model folder, or null when its configs cannot be read. */
export function familyOf(dir: string): ModelFamily | null {
  try {
    return detectModelFamily(dir).family;
  } catch {
    return null;
  }
}

/** Setting first (it is the default when set), then embedded, added, downloaded, and the HF cache; each folder once. */
export function listAllModels(loc: ModelLocations): ModelEntry[] {
  const entries: ModelEntry[] = [...listModels(loc.setting, loc.workspaceFolder, loc.embeddedDir)];
  const seen = new Set(entries.map((e) => path.resolve(e.dir)));
  const push = (dir: string, label: string, source: ModelEntry['source']): void => {
    const key = path.resolve(dir);
    if (seen.has(key)) return;
    seen.add(key);
    entries.push({ id: dir, dir, label, embedded: false, source });
  };
  for (const dir of loc.added) push(dir, `${path.basename(dir)} (added)`, 'added');
  if (loc.downloadRoot !== undefined) {
    for (const m of listDownloadedModels(loc.downloadRoot)) push(m.dir, `${m.repoId} (downloaded)`, 'downloaded');
  }
  if (loc.hfCache !== undefined) {
    const cached = listHfCacheModels(loc.hfCache);
    for (const m of cached) {
      const several = cached.filter((c) => c.repoId === m.repoId).length > 1;
      const at = several ? ` @${m.refs[0] ?? m.commit.slice(0, 7)}` : '';
      push(m.dir, `${m.repoId}${at} (Hugging Face cache)`, 'hf-cache');
    }
  }
  return entries.map((e) => ({ ...e, family: e.family ?? familyOf(e.dir) }));
}
