/**
 * Where and how generated images are saved: `<outputFolder>` in the workspace folder of the active document, else the
 * first workspace folder; named from the prompt and seed; never overwriting; written atomically, the PNG as the
 * engine made it (with its `parameters` chunk). No `vscode` import.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { imageFileName, uniquePath, writeFileAtomic } from '../engine/image';

/**
 * The folder to save into, or undefined when there is no workspace folder (then the caller asks with a dialog).
 * An absolute `outputFolder` is used as it is.
 */
export function resolveOutputFolder(outputFolder: string, documentWorkspaceFolder: string | undefined,
  firstWorkspaceFolder: string | undefined): string | undefined {
  const folder = outputFolder.trim() || 'images';
  if (path.isAbsolute(folder)) return folder;
  const root = documentWorkspaceFolder ?? firstWorkspaceFolder;
  return root === undefined ? undefined : path.join(root, folder);
}

/** Saves a PNG into `dir` (created when missing) as `<prompt-slug>-<seed>.png`, `-1`, `-2`… when taken. */
export function saveImageInto(dir: string, prompt: string, seed: number, png: Uint8Array): string {
  fs.mkdirSync(dir, { recursive: true });
  const name = imageFileName(prompt, seed);
  for (let attempt = 0; ; attempt++) {
    const target = uniquePath(dir, name);
    try {
      writeFileAtomic(target, png, false);
      return target;
    } catch (err) {
      // another writer took the name between the check and the link: pick the next free name
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 20) throw err;
    }
  }
}

/** Saves a PNG at a path the user chose in a save dialog (replacing it only because the dialog confirmed that). */
export function saveImageAt(target: string, png: Uint8Array): string {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  writeFileAtomic(target, png, true);
  return target;
}
