/**
 * The shared steps of both install layouts: where each file goes and what is already there, the free-space
 * check (needed vs free, before any download), and fetching every file with one retry after a checksum mismatch.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fetchFile, partPathOf } from './fetchFile';
import type { HubClient, RepoFile, RepoInfo } from './hubClient';
import { HubError, formatBytes } from './hubError';
import type { DownloadModelOptions, ManifestFile } from './installTypes';
import type { ProgressTracker } from './progress';

/** Free bytes on the disk that holds `dir` (or its nearest existing parent), from fs.statfs. */
export async function statfsFreeBytes(dir: string): Promise<number> {
  let d = path.resolve(dir);
  while (!fs.existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  const s = await fsp.statfs(d);
  return Number(s.bavail) * Number(s.bsize);
}

/** Where each file goes and whether it is already complete (its verified copy exists). */
export interface Plan {
  readonly file: RepoFile;
  readonly target: string;
  readonly complete: boolean;
  readonly partialBytes: number;
}

export function sizeIf(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return -1;
  }
}

export function planFiles(files: readonly RepoFile[], targetOf: (f: RepoFile) => string): Plan[] {
  return files.map((file) => {
    const target = targetOf(file);
    const complete = sizeIf(target) === file.size;
    return { file, target, complete, partialBytes: complete ? 0 : Math.max(0, sizeIf(partPathOf(target))) };
  });
}

export async function checkFreeSpace(plans: readonly Plan[], dir: string, opts: DownloadModelOptions): Promise<void> {
  const needed = plans.reduce((s, p) => s + (p.complete ? 0 : Math.max(0, p.file.size - p.partialBytes)), 0);
  if (needed === 0) return;
  const free = await (opts.freeSpace ?? statfsFreeBytes)(dir);
  if (needed > free) {
    throw new HubError('disk-space',
      `Not enough disk space for ${opts.repoId}: it needs ${formatBytes(needed)} more, ${formatBytes(free)} are free on the disk of ${dir}`);
  }
}

/** Fetches every planned file (each retried once after a checksum mismatch). */
export async function fetchAll(plans: readonly Plan[], client: HubClient, info: RepoInfo, tracker: ProgressTracker, signal?: AbortSignal): Promise<void> {
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

/** The manifest's file entries: paths inside the model folder (the repo path less `prefix`). */
export function manifestFiles(files: readonly RepoFile[], prefix: string): ManifestFile[] {
  return files.map((f) => ({
    path: f.path.slice(prefix.length), repoPath: f.path, size: f.size,
    ...(f.sha256 ? { sha256: f.sha256 } : {}), ...(f.gitOid ? { gitOid: f.gitOid } : {}),
  }));
}
