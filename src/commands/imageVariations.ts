import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Command } from '../util/commandManager';
import type { GenerationHost } from '../generation/generationHost';
import type { GeneratePanelManager } from '../panel/generatePanel';
import { HOVER_COMMANDS, parseHoverArgs } from '../markdown/imageHover';
import { paramsFromImageFile } from './paramsFromImageFile';

/** Variations made at once: a small batch to choose from. */
const VARIATIONS = 4;

const USE_THE_LINKS = 'Hover over an image link in a markdown file and use its links.';

/**
 * "Variations" from an image link's hover: the image's parameters loaded into the Generate Image panel with Random
 * seed and a batch of four, since the panel has no image-to-image yet: these are the same prompt and settings with
 * new seeds, not variations of the picture itself.
 */
export class ImageVariationsCommand implements Command {
  readonly id = HOVER_COMMANDS.variations;

  constructor(private readonly generationHost: GenerationHost, private readonly panels: GeneratePanelManager) {}

  async execute(arg?: unknown): Promise<void> {
    const args = parseHoverArgs(arg);
    if (!args) {
      void vscode.window.showInformationMessage(USE_THE_LINKS);
      return;
    }
    const reused = await paramsFromImageFile(this.generationHost, vscode.Uri.file(args.file), 'use');
    if (!reused) return;
    const name = path.basename(args.file);
    const params = { ...reused.params, randomSeed: true, batchCount: Math.min(VARIATIONS, reused.setup.limits.batchCountMax) };
    const loaded = `Variations of ${name}: its prompt and settings with new seeds (a batch of ${params.batchCount}); press Generate.`;
    const note = reused.notes.length ? `${loaded} Not loaded: ${reused.notes.join('; ')}.` : loaded;
    this.panels.show().loadParams(params, note);
  }
}

/** "Open in Panel" from an image link's hover: Reuse Parameters from Image on the linked file. */
export class OpenImageInPanelCommand implements Command {
  readonly id = HOVER_COMMANDS.openInPanel;

  async execute(arg?: unknown): Promise<void> {
    const args = parseHoverArgs(arg);
    if (!args) {
      void vscode.window.showInformationMessage(USE_THE_LINKS);
      return;
    }
    await vscode.commands.executeCommand('inlineDiffusion.reuseParameters', vscode.Uri.file(args.file));
  }
}
