/**
 * The markdown editor's language features, registered at activation (cheap; they load no model): the hover on image
 * links whose PNG carries parameters, and "Illustrate" as a Code Action. The hover finds the image and its local PNG
 * here and asks the host (loaded then) for the content; the code action reads only a window of lines.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isInside } from '../util/isInside';
import { Disposable } from '../util/disposable';
import { HOVER_COMMANDS } from './hoverCommands';
import { illustrateActionFor } from './illustrateCodeAction';
import { imageFileAt } from './imageTarget';

const MARKDOWN: vscode.DocumentSelector = { language: 'markdown' };
/** Lines looked at around a code action's range: an image's syntax spans a paragraph at most. */
const WINDOW_LINES = 30;

/** The hover's markdown for a PNG linked from a document (the `!` of its image at `offset`), or undefined. */
export type ImageHoverSource = (file: string, document: vscode.Uri, offset: number) => Promise<string | undefined>;

export class ImageLinkHoverProvider implements vscode.HoverProvider {
  constructor(private readonly hoverFor: ImageHoverSource) {}

  async provideHover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    if (document.uri.scheme !== 'file') return undefined;
    // an untrusted workspace's documents get hovers only for files inside its folders (a link must not make us read others)
    const mayRead = vscode.workspace.isTrusted ? undefined
      : (f: string): boolean => (vscode.workspace.workspaceFolders ?? []).some((w) => isInside(w.uri.fsPath, f));
    const found = imageFileAt(document.getText(), document.offsetAt(position), path.dirname(document.uri.fsPath), (f) => fs.existsSync(f), mayRead);
    if (!found) return undefined;
    const content = await this.hoverFor(found.file, document.uri, found.image.range.start);
    if (content === undefined) return undefined;
    const markdown = new vscode.MarkdownString(content);
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
  constructor(hoverFor: ImageHoverSource) {
    super();
    this._register(vscode.languages.registerHoverProvider(MARKDOWN, new ImageLinkHoverProvider(hoverFor)));
    this._register(vscode.languages.registerCodeActionsProvider(MARKDOWN, new IllustrateCodeActionProvider(),
      { providedCodeActionKinds: IllustrateCodeActionProvider.kinds }));
  }
}
