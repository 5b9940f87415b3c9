import { statSync } from 'node:fs';

/** Whether `p` is a file (following symlinks: a dangling link is no file). */
export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Whether `p` is a folder (following symlinks). */
export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
