/**
 * "Illustrate Alt Text": generates from the alt text under the cursor (or the selected text) with the current
 * settings, shows progress with a cancel button (and the preview in the panel when it is open), saves the image and
 * points the link at it in one undoable edit. When the document changed meanwhile, the edit is planned on the new
 * text (the same image re-found) or the user is told why not. Closing the panel does not stop it.
 */
import * as vscode from 'vscode';
import type { Command } from '../util/commandManager';
import type { GenerationHost } from '../generation/generationHost';
import type { FinishedImage, JobOutcome } from '../generation/generationService';
import { altTextParams } from '../generation/requestBuilder';
import type { PanelParams } from '../protocol/webviewMessages';
import { formatProgress } from '../generation/progressMeter';
import { findIllustrateTarget, type TextRange } from '../markdown/altText';
import { destinationFor } from '../markdown/insertImage';
import { mapRange, planLinkEdit, snapshotTarget, type TargetSnapshot } from '../markdown/linkEdit';

interface Illustration {
  readonly uri: vscode.Uri;
  readonly version: number;
  readonly snapshot: TargetSnapshot;
  readonly prompt: string;
  /** Parameters to use instead of the settings' (Regenerate from a hover: the image's own, a new seed). */
  readonly params?: PanelParams;
  /** The target's range moved through every edit made since (undefined once an edit touched it). */
  tracked: TextRange | undefined;
}

export class IllustrateAltTextCommand implements Command {
  readonly id = 'inlineDiffusion.illustrateAltText';

  constructor(private readonly generationHost: GenerationHost) {}

