/**
 * Where and how generated images are saved: `<outputFolder>` in the workspace folder of the active document, else the
 * first workspace folder; named from the prompt and seed; never overwriting; written atomically, the PNG as the
 * engine made it (with its `parameters` chunk). No `vscode` import.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isWithin, realPathOfNearest } from '../util/isInside';
import { imageFileName, uniquePath, writeFileAtomic } from '../engine/image';

/**
 * The folder to save into, or undefined when there is no workspace folder (then the caller asks with a dialog).
 * An absolute `outputFolder` is used as it is (in an untrusted workspace, saveImageInto's `confineTo` refuses a
 * folder leaving the workspace).
 */
export function resolveOutputFolder(outputFolder: string, documentWorkspaceFolder: string | undefined,
  firstWorkspaceFolder: string | undefined): string | undefined {
  const folder = outputFolder.trim() || 'images';
  if (path.isAbsolute(folder)) return folder;
  const root = documentWorkspaceFolder ?? firstWorkspaceFolder;
  return root === undefined ? undefined : path.join(root, folder);
}

/** Whether a name is taken: anything there counts, a dangling symlink included (lstat, not exists). */
function isTaken(p: string): boolean {
  return fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}



/**
 * Why an output folder may not be used in an untrusted workspace whose folder is `workspaceRoot`: its real path
 * (symlinks resolved, `..` included) leaves the workspace. Undefined when it stays inside.
 */
export function outputFolderProblem(dir: string, workspaceRoot: string): string | undefined {
  const real = realPathOfNearest(dir);
  if (isWithin(path.resolve(workspaceRoot), path.resolve(dir)) && isWithin(realPathOfNearest(workspaceRoot), real)) return undefined;
  return `the output folder ${dir} leads outside the workspace (to ${real}); in an untrusted workspace images are saved only inside it: `
    + 'trust the workspace, or set inlineDiffusion.outputFolder to a folder inside it';
}

export interface SaveOptions {
  /** An untrusted workspace's folder: refuse an output folder whose real path leaves it. */
  readonly confineTo?: string;
}

/** Saves a PNG into `dir` (created when missing) as `<prompt-slug>-<seed>.png`, `-1`, `-2`… when taken. */
export function saveImageInto(dir: string, prompt: string, seed: number, png: Uint8Array, opts: SaveOptions = {}): string {
  const confine = (): void => {
    const problem = opts.confineTo === undefined ? undefined : outputFolderProblem(dir, opts.confineTo);
    if (problem !== undefined) throw new Error(problem);
  };
  confine();
  fs.mkdirSync(dir, { recursive: true });
  confine(); // again once made: a link swapped in meanwhile counts
  const name = imageFileName(prompt, seed);
  for (let attempt = 0; ; attempt++) {
    const target = uniquePath(dir, name, isTaken);
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
