import * as vscode from 'vscode';
import { Disposable } from '../util/disposable';
import { findIllustrateTarget } from './altText';

/** The context key the editor context menu's "Illustrate Alt Text" entry depends on (package.json `when`). */
export const CAN_ILLUSTRATE_KEY = 'inlineDiffusion.canIllustrate';

/** Lines looked at around the cursor: an image's syntax spans a paragraph at most. */
const WINDOW_LINES = 30;

/**
 * Keeps `inlineDiffusion.canIllustrate` true while a markdown editor's cursor is inside an image or plain text is
 * selected. Looks only at the lines around the cursor, so it stays cheap on every cursor move.
 */
export class AltTextContext extends Disposable {
  private value: boolean | undefined;

  constructor() {
    super();
    this._register(vscode.window.onDidChangeTextEditorSelection((e) => this.update(e.textEditor)));
    this._register(vscode.window.onDidChangeActiveTextEditor((e) => this.update(e)));
    this.update(vscode.window.activeTextEditor);
  }

  private update(editor: vscode.TextEditor | undefined): void {
    this.set(editor !== undefined && editor.document.languageId === 'markdown' && canIllustrate(editor));
  }

  private set(value: boolean): void {
    if (value === this.value) return;
    this.value = value;
    void vscode.commands.executeCommand('setContext', CAN_ILLUSTRATE_KEY, value);
  }
}

function canIllustrate(editor: vscode.TextEditor): boolean {
  const { document, selection } = editor;
  if (!selection.isEmpty) return true;
  const first = Math.max(0, selection.active.line - WINDOW_LINES);
  const last = Math.min(document.lineCount - 1, selection.active.line + WINDOW_LINES);
  const window = new vscode.Range(first, 0, last, document.lineAt(last).text.length);
  const text = document.getText(window);
  const offset = document.offsetAt(selection.active) - document.offsetAt(window.start);
  return findIllustrateTarget(text, offset) !== undefined;
}
