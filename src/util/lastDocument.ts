import * as vscode from 'vscode';
import { Disposable } from './disposable';

/**
 * The last text document the user was in, followed from activation on (the panel takes focus, so "the active
 * document" is this one); the generation host, made on first use, starts from it.
 */
export class LastDocument extends Disposable {
  private last: vscode.Uri | undefined = vscode.window.activeTextEditor?.document.uri;

  constructor() {
    super();
    this._register(vscode.window.onDidChangeActiveTextEditor((editor) => {
      if (editor) this.last = editor.document.uri;
    }));
  }

  get uri(): vscode.Uri | undefined {
    return this.last;
  }
}
