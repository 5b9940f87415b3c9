import * as fs from 'node:fs';
import * as path from 'node:path';

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
export function uniquePath(dir: string, fileName: string, exists: (p: string) => boolean = fs.existsSync): string {
  const ext = path.extname(fileName);
  const stem = fileName.slice(0, fileName.length - ext.length);
  let candidate = path.join(dir, fileName);
  for (let i = 1; exists(candidate); i++) candidate = path.join(dir, `${stem}-${i}${ext}`);
  return candidate;
}

/**
 * Writes bytes atomically: a temporary file in the same folder, fsync, then rename. With `overwrite` false the final
 * step is a hard link, which fails with EEXIST instead of replacing a file that appeared meanwhile.
 */
export function writeFileAtomic(target: string, data: Uint8Array, overwrite = true): void {
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(tmp, 'wx');
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    if (overwrite) fs.renameSync(tmp, target);
    else linkOrCopyExclusive(tmp, target);
  } finally {
    if (!overwrite || fs.existsSync(tmp)) fs.rmSync(tmp, { force: true });
  }
}

function linkOrCopyExclusive(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw err;
    fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL); // file systems without hard links
  }
}
