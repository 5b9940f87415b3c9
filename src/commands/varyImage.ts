import * as vscode from 'vscode';
import type { Command } from '../util/commandManager';
import type { GeneratePanelManager } from '../panel/generatePanel';
import { firstLine } from '../common/firstLine';

/**
 * "Vary Image…" (the Explorer's and the editor tab's context menu on a PNG or JPEG, the gallery's "Use as Input",
 * the palette with a file picker): the file becomes the Generate Image panel's input image for image to image.
 * The file is only read.
 */
export class VaryImageCommand implements Command {
  readonly id = 'inlineDiffusion.varyImage';

  constructor(private readonly panels: GeneratePanelManager) {}

  async execute(arg?: unknown): Promise<void> {
    const uri = arg instanceof vscode.Uri ? arg : await this.pick();
    if (!uri) return;
    const panel = this.panels.show();
    try {
      await panel.useInputFile(uri);
    } catch (err) {
      void vscode.window.showErrorMessage(`Vary Image: ${firstLine(err instanceof Error ? err.message : String(err))}`);
    }
  }

  private async pick(): Promise<vscode.Uri | undefined> {
    const picked = await vscode.window.showOpenDialog({
      title: 'Vary an image (image to image)', canSelectMany: false, openLabel: 'Use as Input',
      filters: { 'Images (PNG, JPEG)': ['png', 'jpg', 'jpeg'] }, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    });
    return picked?.[0];
  }
}
