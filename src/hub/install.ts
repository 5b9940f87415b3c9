/**
 * Downloads a diffusers ONNX pipeline from the Hub and installs it atomically, in one of two layouts:
 * - 'global': `<root>/<owner>--<name>/` (the extension's global storage) with a manifest.json; files grow in
 *   `<root>/<owner>--<name>.partial/` and the folder is renamed into place only when every file is verified.
 * - 'hf-cache': the Hugging Face cache (`models--owner--name/blobs|snapshots|refs`) so Python tools reuse it
 *   (installHfCache.ts).
 * Free disk space is checked first; a checksum mismatch deletes the file and downloads it once more.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { selectPipelineFiles } from './fileSelection';
import { HubClient, type RepoFile, type RepoInfo, parseRepoId } from './hubClient';
import { HubError } from './hubError';
import { withDownloadLock } from './downloadLock';
import { repoFolderName } from './hfCache';
import { installHfCache } from './installHfCache';
import { assertInside, assertRepoPath } from './repoPath';
import { checkFreeSpace, fetchAll, manifestFiles, planFiles } from './plan';
import { ProgressTracker } from './progress';
import type { DownloadModelOptions, InstalledModel, Manifest } from './installTypes';

export type { DownloadModelOptions, InstalledModel, InstallLayout, Manifest, ManifestFile, PinnedFile } from './installTypes';

export const MANIFEST_FILE = 'manifest.json';

/** The folder a repo is installed in under the 'global' layout. */
export function globalModelDir(root: string, repoId: string): string {
  return path.join(root, repoId.split('/').join('--'));
}

/** Picks the files to fetch: the catalog's pinned list (checked against the Hub), or the pipeline found in the listing. */
function chooseFiles(info: RepoInfo, opts: DownloadModelOptions): { prefix: string; files: RepoFile[] } {
  if (opts.files === undefined || opts.files === 'auto') {
    const sel = selectPipelineFiles(info.repoId, info.files, opts.subfolder);
    return { prefix: sel.prefix, files: sel.files };
  }
  const byPath = new Map(info.files.map((f) => [f.path, f]));
  const files = opts.files.map((pin) => {
    const f = byPath.get(pin.path);
    if (f === undefined) throw new HubError('not-found', `${info.repoId}@${info.revision}: the catalog's file ${pin.path} is not in the repo`);
    if (pin.sha256 !== undefined && f.sha256 !== undefined && pin.sha256 !== f.sha256) {
      throw new HubError('integrity', `${info.repoId}/${pin.path}: the catalog expects sha256 ${pin.sha256}, the Hub lists ${f.sha256} (the repo changed?)`);
    }
    if (pin.size !== undefined && pin.size !== f.size) {
      throw new HubError('integrity', `${info.repoId}/${pin.path}: the catalog expects ${pin.size} bytes, the Hub lists ${f.size} (the repo changed?)`);
    }
    return pin.sha256 !== undefined && f.sha256 === undefined ? { ...f, sha256: pin.sha256 } : f;
  });
  const prefix = opts.subfolder === undefined || opts.subfolder === '' ? '' : `${opts.subfolder.replace(/\/+$/, '')}/`;
  return { prefix, files };
}

/** Downloads `opts.repoId` at `opts.revision` and installs it; returns where the model folder is. */
export async function downloadModel(opts: DownloadModelOptions): Promise<InstalledModel> {
  const repoId = parseRepoId(opts.repoId);
  const revision = opts.revision ?? 'main';
  assertRepoPath(revision, `The revision of ${repoId}`);
  if (opts.subfolder !== undefined && opts.subfolder.replace(/\/+$/, '') !== '') assertRepoPath(opts.subfolder.replace(/\/+$/, ''), `The subfolder of ${repoId}`);
  const client = opts.client instanceof HubClient ? opts.client : new HubClient(opts.client ?? {});
  const info = await client.getRepoInfo(repoId, revision, opts.signal);
  const { prefix, files } = chooseFiles(info, opts);
  const tracker = new ProgressTracker(opts.onProgress, opts.progressIntervalMs ?? 250, files.reduce((s, f) => s + f.size, 0), files.length);
  // One writer per destination: <root>/<owner>--<name>.lock, or the HF cache's .locks/models--owner--name/.
  const lockFile = opts.layout === 'global'
    ? `${globalModelDir(opts.root, info.repoId)}.lock`
    : path.join(opts.root, '.locks', repoFolderName(info.repoId), 'inline-diffusion.lock');
  return withDownloadLock(lockFile, info.repoId, () => (opts.layout === 'global'
    ? installGlobal(opts, client, info, prefix, files, tracker)
    : installHfCache(opts, client, info, prefix, files, tracker)));
}

export function readManifest(dir: string): Manifest | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

async function installGlobal(opts: DownloadModelOptions, client: HubClient, info: RepoInfo, prefix: string,
  files: RepoFile[], tracker: ProgressTracker): Promise<InstalledModel> {
  const finalDir = globalModelDir(opts.root, info.repoId);
  const result = (alreadyInstalled: boolean): InstalledModel => ({
    dir: finalDir, repoId: info.repoId, revision: info.revision, commit: info.commit, layout: 'global', files: manifestFiles(files, prefix), alreadyInstalled,
  });
  const existing = readManifest(finalDir);
  if (existing?.commit === info.commit && existing.subfolder === prefix) {
    tracker.update({ phase: 'done', bytesDone: tracker.snapshot().bytesTotal, file: null });
    return result(true);
  }
  const partial = `${finalDir}.partial`;
  // A partial folder from another commit holds other files: start afresh.
  const stateFile = path.join(partial, '.download.json');
  const state = fs.existsSync(stateFile) ? (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { commit?: string; subfolder?: string }) : undefined;
  if (state === undefined || state.commit !== info.commit || state.subfolder !== prefix) await fsp.rm(partial, { recursive: true, force: true });
  await fsp.mkdir(partial, { recursive: true });
  await fsp.writeFile(stateFile, JSON.stringify({ repo: info.repoId, commit: info.commit, subfolder: prefix }));

  const plans = planFiles(files, (f) => path.join(partial, ...f.path.slice(prefix.length).split('/')));
  for (const p of plans) assertInside(partial, p.target, `${info.repoId}/${p.file.path}`);
  tracker.update({ bytesDone: plans.reduce((s, p) => s + (p.complete ? p.file.size : p.partialBytes), 0) });
  await checkFreeSpace(plans, opts.root, opts);
  await fetchAll(plans, client, info, tracker, opts.signal);

  tracker.update({ phase: 'installing', file: null });
  const manifest: Manifest = {
    repo: info.repoId, revision: info.revision, commit: info.commit, subfolder: prefix,
    files: manifestFiles(files, prefix), installedAt: new Date().toISOString(),
  };
  await fsp.writeFile(path.join(partial, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  await fsp.rm(stateFile, { force: true });
  if (fs.existsSync(finalDir)) {
    const old = `${finalDir}.old-${Date.now()}`;
    await fsp.rename(finalDir, old);
    await fsp.rename(partial, finalDir);
    await fsp.rm(old, { recursive: true, force: true });
  } else {
    await fsp.rename(partial, finalDir);
  }
  tracker.update({ phase: 'done' });
  return result(false);
}

export { statfsFreeBytes } from './plan';
