/**
 * The markdown editor's language features, registered at activation (they are cheap and load no model): the hover
 * on image links whose PNG carries parameters, and "Illustrate" as a Code Action. Each reads at most a window of the
 * document or the head of one file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from '../util/disposable';
import { illustrateActionFor } from './illustrateCodeAction';
import { HOVER_COMMANDS, HOVER_READ_BYTES, hoverContent, imageFileAt } from './imageHover';
import { readPngHead } from './pngHead';

const MARKDOWN: vscode.DocumentSelector = { language: 'markdown' };
/** Lines looked at around a code action's range: an image's syntax spans a paragraph at most. */
const WINDOW_LINES = 30;

export class ImageLinkHoverProvider implements vscode.HoverProvider {
  async provideHover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    if (document.uri.scheme !== 'file') return undefined;
    const text = document.getText();
    const found = imageFileAt(text, document.offsetAt(position), path.dirname(document.uri.fsPath), (f) => fs.existsSync(f));
    if (!found) return undefined;
    let head;
    try {
      head = await readPngHead(found.file, HOVER_READ_BYTES);
    } catch {
      return undefined; // not a PNG we can read: the hover says nothing rather than an error on mouse-over
    }
    const content = hoverContent({
      file: found.file, imageUri: vscode.Uri.file(found.file).toString(), width: head.width, height: head.height, text: head.text,
      document: document.uri.toString(), offset: found.image.range.start,
    });
    if (!content) return undefined;
    const markdown = new vscode.MarkdownString(content.markdown);
    markdown.isTrusted = { enabledCommands: Object.values(HOVER_COMMANDS) };
    markdown.supportHtml = false;
    const range = new vscode.Range(document.positionAt(found.image.range.start), document.positionAt(found.image.range.end));
    return new vscode.Hover(markdown, range);
  }
}

export class IllustrateCodeActionProvider implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.RefactorRewrite];

  provideCodeActions(document: vscode.TextDocument, range: vscode.Range | vscode.Selection): vscode.CodeAction[] {
    const first = Math.max(0, range.start.line - WINDOW_LINES);
    const last = Math.min(document.lineCount - 1, range.end.line + WINDOW_LINES);
    const window = new vscode.Range(first, 0, last, document.lineAt(last).text.length);
    const base = document.offsetAt(window.start);
    const action = illustrateActionFor(document.getText(window), document.offsetAt(range.start) - base, document.offsetAt(range.end) - base);
    if (!action) return [];
    const codeAction = new vscode.CodeAction(action.title, vscode.CodeActionKind.RefactorRewrite);
    codeAction.command = { command: action.command, title: action.title };
    return [codeAction];
  }
}

/** Registers both for markdown documents. */
export class MarkdownProviders extends Disposable {
  constructor() {
    super();
    this._register(vscode.languages.registerHoverProvider(MARKDOWN, new ImageLinkHoverProvider()));
    this._register(vscode.languages.registerCodeActionsProvider(MARKDOWN, new IllustrateCodeActionProvider(),
      { providedCodeActionKinds: IllustrateCodeActionProvider.kinds }));
  }
}