  async execute(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Illustrate Alt Text: open a markdown file and put the cursor inside an image\'s alt text, ![like this](), or select some text.');
      return;
    }
    const { document, selection } = editor;
    await this.illustrateAt(document, document.offsetAt(selection.start), document.offsetAt(selection.end));
  }

  /**
   * Illustrates the image (or selected text) at [start, end) of a document; with `params`, generates from those
   * (their seed as given) instead of the alt text and the settings.
   */
  async illustrateAt(document: vscode.TextDocument, start: number, end: number, params?: PanelParams): Promise<void> {
    const text = document.getText();
    const target = findIllustrateTarget(text, start, end);
    if (!target) {
      void vscode.window.showInformationMessage('Illustrate Alt Text: put the cursor inside an image\'s alt text, ![like this](), or select the text to illustrate.');
      return;
    }
    // with given parameters (Regenerate from a hover) their prompt is the one used: the alt text may be empty
    const prompt = params?.prompt ?? (target.kind === 'image' ? target.image.prompt : target.prompt);
    if (!prompt) {
      void vscode.window.showInformationMessage('Illustrate Alt Text: this image has no alt text yet; write what it should show between ![ and ].');
      return;
    }
    const job: Illustration = {
      uri: document.uri, version: document.version, snapshot: snapshotTarget(text, target), prompt, params,
      tracked: target.kind === 'image' ? target.image.range : target.range,
    };
    // follow the document's edits while the image is made, so the link lands on the same image
    const uriText = document.uri.toString();
    const follow = vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document.uri.toString() !== uriText || job.tracked === undefined || e.contentChanges.length === 0) return;
      job.tracked = mapRange(job.tracked, e.contentChanges);
    });
    try {
      await this.illustrate(job);
    } finally {
      follow.dispose();
    }
  }

  private async illustrate(job: Illustration): Promise<void> {
    const done = await this.generate(job.prompt, job.params, (image) => this.save(job.uri, image));
    if (done === undefined || done.outcome.status === 'cancelled') return;
    const { outcome, file } = done;
    if (outcome.status === 'failed') {
      const choice = await vscode.window.showErrorMessage(`Inline Diffusion: could not illustrate “${short(job.prompt)}”: ${outcome.error.message.split('\n')[0]}`, 'Retry');
      if (choice === 'Retry') await this.illustrate(job);
      return;
    }
    if (file) await this.link(job, file);
  }

  /**
   * Runs the generation under a cancellable progress notification, which stays until the image is written
   * (`save`), then closes: it never shows the last step with its Cancel button once the work is done.
   */
  private async generate(prompt: string, given: PanelParams | undefined, save: (image: FinishedImage) => Promise<string | undefined>): Promise<{ outcome: JobOutcome; file: string | undefined } | undefined> {
    const settings = this.generationHost.settings();
    const model = this.generationHost.models()[0];
    let job;
    try {
      const info = await this.generationHost.modelInfo(model.dir);
      job = await this.generationHost.enqueue(given ?? altTextParams(prompt, settings, model.id, info.sampleSize * info.vaeScaleFactor), 'altText');
    } catch (err) {
      void vscode.window.showErrorMessage(`Inline Diffusion: ${(err as Error).message.split('\n')[0]}`);
      return undefined;
    }
    const queuedJob = job;
    return vscode.window.withProgress({
      location: vscode.ProgressLocation.Notification, title: `Illustrating “${short(prompt)}”`, cancellable: true,
    }, async (progress, token) => {
      token.onCancellationRequested(() => this.generationHost.service.cancel(queuedJob.id));
      if (this.generationHost.service.runningJobId !== queuedJob.id) progress.report({ message: 'waiting for the generation before it…' });
      let reported = 0;
      const subscription = this.generationHost.service.onProgress((p) => {
        if (p.jobId !== queuedJob.id) return;
        const done = ((p.imageIndex * p.totalSteps + p.step) / (p.imageCount * p.totalSteps)) * 100;
        progress.report({ message: formatProgress(p), increment: done - reported });
        reported = done;
      });
      let outcome: JobOutcome;
      try {
        outcome = await queuedJob.done;
      } finally {
        subscription.dispose();
      }
      const image = outcome.status === 'finished' ? outcome.images[0] : undefined;
      if (!image) return { outcome, file: undefined };
      progress.report({ message: 'saving the image…' });
      return { outcome, file: await save(image) };
    });
  }

  /** Saves the image into the output folder; undefined (the user told why) when it was not saved. */
  private async save(document: vscode.Uri, image: FinishedImage): Promise<string | undefined> {
    let file: string | undefined;
    try {
      file = await this.generationHost.save(image, document);
    } catch (err) {
      void vscode.window.showErrorMessage(`Inline Diffusion: could not save the image: ${(err as Error).message}`);
      return undefined;
    }
    if (!file) void vscode.window.showWarningMessage('Inline Diffusion: the image was not saved, so the link was left as it was.');
    return file;
  }

  /** Points the link at the saved image, on the document as it is now. */
  private async link(job: Illustration, savedFile: string): Promise<void> {
    let document: vscode.TextDocument;
    try {
      document = await vscode.workspace.openTextDocument(job.uri);
    } catch {
      void vscode.window.showWarningMessage(`Inline Diffusion: saved ${this.generationHost.displayPath(savedFile)}, but the document is gone, so no link was written.`);
      return;
    }
    const plan = planLinkEdit(document.getText(), job.snapshot, destinationFor(document.uri, savedFile), document.version !== job.version, job.tracked);
    if (!plan.ok) {
      const open = await vscode.window.showWarningMessage(`Inline Diffusion: saved ${this.generationHost.displayPath(savedFile)}, but did not change the link: ${plan.reason}.`, 'Open Image');
      if (open) await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(savedFile));
      return;
    }
    const edit = new vscode.WorkspaceEdit();
    edit.replace(document.uri, new vscode.Range(document.positionAt(plan.edit.range.start), document.positionAt(plan.edit.range.end)), plan.edit.newText);
    if (!(await vscode.workspace.applyEdit(edit))) {
      void vscode.window.showWarningMessage(`Inline Diffusion: saved ${this.generationHost.displayPath(savedFile)}, but the editor refused the link edit.`);
    }
  }
}

function short(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
