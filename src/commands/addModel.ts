import * as vscode from 'vscode';
import type { Command } from '../util/commandManager';
import type { ModelLibrary } from '../models/modelLibrary';
import { describeInspection, inspectModelFolder } from '../models/modelInspect';
import { offerModelUse } from './modelUse';

/**
 * "Add Model…": pick a local folder in diffusers ONNX layout, check it (parts, fp16/fp32, size, family) and add it
 * to the panel's model list; what is wrong is said in one message (the missing part, an SDXL refiner, …).
 */
export class AddModelCommand implements Command {
  readonly id = 'inlineDiffusion.addModel';

  constructor(private readonly library: ModelLibrary) {}

  async execute(arg?: unknown): Promise<string | undefined> {
    const picked = arg instanceof vscode.Uri ? [arg] : await vscode.window.showOpenDialog({
      canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Add Model',
      title: 'A Stable Diffusion model folder in diffusers ONNX layout (model_index.json, unet/model.onnx, …)',
    });
    const uri = picked?.[0];
    if (!uri) return undefined;
    let inspection;
    try {
      inspection = await inspectModelFolder(uri.fsPath);
    } catch (err) {
      void vscode.window.showErrorMessage(`Inline Diffusion: cannot add ${uri.fsPath}: ${(err as Error).message}`);
      return undefined;
    }
    await this.library.add(inspection.info.dir);
    await offerModelUse(inspection.info.dir, `Added ${inspection.info.name}: ${describeInspection(inspection)}.`);
    return inspection.info.dir;
  }
}
