import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Command } from '../util/commandManager';
import type { Generator } from '../generation/generator';
import type { GeneratePanelManager } from '../panel/generatePanel';
import { paramsFromPng } from '../generation/reuseParameters';

/**
 * "Reuse Parameters from Image": reads a PNG made by us or by AUTOMATIC1111 (from the explorer's context menu, an
 * open image, or a file dialog) and loads its parameters into the panel.
 */
export class ReuseParametersCommand implements Command {
  readonly id = 'inlineDiffusion.reuseParameters';

  constructor(private readonly generator: Generator, private readonly panels: GeneratePanelManager) {}

  async execute(arg?: unknown): Promise<void> {
    const uri = arg instanceof vscode.Uri ? arg : await this.pick();
    if (!uri) return;
    let bytes: Uint8Array;
    try {
      bytes = await vscode.workspace.fs.readFile(uri);
    } catch (err) {
      void vscode.window.showErrorMessage(`Inline Diffusion: could not read ${uri.fsPath}: ${(err as Error).message}`);
      return;
    }
    const setup = await this.generator.panelSetup();
    const models = this.generator.models().map((m) => ({ id: m.id, name: path.basename(m.dir) }));
    const reused = paramsFromPng(bytes, setup.defaults, models);
    if (!reused.ok) {
      void vscode.window.showErrorMessage(`Inline Diffusion: cannot reuse ${path.basename(uri.fsPath)}: ${reused.reason}.`);
      return;
    }
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
