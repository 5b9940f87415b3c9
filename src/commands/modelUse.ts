import * as vscode from 'vscode';

/** After a model was added or downloaded: say what it is and offer to make it the default or open the panel. */
export async function offerModelUse(dir: string, message: string): Promise<void> {
  const choice = await vscode.window.showInformationMessage(`Inline Diffusion: ${message}`, 'Use as Default', 'Open Generate Image');
  if (choice === 'Use as Default') {
    await vscode.workspace.getConfiguration('inlineDiffusion').update('model', dir, vscode.ConfigurationTarget.Global);
  } else if (choice === 'Open Generate Image') {
    await vscode.commands.executeCommand('inlineDiffusion.generateImage');
  }
}
