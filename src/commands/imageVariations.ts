import * as path from 'node:path';
import * as vscode from 'vscode';
import { firstLine } from '../common/firstLine';
import type { Command } from '../util/commandManager';
import type { Generator } from '../generation/generator';
import type { GeneratePanelManager } from '../panel/generatePanel';
import { paramsFromPng } from '../generation/reuseParameters';
import { HOVER_COMMANDS, parseHoverArgs } from '../markdown/imageHover';

/** Variations made at once: a small batch to choose from. */
const VARIATIONS = 4;

/**
 * "Variations" from an image link's hover, or "Open in Panel": the image's parameters loaded into the Generate Image
 * panel. Variations sets Random seed and a batch of four, since the panel has no image-to-image yet: these are the
 * same prompt and settings with new seeds, not variations of the picture itself.
 */
export class ImageVariationsCommand implements Command {
  constructor(readonly id: typeof HOVER_COMMANDS.variations | typeof HOVER_COMMANDS.openInPanel, private readonly generator: Generator,
    private readonly panels: GeneratePanelManager) {}

  async execute(arg?: unknown): Promise<void> {
    const args = parseHoverArgs(arg);
    if (!args) {
      void vscode.window.showInformationMessage('Hover over an image link in a markdown file and use its links.');
      return;
    }
    let bytes: Uint8Array;
    try {
      bytes = await vscode.workspace.fs.readFile(vscode.Uri.file(args.file));
    } catch (err) {
      void vscode.window.showErrorMessage(`Inline Diffusion: could not read ${args.file}: ${firstLine((err as Error).message)}`);
      return;
    }
    const setup = await this.generator.panelSetup();
    const models = this.generator.models().map((m) => ({ id: m.id, name: path.basename(m.dir) }));
    const reused = paramsFromPng(bytes, setup.defaults, models);
    if (!reused.ok) {
      void vscode.window.showErrorMessage(`Inline Diffusion: cannot use ${path.basename(args.file)}: ${reused.reason}.`);
      return;
    }
    const name = path.basename(args.file);
    const isVariations = this.id === HOVER_COMMANDS.variations;
    const params = isVariations ? { ...reused.params, randomSeed: true, batchCount: Math.min(VARIATIONS, setup.limits.batchCountMax) } : reused.params;
    const loaded = isVariations
      ? `Variations of ${name}: its prompt and settings with new seeds (a batch of ${params.batchCount}); press Generate.`
      : `Loaded from ${name}.`;
    const note = reused.notes.length ? `${loaded} Not loaded: ${reused.notes.join('; ')}.` : loaded;
    this.panels.show().loadParams(params, note);
  }
}
