import * as vscode from 'vscode';
import { Disposable } from './disposable';

/** A command: its id matches package.json's `contributes.commands` exactly. */
export interface Command {
  readonly id: string;
  execute(...args: unknown[]): unknown;
}

/** Registers commands (one per file in src/commands/) and disposes them together. */
export class CommandManager extends Disposable {
  private readonly ids = new Set<string>();

  register<T extends Command>(command: T): T {
    if (this.ids.has(command.id)) throw new Error(`command ${command.id} is registered twice`);
    this.ids.add(command.id);
    this._register(vscode.commands.registerCommand(command.id, (...args: unknown[]) => command.execute(...args)));
    return command;
  }
}
