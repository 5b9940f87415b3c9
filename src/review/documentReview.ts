/**
 * The "Illustrate Document" review panel: one row per image that needs a picture, N candidates each, generated in
 * document order through the generation queue (step previews shown in the row being made). Per row: pick, regenerate
 * (new seeds, maybe an edited prompt), skip. Apply saves the picked images and rewrites every link in one undoable
 * WorkspaceEdit on the document as it is then; closing without Apply writes nothing into the document (the
 * candidates stay in the extension's storage like every unsaved result, and a later review of the same document
 * offers them again). Cancel stops this review's generations and nothing else. Its webview keeps its context while
 * hidden (a short-lived panel; the host holds the state and sends it whole, each candidate's picture once in its own
 * message). After a window reload VS Code restores the panel (src/extension.ts's serializer) with the state its
 * webview kept: the rows (edited prompts, picks, skips) and their candidates come back from the extension's storage,
 * and rows that had none yet are generated again.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FinishedImage, Job } from '../generation/generationService';
import type { GenerationHost } from '../generation/generationHost';
import { randomSeed } from '../generation/requestBuilder';
import { formatProgress } from '../generation/progressMeter';
import type { TextRange } from '../markdown/altText';
import { planDocumentEdits, promptWithStyle, type ChosenLink, type DocumentImage, type DocumentScan } from '../markdown/documentImages';
import { destinationFor } from '../markdown/insertImage';
import { mapRange } from '../markdown/linkEdit';
import type { PanelParams } from '../protocol/webviewMessages';
import type { FromReview, ReviewRow, ReviewState, RowStatus, ToReview } from '../protocol/reviewMessages';
import { assertNever } from '../common/assertNever';
import { firstLine } from '../common/firstLine';
import { Disposable } from '../util/disposable';
import { createNonce, renderWebviewPage } from '../panel/panelHtml';
import { parseFromReview } from './reviewMessageGuards';

export { REVIEW_VIEW_TYPE } from '../panel/viewType';

interface Row {
  readonly rowId: number;
  readonly found: DocumentImage;
  prompt: string;
  status: RowStatus;
  detail: string;
  candidates: FinishedImage[];
  picked: string | null;
  skipped: boolean;
  job: Job | undefined;
  /** The image's range moved through the document's edits since the scan (undefined once an edit touched it). */
  tracked: TextRange | undefined;
}

export interface ReviewSetup {
  readonly document: vscode.TextDocument;
  readonly scan: DocumentScan;
  /** Candidates per row. */
  readonly candidates: number;
  /** The parameters every generation starts from (model, sampler, steps, size…); prompt, negative and seed are set per row. */
  readonly base: PanelParams;
  /** Lines to show above the rows (front matter problems, images passed over, the model used). */
  readonly notes: readonly string[];
  /** A review restored after a window reload: its style, and per row of the scan the saved row (undefined: a new image). */
  readonly restored?: { readonly style: string; readonly negative: string; readonly rows: ReadonlyArray<RestoredRow | undefined> };
}

/** A row as the review had it before a window reload. */
export interface RestoredRow {
  readonly prompt: string;
  readonly picked: string | null;
  readonly skipped: boolean;
  /** Its candidates' image ids. */
  readonly candidates: readonly string[];
}

