import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Command } from '../util/commandManager';
import type { GenerationHost } from '../generation/generationHost';
import type { GeneratePanelManager } from '../panel/generatePanel';
import { variationsNote } from '../panel/generatePanel';
import { HOVER_COMMANDS, parseHoverArgs } from '../markdown/imageHover';
import { firstLine } from '../common/firstLine';
import { paramsFromImageFile } from './paramsFromImageFile';

const USE_THE_LINKS = 'Hover over an image link in a markdown file and use its links.';

/**
 * "Variations" from an image link's hover, as a result's Variations button in the panel: the image's parameters and
 * seed (its PNG's) with new random variation seeds at inlineDiffusion.variationStrength, variationCount images,
 * queued at once; the Generate Image panel opens with those parameters and shows them as they come.
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
    let made: Awaited<ReturnType<GenerationHost['enqueueVariations']>>;
    try {
      made = await this.generationHost.enqueueVariations(reused.params, reused.params.seed);
    } catch (err) {
      void vscode.window.showErrorMessage(`Inline Diffusion: variations of ${name} could not start: ${firstLine((err as Error).message)}`);
      return;
    }
    if (!made.ok) {
      void vscode.window.showErrorMessage(`Inline Diffusion: variations of ${name}: ${made.reason}.`);
      return;
    }
    const loaded = `Variations of ${name}: ${variationsNote(made.params)}`;
    const note = reused.notes.length ? `${loaded} Not loaded: ${reused.notes.join('; ')}.` : loaded;
    this.panels.show().loadParams({ ...made.params, randomVariationSeed: true }, note);
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
