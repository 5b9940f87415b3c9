import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Command } from '../util/commandManager';
import type { GenerationHost } from '../generation/generationHost';
import type { GeneratePanelManager } from '../panel/generatePanel';
import { paramsFromImageFile } from './paramsFromImageFile';

/**
 * "Reuse Parameters from Image": reads a PNG made by us or by AUTOMATIC1111 (from the explorer's context menu, an
 * open image, or a file dialog) and loads its parameters into the panel.
 */
export class ReuseParametersCommand implements Command {
  readonly id = 'inlineDiffusion.reuseParameters';

  constructor(private readonly generator: GenerationHost, private readonly panels: GeneratePanelManager) {}

  async execute(arg?: unknown): Promise<void> {
    const uri = arg instanceof vscode.Uri ? arg : await this.pick();
    if (!uri) return;
    const reused = await paramsFromImageFile(this.generator, uri, 'reuse');
    if (!reused) return;
    const panel = this.panels.show();
    const note = reused.notes.length ? `Loaded from ${path.basename(uri.fsPath)}, except: ${reused.notes.join('; ')}.` : `Loaded from ${path.basename(uri.fsPath)}.`;
    panel.loadParams(reused.params, note);
  }

  private async pick(): Promise<vscode.Uri | undefined> {
    const picked = await vscode.window.showOpenDialog({
      title: 'Reuse parameters from an image', canSelectMany: false, filters: { 'PNG image': ['png'] },
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    });
    return picked?.[0];
  }
}