export class DocumentReview extends Disposable {
  private readonly rows: Row[];
  private style: string;
  private negative: string;
  private applied = false;
  /** Set while an Apply runs (a second one, from a double click, would edit ranges the first one moved). */
  private applying = false;
  private webviewReady = false;
  private readonly documentUri: vscode.Uri;
  private readonly scanVersion: number;
  /** Candidates whose picture the webview has (each is sent once, in its own message). */
  private readonly sentImages = new Set<string>();
  /** Counts messages the guard rejected (a test hook). */
  rejectedMessages = 0;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly generationHost: GenerationHost,
    private readonly setup: ReviewSetup,
  ) {
    super();
    this._register(panel);
    this.documentUri = setup.document.uri;
    this.scanVersion = setup.document.version;
    this.style = setup.restored?.style ?? setup.scan.frontMatter.options.style;
    this.negative = setup.restored?.negative ?? setup.scan.frontMatter.options.negative;
    this.rows = setup.scan.images.map((found, rowId) => {
      const saved = setup.restored?.rows[rowId];
      return {
        rowId, found, prompt: saved?.prompt || found.prompt, status: 'waiting', detail: '', candidates: [], picked: null, skipped: saved?.skipped ?? false,
        job: undefined, tracked: found.image.range,
      };
    });
    panel.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')] };
    this._register(panel.onDidDispose(() => this.dispose()));
    this._register(panel.webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)));
    const service = generationHost.service;
    this._register(service.onProgress((p) => {
      const row = this.rowOfJob(p.jobId);
      if (!row) return;
      row.detail = formatProgress(p);
      const preview = p.previews[0];
      const wasGenerating = row.status === 'generating';
      row.status = 'generating';
      if (!wasGenerating) this.postState();
      this.post({ type: 'progress', rowId: row.rowId, detail: row.detail,
        preview: preview ? { width: preview.width, height: preview.height, rgb: preview.rgb } : null });
    }));
    this._register(service.onImage((image) => {
      const row = this.rowOfJob(image.jobId);
      if (!row) return;
      row.candidates.push(image);
      row.picked ??= image.imageId;
      this.postState();
    }));
    this._register(service.onJobEnded(({ job, outcome }) => {
      const row = this.rowOfJob(job.id);
      if (!row) return;
      row.job = undefined;
      row.status = outcome.status === 'finished' ? 'done' : outcome.status;
      row.detail = outcome.status === 'failed' ? firstLine(outcome.error.message) : '';
      this.postState();
    }));
    this._register(vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document.uri.toString() !== this.documentUri.toString() || e.contentChanges.length === 0) return;
      for (const row of this.rows) if (row.tracked) row.tracked = mapRange(row.tracked, e.contentChanges);
    }));
    this.render();
  }

  /**
   * Brings back a restored review's candidates, offers the candidates kept from an earlier review of the same prompts,
   * then queues every row still without.
   */
  async start(): Promise<void> {
    await this.restoreCandidates();
    await this.reuseKept();
    for (const row of this.rows) {
      if (this.isDisposed) return; // closed meanwhile: queue nothing more
      if (row.candidates.length === 0) await this.generate(row, this.setup.scan.frontMatter.options.seed);
    }
    this.postState();
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  /** Stops this review's generations (queued or running); what is done stays. */
  cancel(): void {
    for (const row of this.rows) {
      if (row.job) this.generationHost.service.cancel(row.job.id);
    }
  }

  override dispose(): void {
    if (this.isDisposed) return;
    this.cancel();
    super.dispose();
  }

  private render(): void {
    const webview = this.panel.webview;
    const asset = (name: string): string => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', name)).toString();
    webview.html = renderWebviewPage({
      title: this.panel.title, cspSource: webview.cspSource, nonce: createNonce(), scriptUri: asset('review.js'), styleUri: asset('review.css'),
      initialJson: JSON.stringify(this.state()),
    });
  }

  /** A restored review's candidates, from the extension's storage (one no longer kept is left out). */
  private async restoreCandidates(): Promise<void> {
    const saved = this.setup.restored?.rows ?? [];
    for (const row of this.rows) {
      const before = saved[row.rowId];
      if (!before) continue;
      for (const id of before.candidates) {
        const image = await this.generationHost.findImage(id);
        if (image) row.candidates.push(image);
      }
      if (row.candidates.length === 0) continue;
      row.status = 'done';
      row.picked = row.candidates.some((c) => c.imageId === before.picked) ? before.picked : row.candidates[0].imageId;
      row.detail = 'restored after a reload';
    }
  }

  private async reuseKept(): Promise<void> {
    const kept = (await this.generationHost.results?.list()) ?? [];
    for (const row of this.rows) {
      if (row.candidates.length > 0) continue; // restored
      const prompt = promptWithStyle(row.prompt, this.style);
      const matches = kept.filter((r) => r.savedPath === null && r.source === 'document' && r.params.prompt === prompt && r.params.negativePrompt === this.negative
        && r.params.model === this.setup.base.model).slice(-this.setup.candidates);
      for (const m of matches) {
        const image = await this.generationHost.findImage(m.imageId);
        if (image) row.candidates.push(image);
      }
      if (row.candidates.length > 0) {
        row.status = 'done';
        row.picked = row.candidates[0].imageId;
        row.detail = 'kept from an earlier review';
      }
    }
  }

  /** Queues N new candidates for a row: seed given (front matter: seed + row·N) or random. */
  private async generate(row: Row, baseSeed: number | null): Promise<void> {
    if (row.job) this.generationHost.service.cancel(row.job.id);
    const n = this.setup.candidates;
    const seed = baseSeed === null ? randomSeed(n) : Math.min(baseSeed + row.rowId * n, 4294967295 - (n - 1));
    const params: PanelParams = {
      ...this.setup.base, prompt: promptWithStyle(row.prompt, this.style), negativePrompt: this.negative, seed, randomSeed: false, batchCount: n,
    };
    row.status = 'waiting';
    row.detail = '';
    try {
      const job = await this.generationHost.enqueue(params, 'document');
      if (this.isDisposed) { // closed while it was being queued: it must not run headless
        this.generationHost.service.cancel(job.id);
        return;
      }
      row.job = job;
    } catch (err) {
      row.status = 'failed';
      row.detail = firstLine((err as Error).message);
    }
  }

  private rowOfJob(jobId: number): Row | undefined {
    return this.rows.find((r) => r.job?.id === jobId);
  }

  private onMessage(raw: unknown): void {
    const parsed = parseFromReview(raw, { rowIds: this.rows.map((r) => r.rowId) });
    if (!parsed.ok) {
      this.rejectedMessages++;
      this.post({ type: 'notice', level: 'error', message: parsed.problem });
      return;
    }
    this.handle(parsed.message).catch((err: unknown) => this.post({ type: 'notice', level: 'error', message: firstLine(err instanceof Error ? err.message : String(err)) }));
  }

  private async handle(message: FromReview): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.webviewReady = true;
        this.sentImages.clear(); // a (re)loaded webview has no pictures yet
        this.postState();
        return;
      case 'pick': {
        const row = this.rows[message.rowId];
        if (row.candidates.some((c) => c.imageId === message.imageId)) row.picked = message.imageId;
        row.skipped = false;
        this.postState();
        return;
      }
      case 'regenerate': {
        const row = this.rows[message.rowId];
        row.prompt = message.prompt.trim();
        row.skipped = false;
        await this.generate(row, null);
        this.postState();
        return;
      }
      case 'skip':
        this.rows[message.rowId].skipped = message.skipped;
        this.postState();
        return;
      case 'setStyle':
        this.style = message.style.trim();
        this.negative = message.negative.trim();
        this.postState();
        return;
      case 'apply':
        await this.apply();
        return;
      case 'cancel':
        this.cancel();
        this.post({ type: 'notice', level: 'info', message: 'Cancelled: the candidates made so far stay; Apply still writes the picked ones.' });
        return;
      default:
        assertNever(message, 'review message');
    }
  }

  /** Saves the picked images, then rewrites their links in one edit on the document as it is now. */
  private async apply(): Promise<void> {
    if (this.applied || this.applying) return;
    this.applying = true;
    try {
      await this.applyPicked();
    } finally {
      this.applying = false;
      this.postState(); // the webview disabled Apply on the click; the state enables it again (unless applied)
    }
  }

  private async applyPicked(): Promise<void> {
    const chosen = this.rows.filter((r) => !r.skipped && r.picked !== null);
    if (chosen.length === 0) {
      this.post({ type: 'notice', level: 'info', message: 'Nothing to apply: pick a candidate in at least one row (or wait for one).' });
      return;
    }
    const links: Array<ChosenLink & { row: Row; file: string }> = [];
    const problems: string[] = [];
    for (const row of chosen) {
      const image = row.candidates.find((c) => c.imageId === row.picked) ?? (await this.generationHost.findImage(row.picked ?? ''));
      if (!image) { problems.push(`“${row.prompt}”: its picked image is no longer kept`); continue; }
      let file: string | undefined;
      try {
        file = await this.generationHost.save(image, this.documentUri);
      } catch (err) {
        problems.push(`“${row.prompt}”: could not save the image (${firstLine((err as Error).message)})`);
        continue;
      }
      if (!file) { problems.push(`“${row.prompt}”: not saved (the save dialog was cancelled)`); continue; }
      links.push({ row, file, snapshot: row.found.snapshot, destination: destinationFor(this.documentUri, file), mapped: row.tracked });
    }
    let document: vscode.TextDocument;
    try {
      document = await vscode.workspace.openTextDocument(this.documentUri);
    } catch {
      this.post({ type: 'notice', level: 'error', message: `The document is gone; the ${links.length} picked image(s) were saved in the output folder.` });
      return;
    }
    const plan = planDocumentEdits(document.getText(), document.version !== this.scanVersion, links);
    plan.problems.forEach((p, i) => { if (p !== null) problems.push(`${p}; saved as ${this.generationHost.displayPath(links[i].file)}`); });
    const edit = new vscode.WorkspaceEdit();
    for (const e of plan.edits) edit.replace(document.uri, new vscode.Range(document.positionAt(e.range.start), document.positionAt(e.range.end)), e.newText);
    if (plan.edits.length > 0 && !(await vscode.workspace.applyEdit(edit))) {
      this.post({ type: 'notice', level: 'error', message: `The editor refused the edit; the images were saved in the output folder.` });
      return;
    }
    this.applied = true;
    const name = path.basename(this.documentUri.path);
    const summary = `Illustrated ${plan.edits.length} image${plan.edits.length === 1 ? '' : 's'} in ${name}.`;
    if (problems.length) void vscode.window.showWarningMessage(`Inline Diffusion: ${summary} Skipped: ${problems.join('; ')}.`);
    else void vscode.window.showInformationMessage(`Inline Diffusion: ${summary}`);
    this.panel.dispose();
  }

  private state(): ReviewState {
    return {
      document: path.basename(this.documentUri.path), uri: this.documentUri.toString(), style: this.style, negative: this.negative, candidates: this.setup.candidates,
      rows: this.rows.map((r): ReviewRow => ({
        rowId: r.rowId, alt: r.found.prompt, prompt: r.prompt, status: r.skipped ? 'skipped' : r.status, detail: r.detail,
        candidates: r.candidates.map((c) => ({ imageId: c.imageId, seed: c.image.seed })),
        picked: r.picked, skipped: r.skipped,
      })),
      notes: this.setup.notes, busy: this.rows.some((r) => r.job !== undefined), applied: this.applied,
    };
  }

  private postState(): void {
    if (!this.webviewReady) return;
    for (const row of this.rows) {
      for (const c of row.candidates) {
        if (this.sentImages.has(c.imageId)) continue;
        this.sentImages.add(c.imageId);
        this.post({ type: 'candidate', imageId: c.imageId, src: `data:image/png;base64,${Buffer.from(c.image.png).toString('base64')}` });
      }
    }
    this.post({ type: 'state', state: this.state() });
  }

  private post(message: ToReview): void {
    if (this.isDisposed) return;
    void this.panel.webview.postMessage(message).then(undefined, () => undefined);
  }
}
