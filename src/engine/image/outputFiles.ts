import { closeSync, constants, copyFileSync, fsyncSync, linkSync, lstatSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

/**
 * File names for generated images, shared by the CLI and the extension host:
 * the prompt lower-cased, runs of other than a–z0–9 → "-", trimmed of "-", at most 60 characters ("image" when
 * empty), then "-<seed>.png".
 */
export function slugifyPrompt(prompt: string, maxLength = 60): string {
  const slug = prompt.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const cut = slug.slice(0, maxLength).replace(/-+$/, '');
  return cut || 'image';
}

export function imageFileName(prompt: string, seed: number): string {
  return `${slugifyPrompt(prompt)}-${seed}.png`;
}

/** Whether anything is at `p`: a file, a folder, or a symlink, dangling ones included (lstat). */
function isTaken(p: string): boolean {
  return lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}

/** `name.png` if free in dir, else `name-1.png`, `name-2.png`, … (never overwrites; a dangling symlink counts as taken). */
export function uniquePath(dir: string, fileName: string, exists: (p: string) => boolean = isTaken): string {
  const ext = extname(fileName);
  const stem = fileName.slice(0, fileName.length - ext.length);
  let candidate = join(dir, fileName);
  for (let i = 1; exists(candidate); i++) candidate = join(dir, `${stem}-${i}${ext}`);
  return candidate;
}

/**
 * Writes bytes atomically: a temporary file in the same folder, fsync, then rename, then the folder fsynced so the
 * new name survives a crash. With `overwrite` false the final step is a hard link, which fails with EEXIST instead
 * of replacing a file that appeared meanwhile. On any failure (a full disk included) the temporary file is removed.
 */
export function writeFileAtomic(target: string, data: Uint8Array, overwrite = true): void {
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'wx');
  let renamed = false;
  try {
    try {
      for (let written = 0; written < data.length;) written += writeSync(fd, data, written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (overwrite) {
      renameSync(tmp, target);
      renamed = true;
    } else {
      linkOrCopyExclusive(tmp, target);
    }
  } finally {
    if (!renamed) removeIfPresent(tmp);
  }
  fsyncFolder(dir);
}

/** fsync of a folder, so a rename or link in it is on disk; where folders cannot be opened (Windows) it is skipped. */
function fsyncFolder(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR' && code !== 'ENOTSUP') throw err;
  } finally {
    closeSync(fd);
  }
}

/** unlink, quiet when the file is already gone (fs.rmSync would load its rimraf module for this: ~0.5 ms). */
function removeIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function linkOrCopyExclusive(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw err;
    copyFileSync(from, to, constants.COPYFILE_EXCL); // file systems without hard links
  }
}
