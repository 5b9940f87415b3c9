import * as path from 'node:path';

/** Whether `file` lies inside `folder` (below it, not the folder itself), by path alone: nothing is read. */
export function isInside(folder: string, file: string): boolean {
  const rel = path.relative(folder, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
