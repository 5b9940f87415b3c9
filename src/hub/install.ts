/**
 * Downloads a diffusers ONNX pipeline from the Hub and installs it atomically, in one of two layouts:
 * - 'global': `<root>/<owner>--<name>/` (the extension's global storage) with a manifest.json; files grow in
 *   `<root>/<owner>--<name>.partial/` and the folder is renamed into place only when every file is verified.
 * - 'hf-cache': the Hugging Face cache (`models--owner--name/blobs|snapshots|refs`) so Python tools reuse it;
 *   blobs grow as `blobs/<id>.incomplete` (huggingface_hub's own name) and the snapshot's symlinks are made in
 *   a staging folder renamed to `snapshots/<commit>` at the end.
 * Free disk space is checked first; a checksum mismatch deletes the file and downloads it once more.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fetchFile, partPathOf } from './fetchFile';
import { selectPipelineFiles } from './fileSelection';
import { HubClient, type HubClientOptions, type RepoFile, type RepoInfo, parseRepoId } from './hubClient';
import { HubError, formatBytes } from './hubError';
import { repoFolderName } from './hfCache';
import { type ProgressListener, ProgressTracker } from './progress';

export type InstallLayout = 'global' | 'hf-cache';

/** A file the catalog pins: its path in the repo and, where known, its sha256. */
export interface PinnedFile {
  readonly path: string;
  readonly sha256?: string;
}

export interface DownloadModelOptions {
  readonly repoId: string;
  /** Branch, tag or commit; default "main". */
  readonly revision?: string;
  readonly layout: InstallLayout;
  /** 'global': the folder that holds installed models; 'hf-cache': the hub cache folder (hfCacheDir()). */
  readonly root: string;
  readonly client?: HubClient | HubClientOptions;
  /** Default: the pipeline's files found in the repo's listing ('auto'). */
  readonly files?: 'auto' | readonly PinnedFile[];
  /** The folder of the pipeline inside the repo ("onnx"); default: found in the listing. */
  readonly subfolder?: string;
  readonly onProgress?: ProgressListener;
  /** Least time between progress reports; default 250 ms. */
  readonly progressIntervalMs?: number;
  readonly signal?: AbortSignal;
  /** Free bytes on the disk holding `dir` (injectable for tests); default fs.statfs. */
  readonly freeSpace?: (dir: string) => Promise<number>;
  readonly log?: (message: string) => void;
}

export interface ManifestFile {
  /** Path inside the installed model folder. */
  readonly path: string;
  /** Path in the repo. */
  readonly repoPath: string;
  readonly size: number;
  readonly sha256?: string;
  readonly gitOid?: string;
}

/** manifest.json of a model in the 'global' layout. */
export interface Manifest {
  readonly repo: string;
  readonly revision: string;
  readonly commit: string;
  readonly subfolder: string;
  readonly files: ManifestFile[];
  readonly installedAt: string;
}

export interface InstalledModel {
  /** The folder with model_index.json: give it to readModelFolder. */
  readonly dir: string;
  readonly repoId: string;
  readonly revision: string;
  readonly commit: string;
  readonly layout: InstallLayout;
  readonly files: ManifestFile[];
  /** True when this commit was installed before and nothing was downloaded. */
  readonly alreadyInstalled: boolean;
}

export const MANIFEST_FILE = 'manifest.json';

/** The folder a repo is installed in under the 'global' layout. */
export function globalModelDir(root: string, repoId: string): string {
  return path.join(root, repoId.split('/').join('--'));
}

export async function statfsFreeBytes(dir: string): Promise<number> {
  let d = path.resolve(dir);
  while (!fs.existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  const s = await fsp.statfs(d);
  return Number(s.bavail) * Number(s.bsize);
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
    return pin.sha256 !== undefined && f.sha256 === undefined ? { ...f, sha256: pin.sha256 } : f;
  });
  const prefix = opts.subfolder === undefined || opts.subfolder === '' ? '' : `${opts.subfolder.replace(/\/+$/, '')}/`;
  return { prefix, files };
}

/** Where each file goes and whether it is already complete (its verified copy exists). */
interface Plan {
  readonly file: RepoFile;
  readonly target: string;
  readonly complete: boolean;
  readonly partialBytes: number;
}

function sizeIf(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return -1;
  }
}

function planFiles(files: readonly RepoFile[], targetOf: (f: RepoFile) => string): Plan[] {
  return files.map((file) => {
    const target = targetOf(file);
    const complete = sizeIf(target) === file.size;
    return { file, target, complete, partialBytes: complete ? 0 : Math.max(0, sizeIf(partPathOf(target))) };
  });
}

async function checkFreeSpace(plans: readonly Plan[], dir: string, opts: DownloadModelOptions): Promise<void> {
  const needed = plans.reduce((s, p) => s + (p.complete ? 0 : Math.max(0, p.file.size - p.partialBytes)), 0);
  if (needed === 0) return;
  const free = await (opts.freeSpace ?? statfsFreeBytes)(dir);
  if (needed > free) {
    throw new HubError('disk-space',
      `Not enough disk space for ${opts.repoId}: it needs ${formatBytes(needed)} more, ${formatBytes(free)} are free on the disk of ${dir}`);
  }
}

