/**
 * The Hugging Face cache layout (so Python tools reuse the download): blobs grow as `blobs/<id>.incomplete`
 * (huggingface_hub's own name) and are renamed when verified; the snapshot's relative symlinks are made in a
 * staging folder at the same depth and renamed to `snapshots/<commit>` at the end; `refs/<branch>` is written last.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { HubClient, RepoFile, RepoInfo } from './hubClient';
import { HubError } from './hubError';
import { repoFolderName } from './hfCache';
import type { DownloadModelOptions, InstalledModel } from './installTypes';
import { checkFreeSpace, fetchAll, manifestFiles, planFiles, sizeIf } from './plan';
import type { ProgressTracker } from './progress';
import { assertInside } from './repoPath';

/** A snapshot link: relative, as huggingface_hub makes it; a hard link or a copy where symlinks are not allowed. */
async function linkBlob(root: string, linkPath: string, blob: string): Promise<void> {
  assertInside(root, linkPath, 'A snapshot link');
  await fsp.mkdir(path.dirname(linkPath), { recursive: true });
  assertInside(root, linkPath, 'A snapshot link');
  await fsp.rm(linkPath, { force: true });
  try {
    await fsp.symlink(path.relative(path.dirname(linkPath), blob), linkPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    await fsp.link(blob, linkPath).catch(() => fsp.copyFile(blob, linkPath));
  }
}

export async function installHfCache(opts: DownloadModelOptions, client: HubClient, info: RepoInfo, prefix: string,
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
  for (const p of plans) {
    assertInside(snapshot, linkOf(p.file), `${info.repoId}/${p.file.path}`);
    assertInside(path.join(repoDir, 'blobs'), p.target, `${info.repoId}/${p.file.path}`);
  }
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
    for (const p of plans) await linkBlob(snapshot, linkOf(p.file), p.target);
  } else {
    // Staged at the same depth as snapshots/<commit>, so the relative links stay right after the rename.
    const staging = path.join(repoDir, '.incomplete-snapshots', info.commit);
    await fsp.rm(staging, { recursive: true, force: true });
    for (const p of plans) await linkBlob(staging, path.join(staging, ...p.file.path.split('/')), p.target);
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
  assertInside(path.join(repoDir, 'refs'), ref, `The ref of ${info.repoId}@${info.revision}`);
  await fsp.mkdir(path.dirname(ref), { recursive: true });
  const tmp = `${ref}.tmp-${process.pid}`;
  await fsp.writeFile(tmp, info.commit);
  await fsp.rename(tmp, ref);
}
