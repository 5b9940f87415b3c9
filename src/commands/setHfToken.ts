import * as vscode from 'vscode';
import type { Command } from '../util/commandManager';
import { checkHfToken, HF_TOKEN_SECRET } from '../models/hfToken';

/**
 * "Set Hugging Face Token": stores an access token for gated or private repos in SecretStorage (the OS keychain);
 * an empty answer removes it. The token is never shown again, logged or written to a setting.
 */
export class SetHfTokenCommand implements Command {
  readonly id = 'inlineDiffusion.setHuggingFaceToken';

  constructor(private readonly secrets: vscode.SecretStorage) {}

  async execute(): Promise<void> {
    const value = await vscode.window.showInputBox({
      title: 'Hugging Face access token',
      prompt: 'For gated or private models (huggingface.co/settings/tokens, "read" is enough). Leave empty to remove the stored token.',
      password: true, ignoreFocusOut: true, placeHolder: 'hf_…',
      validateInput: (v) => checkHfToken(v),
    });
    if (value === undefined) return;
    const token = value.trim();
    if (token === '') {
      await this.secrets.delete(HF_TOKEN_SECRET);
      void vscode.window.showInformationMessage('Inline Diffusion: the Hugging Face token was removed.');
      return;
    }
    const problem = checkHfToken(token);
    if (problem !== undefined) {
      void vscode.window.showErrorMessage(`Inline Diffusion: ${problem}.`);
      return;
    }
    await this.secrets.store(HF_TOKEN_SECRET, token);
    void vscode.window.showInformationMessage('Inline Diffusion: the Hugging Face token is stored in the system keychain.');
  }
}
