import * as path from 'node:path';
import * as vscode from 'vscode';
import { firstLine } from '../common/firstLine';
import type { Command } from '../util/commandManager';
import type { GenerationHost } from '../generation/generationHost';
import { randomSeed } from '../generation/requestBuilder';
import { HOVER_COMMANDS, parseHoverArgs } from '../markdown/imageHover';
import type { IllustrateAltTextCommand } from './illustrateAltText';
import { paramsFromImageFile } from './paramsFromImageFile';

/**
 * "Regenerate" from an image link's hover: the image's own parameters (its PNG's) with a new seed, made like
 * "Illustrate Alt Text" (progress, Cancel), and the link then points at the new image in one undoable edit.
 */
export class RegenerateImageCommand implements Command {
  readonly id = HOVER_COMMANDS.regenerate;

  constructor(private readonly generationHost: GenerationHost, private readonly illustrate: IllustrateAltTextCommand) {}

  async execute(arg?: unknown): Promise<void> {
    const args = parseHoverArgs(arg);
    if (!args || args.document === undefined || args.offset === undefined) {
      void vscode.window.showInformationMessage('Regenerate: hover over an image link in a markdown file and use its Regenerate link.');
      return;
    }
    let document: vscode.TextDocument;
    try {
      document = await vscode.workspace.openTextDocument(vscode.Uri.parse(args.document));
    } catch (err) {
      void vscode.window.showErrorMessage(`Inline Diffusion: could not open the document of ${path.basename(args.file)}: ${firstLine((err as Error).message)}`);
      return;
    }
    const reused = await paramsFromImageFile(this.generationHost, vscode.Uri.file(args.file), 'regenerate');
    if (!reused) return;
    const params = { ...reused.params, seed: randomSeed(1), randomSeed: false, batchCount: 1 };
    // offset is the image's `!`: one past it is inside that image whatever its alt text (empty included)
    await this.illustrate.illustrateAt(document, args.offset + 1, args.offset + 1, params);
  }
}
