import * as vscode from 'vscode';
import { Disposable } from '../util/disposable';

/** Remembers the last markdown editor the user worked in: the panel takes focus, Insert into Markdown goes there. */
export class MarkdownEditorTracker extends Disposable {
  private last: { readonly uri: vscode.Uri; selection: vscode.Selection } | undefined;

  constructor() {
    super();
    this.note(vscode.window.activeTextEditor);
    this._register(vscode.window.onDidChangeActiveTextEditor((e) => this.note(e)));
    this._register(vscode.window.onDidChangeTextEditorSelection((e) => this.note(e.textEditor)));
  }

  /** The editor's document and where its cursor was. */
  get lastMarkdown(): { readonly uri: vscode.Uri; readonly selection: vscode.Selection } | undefined {
    return this.last;
  }

  private note(editor: vscode.TextEditor | undefined): void {
    if (editor?.document.languageId === 'markdown') this.last = { uri: editor.document.uri, selection: editor.selection };
  }
}
