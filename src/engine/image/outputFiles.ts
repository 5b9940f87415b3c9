import { closeSync, constants, copyFileSync, existsSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
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

/** `name.png` if free in dir, else `name-1.png`, `name-2.png`, … (never overwrites). */
export function uniquePath(dir: string, fileName: string, exists: (p: string) => boolean = existsSync): string {
  const ext = extname(fileName);
  const stem = fileName.slice(0, fileName.length - ext.length);
  let candidate = join(dir, fileName);
  for (let i = 1; exists(candidate); i++) candidate = join(dir, `${stem}-${i}${ext}`);
  return candidate;
}

/**
 * Writes bytes atomically: a temporary file in the same folder, fsync, then rename. With `overwrite` false the final
 * step is a hard link, which fails with EEXIST instead of replacing a file that appeared meanwhile.
 */
export function writeFileAtomic(target: string, data: Uint8Array, overwrite = true): void {
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'wx');
  try {
    for (let written = 0; written < data.length;) written += writeSync(fd, data, written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    if (overwrite) renameSync(tmp, target);
    else linkOrCopyExclusive(tmp, target);
  } finally {
    if (!overwrite || existsSync(tmp)) removeIfPresent(tmp);
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
