import * as vscode from 'vscode';
import { escapeAltText } from './altText';
import { absoluteLinkDestination, linkDestination } from './linkTarget';

/** The link destination from a document to a saved file (absolute `file:` URL for untitled documents). */
export function destinationFor(document: vscode.Uri, file: string): string {
  return document.scheme === 'file' ? linkDestination(document.fsPath, file) : absoluteLinkDestination(file);
}

/**
 * Inserts `![prompt](relative path)` into a markdown document at the given selection (replacing selected text),
 * as one undoable edit, and shows the document. Returns false when the edit was refused.
 */
export async function insertImageLink(document: vscode.Uri, selection: vscode.Selection, file: string, prompt: string): Promise<boolean> {
  const text = `![${escapeAltText(prompt) || 'image'}](${destinationFor(document, file)})`;
  const edit = new vscode.WorkspaceEdit();
  edit.replace(document, selection, text);
  const applied = await vscode.workspace.applyEdit(edit);
  if (applied) {
    const doc = await vscode.workspace.openTextDocument(document);
    // back to the editor group that shows it (the panel has the focus and its own group)
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === document.toString());
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: visible?.viewColumn, preserveFocus: false, preview: false });
    const end = selection.start.translate(0, text.length);
    editor.selection = new vscode.Selection(end, end);
  }
  return applied;
}