/** Fetches every planned file (each retried once after a checksum mismatch). */
async function fetchAll(plans: readonly Plan[], client: HubClient, info: RepoInfo, tracker: ProgressTracker, signal?: AbortSignal): Promise<void> {
  for (let i = 0; i < plans.length; i++) {
    const { file, target, complete } = plans[i];
    tracker.update({ phase: 'downloading', file: file.path, fileIndex: i, fileBytesTotal: file.size, fileBytesDone: complete ? file.size : Math.max(0, sizeIf(partPathOf(target))) });
    if (complete) continue;
    const url = client.resolveUrl(info.repoId, info.commit, file.path);
    const once = (): Promise<void> => fetchFile({ client, repoId: info.repoId, url, file, finalPath: target, tracker, signal });
    try {
      await once();
    } catch (e) {
      if (!(e instanceof HubError) || e.kind !== 'integrity') throw e;
      tracker.update({ fileBytesDone: 0 });
      try {
        await once();
      } catch (again) {
        if (again instanceof HubError && again.kind === 'integrity') {
          throw new HubError('integrity', `${again.message}. It failed the check twice, so nothing was installed; try again later or report it to the repo's owner`);
        }
        throw again;
      }
    }
  }
}

/** Downloads `opts.repoId` at `opts.revision` and installs it; returns where the model folder is. */
export async function downloadModel(opts: DownloadModelOptions): Promise<InstalledModel> {
  const repoId = parseRepoId(opts.repoId);
  const revision = opts.revision ?? 'main';
  const client = opts.client instanceof HubClient ? opts.client : new HubClient(opts.client ?? {});
  const info = await client.getRepoInfo(repoId, revision, opts.signal);
  const { prefix, files } = chooseFiles(info, opts);
  const tracker = new ProgressTracker(opts.onProgress, opts.progressIntervalMs ?? 250, files.reduce((s, f) => s + f.size, 0), files.length);
  return opts.layout === 'global'
    ? installGlobal(opts, client, info, prefix, files, tracker)
    : installHfCache(opts, client, info, prefix, files, tracker);
}

function manifestFiles(files: readonly RepoFile[], prefix: string): ManifestFile[] {
  return files.map((f) => ({
    path: f.path.slice(prefix.length), repoPath: f.path, size: f.size,
    ...(f.sha256 ? { sha256: f.sha256 } : {}), ...(f.gitOid ? { gitOid: f.gitOid } : {}),
  }));
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

/** A snapshot link: relative, as huggingface_hub makes it; a hard link or a copy where symlinks are not allowed. */
async function linkBlob(linkPath: string, blob: string): Promise<void> {
  await fsp.mkdir(path.dirname(linkPath), { recursive: true });
  await fsp.rm(linkPath, { force: true });
  try {
    await fsp.symlink(path.relative(path.dirname(linkPath), blob), linkPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    await fsp.link(blob, linkPath).catch(() => fsp.copyFile(blob, linkPath));
  }
}

async function installHfCache(opts: DownloadModelOptions, client: HubClient, info: RepoInfo, prefix: string,
  files: RepoFile[], tracker: ProgressTracker): Promise<InstalledModel> {
  const repoDir = path.join(opts.root, repoFolderName(info.repoId));
  const blobName = (f: RepoFile): string => {
    const id = f.sha256 ?? f.gitOid;
    if (id === undefined) throw new HubError('bad-response', `${info.repoId}/${f.path}: the Hub lists no checksum for it, which the Hugging Face cache layout names blobs by`);
    return id;
  };
  const snapshot = path.join(repoDir, 'snapshots', info.commit);
  const linkOf = (f: RepoFile): string => path.join(snapshot, ...f.path.split('/'));
  const result = (alreadyInstalled: boolean): InstalledModel => ({
    dir: path.join(snapshot, ...prefix.split('/').filter(Boolean)), repoId: info.repoId, revision: info.revision, commit: info.commit,
    layout: 'hf-cache', files: manifestFiles(files, ''), alreadyInstalled,
  });
  const plans = planFiles(files, (f) => path.join(repoDir, 'blobs', blobName(f)));
  const linked = files.every((f) => sizeIf(linkOf(f)) === f.size);
  if (linked) {
    await writeRef(repoDir, info);
    tracker.update({ phase: 'done', bytesDone: tracker.snapshot().bytesTotal, file: null });
    return result(true);
  }
  tracker.update({ bytesDone: plans.reduce((s, p) => s + (p.complete ? p.file.size : p.partialBytes), 0) });
  await fsp.mkdir(path.join(repoDir, 'blobs'), { recursive: true });
  await checkFreeSpace(plans, opts.root, opts);
  await fetchAll(plans, client, info, tracker, opts.signal);

  tracker.update({ phase: 'installing', file: null });
  if (fs.existsSync(snapshot)) {
    // huggingface_hub (or an earlier run) made this snapshot: add the missing links in place.
    for (const p of plans) await linkBlob(linkOf(p.file), p.target);
  } else {
    // Staged at the same depth as snapshots/<commit>, so the relative links stay right after the rename.
    const staging = path.join(repoDir, '.incomplete-snapshots', info.commit);
    await fsp.rm(staging, { recursive: true, force: true });
    for (const p of plans) await linkBlob(path.join(staging, ...p.file.path.split('/')), p.target);
    await fsp.mkdir(path.dirname(snapshot), { recursive: true });
    await fsp.rename(staging, snapshot);
    await fsp.rm(path.dirname(staging), { recursive: true, force: true });
  }
  await writeRef(repoDir, info);
  tracker.update({ phase: 'done' });
  return result(false);
}

/** refs/<revision> ← commit, when the revision is a branch or tag (as huggingface_hub does). */
async function writeRef(repoDir: string, info: RepoInfo): Promise<void> {
  if (info.revision === info.commit) return;
  const ref = path.join(repoDir, 'refs', ...info.revision.split('/'));
  await fsp.mkdir(path.dirname(ref), { recursive: true });
  const tmp = `${ref}.tmp-${process.pid}`;
  await fsp.writeFile(tmp, info.commit);
  await fsp.rename(tmp, ref);
}
