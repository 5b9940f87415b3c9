import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Folder name of the embedded default model under models/ (trained by models/train/). */
export const DEFAULT_MODEL_NAME = 'shapes-64';

/**
 * The embedded model's folder: models/<name> found upwards from this file's folder, which is dist/ in a bundle and
 * src/engine/model/ in tests. Returns the first candidate that has a model_index.json, else the dist/-relative guess.
 */
export function defaultModelDir(from: string = __dirname): string {
  let dir = from;
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'models', DEFAULT_MODEL_NAME);
    if (existsSync(join(candidate, 'model_index.json'))) return candidate;
    dir = dirname(dir);
  }
  return resolve(from, '..', 'models', DEFAULT_MODEL_NAME);
}
