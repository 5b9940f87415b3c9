/**
 * "Illustrate Document": finds every image of the markdown document that needs a picture (documentImages.ts) and
 * opens the review panel (src/review/documentReview.ts) for it: one row per image, N candidates each. One review per
 * document: running the command again reveals it. A review VS Code restores after a window reload comes back here
 * (`restore`): the document is scanned again and the saved rows matched to its images.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { firstLine } from '../common/firstLine';
import type { Command } from '../util/commandManager';
import type { GenerationHost } from '../generation/generationHost';
import { altTextParams } from '../generation/requestBuilder';
import { scanDocument } from '../markdown/documentImages';
import type { SavedReview } from '../protocol/reviewMessages';
import { DocumentReview, REVIEW_VIEW_TYPE } from '../review/documentReview';
import { matchSavedRows, parseSavedReview } from '../review/savedReview';
import { Disposable } from '../util/disposable';

export class IllustrateDocumentCommand extends Disposable implements Command {
  readonly id = 'inlineDiffusion.illustrateDocument';
  private readonly reviews = new Map<string, DocumentReview>();
  /** Documents whose review is being opened (reserved before the first await, so a second run waits for none). */
  private readonly opening = new Set<string>();

  constructor(private readonly generationHost: GenerationHost, private readonly extensionUri: vscode.Uri) {
    super();
  }

  /** The open reviews (a test hook). */
  get openReviews(): readonly DocumentReview[] {
    return [...this.reviews.values()];
  }

  async execute(arg?: unknown): Promise<void> {
    const document = await this.documentFor(arg);
    if (!document) {
      void vscode.window.showInformationMessage('Illustrate Document: open a markdown file first.');
      return;
    }
    const key = document.uri.toString();
    const open = this.reviews.get(key);
    if (open && !open.isDisposed) {
      open.reveal();
      return;
    }
    if (this.opening.has(key)) return; // the same command is opening it right now
    this.opening.add(key);
    try {
      await this.open(document, key);
    } finally {
      this.opening.delete(key);
    }
  }

  /**
   * A review panel VS Code restores after a window reload, with the state its webview kept: reopened on its document
   * as it is now, or closed when there is nothing to restore (applied, unreadable, the document gone, or already open).
   */
  async restore(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const saved = parseSavedReview(state);
    if (!saved || saved.applied) {
      panel.dispose();
      return;
    }
    let document: vscode.TextDocument;
    try {
      document = await vscode.workspace.openTextDocument(vscode.Uri.parse(saved.uri, true));
    } catch {
      panel.dispose();
      void vscode.window.showWarningMessage(`Illustrate Document: the review of ${saved.uri} was not restored: the document is gone. Its candidates stay in the extension's storage.`);
      return;
    }
    const key = document.uri.toString();
    if (this.reviews.has(key) || this.opening.has(key)) {
      panel.dispose();
      return;
    }
    this.opening.add(key);
    try {
      await this.open(document, key, { panel, saved });
    } finally {
      this.opening.delete(key);
    }
  }

  private async open(document: vscode.TextDocument, key: string, restoring?: { panel: vscode.WebviewPanel; saved: SavedReview }): Promise<void> {
    const scan = scanDocument(document.getText(), {
      documentDir: document.uri.scheme === 'file' ? path.dirname(document.uri.fsPath) : undefined,
      exists: (file) => fs.existsSync(file),
      trusted: vscode.workspace.isTrusted,
    });
    const name = path.basename(document.uri.path);
    if (scan.images.length === 0) {
      restoring?.panel.dispose();
      const also = [...scan.frontMatter.problems, ...scan.skipped];
      void vscode.window.showInformationMessage(`Illustrate Document: no image in ${name} needs a picture (images with an empty target, ![like this](), or a missing file).${also.length ? ` ${also.join('; ')}.` : ''}`);
      return;
    }
    const notes = [...scan.frontMatter.problems, ...scan.skipped];
    let base;
    try {
      const models = this.generationHost.models();
      const wanted = scan.frontMatter.options.model;
      let model = models[0];
      if (wanted !== null) {
        const named = models.find((m) => m.id === wanted || m.label === wanted || path.basename(m.dir) === wanted);
        if (named) model = named;
        else notes.unshift(`the front matter's model “${wanted}” is not one of the models offered; using ${model.label}`);
      }
      const info = await this.generationHost.modelInfo(model.dir);
      base = altTextParams('', this.generationHost.settings(), model.id, info.sampleSize * info.vaeScaleFactor);
    } catch (err) {
      restoring?.panel.dispose();
      void vscode.window.showErrorMessage(`Inline Diffusion: ${firstLine((err as Error).message)}`);
      return;
    }
    const { candidates } = this.generationHost.settings();
    const panel = restoring?.panel ?? vscode.window.createWebviewPanel(REVIEW_VIEW_TYPE, `Illustrate ${name}`, vscode.ViewColumn.Beside,
      { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview')] });
    const saved = restoring?.saved;
    const restored = saved && { style: saved.style, negative: saved.negative, rows: matchSavedRows(scan.images.map((i) => i.prompt), saved.rows) };
    const review = new DocumentReview(panel, this.extensionUri, this.generationHost, { document, scan, candidates, base, notes, restored });
    this.reviews.set(key, review);
    panel.onDidDispose(() => { if (this.reviews.get(key) === review) this.reviews.delete(key); });
    this.opening.delete(key); // the review is registered: from here a second run reveals it
    await review.start();
  }

  override dispose(): void {
    for (const review of this.reviews.values()) review.dispose();
    super.dispose();
  }

  private async documentFor(arg: unknown): Promise<vscode.TextDocument | undefined> {
    if (arg instanceof vscode.Uri) {
      try {
        return await vscode.workspace.openTextDocument(arg);
      } catch {
        return undefined;
      }
    }
    const document = vscode.window.activeTextEditor?.document;
    return document?.languageId === 'markdown' ? document : undefined;
  }
}
