/**
 * The Hugging Face cache (what huggingface_hub writes and reads): `<cache>/models--owner--name/` with
 * `blobs/<sha256 or git oid>`, `snapshots/<commit>/<path>` relative symlinks into blobs/, and `refs/<branch>`
 * holding a commit. Lists the snapshots that hold a diffusers ONNX pipeline (at the root or in a subfolder such
 * as onnx/), with their family, without loading ONNX Runtime.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectModelFamily, type ModelFamily } from '../engine/model';
import { isDir, isFile } from '../engine/model';

/**
 * The hub cache folder as huggingface_hub finds it: HF_HUB_CACHE (or the older HUGGINGFACE_HUB_CACHE), else
 * HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
 */
export function hfCacheDir(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  const expand = (p: string): string => (p === '~' || p.startsWith('~/') ? path.join(home, p.slice(1)) : p);
  if (env.HF_HUB_CACHE) return expand(env.HF_HUB_CACHE);
  if (env.HUGGINGFACE_HUB_CACHE) return expand(env.HUGGINGFACE_HUB_CACHE);
  if (env.HF_HOME) return path.join(expand(env.HF_HOME), 'hub');
  const xdg = env.XDG_CACHE_HOME ? expand(env.XDG_CACHE_HOME) : path.join(home, '.cache');
  return path.join(xdg, 'huggingface', 'hub');
}

/** "owner/name" → "models--owner--name". */
export function repoFolderName(repoId: string): string {
  return `models--${repoId.split('/').join('--')}`;
}

/** "models--owner--name" → "owner/name" (undefined for other folders). */
export function repoIdFromFolder(folder: string): string | undefined {
  if (!folder.startsWith('models--')) return undefined;
  const parts = folder.slice('models--'.length).split('--');
  return parts.length >= 1 && parts.length <= 2 && parts.every((p) => p !== '') ? parts.join('/') : undefined;
}

export interface HfCachedModel {
  readonly repoId: string;
  /** The snapshot's commit. */
  readonly commit: string;
  /** Branches and tags in refs/ that point at this commit ("main", …). */
  readonly refs: string[];
  /** The folder holding model_index.json (the snapshot, or e.g. its onnx/ subfolder): give it to readModelFolder. */
  readonly dir: string;
  readonly family: ModelFamily;
  /** What the folder's configs say about the family (for a tooltip), or why it could not be told. */
  readonly familyEvidence: string;
}

function listDirs(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() || (e.isSymbolicLink() && isDir(path.join(dir, e.name))))
      .map((e) => e.name)
      .filter((n) => !n.startsWith('.'))
      .sort();
  } catch {
    return [];
  }
}



/** The pipeline folder in a snapshot: the snapshot itself, else one subfolder (onnx/, …) with model_index.json + unet/model.onnx. */
export function findPipelineDir(snapshot: string): string | undefined {
  const isPipeline = (d: string): boolean => isFile(path.join(d, 'model_index.json')) && isFile(path.join(d, 'unet', 'model.onnx'));
  if (isPipeline(snapshot)) return snapshot;
  const preferred = ['onnx', ...listDirs(snapshot).filter((n) => n !== 'onnx')];
  for (const name of preferred) {
    const d = path.join(snapshot, name);
    if (isPipeline(d)) return d;
  }
  return undefined;
}

function readRefs(repoDir: string): Map<string, string[]> {
  const byCommit = new Map<string, string[]>();
  const walk = (dir: string, prefix: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p, `${prefix}${e.name}/`);
      else {
        const commit = fs.readFileSync(p, 'utf8').trim();
        byCommit.set(commit, [...(byCommit.get(commit) ?? []), `${prefix}${e.name}`]);
      }
    }
  };
  walk(path.join(repoDir, 'refs'), '');
  return byCommit;
}

/** Every snapshot in the cache that holds a diffusers ONNX pipeline, by repo id then commit. */
export function listHfCacheModels(cacheDir: string = hfCacheDir()): HfCachedModel[] {
  const out: HfCachedModel[] = [];
  for (const folder of listDirs(cacheDir)) {
    const repoId = repoIdFromFolder(folder);
    if (repoId === undefined) continue;
    const repoDir = path.join(cacheDir, folder);
    const refs = readRefs(repoDir);
    for (const commit of listDirs(path.join(repoDir, 'snapshots'))) {
      const dir = findPipelineDir(path.join(repoDir, 'snapshots', commit));
      if (dir === undefined) continue;
      let family: ModelFamily = 'sd1';
      let familyEvidence: string;
      try {
        const f = detectModelFamily(dir);
        family = f.family;
        familyEvidence = f.evidence.join('; ');
      } catch (e) {
        familyEvidence = `could not read its configs: ${(e as Error).message}`;
      }
      out.push({ repoId, commit, refs: (refs.get(commit) ?? []).sort(), dir, family, familyEvidence });
    }
  }
  return out.sort((a, b) => a.repoId.localeCompare(b.repoId) || a.commit.localeCompare(b.commit));
}
