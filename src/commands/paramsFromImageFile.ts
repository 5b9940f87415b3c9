/**
 * What Reuse Parameters, Regenerate and Variations share: a PNG's head read (capped: PNG_HEAD_BYTES, its text
 * chunks before the image data, as ours and AUTOMATIC1111's are), the panel's defaults and models, and its
 * `parameters` text turned into panel parameters. A problem is shown as one error message naming the file and
 * what `purpose` could not be done; the answer is then undefined.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { firstLine } from '../common/firstLine';
import type { GenerationHost } from '../generation/generationHost';
import type { PanelSetup } from '../protocol/webviewMessages';
import { paramsFromPngText, type ReusedParams } from '../generation/reuseParameters';
import { parsePngHead, PNG_HEAD_BYTES, readPngHead } from '../markdown/pngHead';

export type ImageParams = Extract<ReusedParams, { ok: true }> & { readonly setup: PanelSetup };

/** `purpose`: the verb for the error message ("reuse", "regenerate", "use"). */
export async function paramsFromImageFile(generationHost: GenerationHost, uri: vscode.Uri, purpose: string): Promise<ImageParams | undefined> {
  const name = path.basename(uri.fsPath);
  let text: Record<string, string>;
  try {
    // a file's head only; another scheme's file whole (VS Code's file system API reads no less), its head parsed
    text = uri.scheme === 'file' ? (await readPngHead(uri.fsPath, PNG_HEAD_BYTES)).text
      : parsePngHead((await vscode.workspace.fs.readFile(uri)).subarray(0, PNG_HEAD_BYTES)).text;
  } catch (err) {
    const unreadable = (err as NodeJS.ErrnoException).code !== undefined; // open/read failed, rather than no PNG
    void vscode.window.showErrorMessage(unreadable
      ? `Inline Diffusion: could not read ${name}: ${firstLine((err as Error).message)}`
      : `Inline Diffusion: cannot ${purpose} ${name}: it is not a readable PNG (${firstLine((err as Error).message)}).`);
    return undefined;
  }
  const setup = await generationHost.panelSetup();
  const models = generationHost.models().map((m) => ({ id: m.id, name: path.basename(m.dir) }));
  const reused = paramsFromPngText(text, setup.defaults, models);
  if (!reused.ok) {
    void vscode.window.showErrorMessage(`Inline Diffusion: cannot ${purpose} ${name}: ${reused.reason}.`);
    return undefined;
  }
  return { ...reused, setup };
}
