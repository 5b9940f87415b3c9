import * as vscode from 'vscode';
import type { Command } from '../util/commandManager';
import { HOVER_COMMANDS, parseHoverArgs } from '../markdown/imageHover';

/** "Reveal" from an image link's hover: the file in the Explorer. */
export class RevealImageCommand implements Command {
  readonly id = HOVER_COMMANDS.reveal;

  async execute(arg?: unknown): Promise<void> {
    const args = parseHoverArgs(arg);
    if (args) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(args.file));
  }
}
