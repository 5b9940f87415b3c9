/**
 * The "Generate Image" webview panel: one at a time, revealed when it exists. Its webview is destroyed when hidden
 * (retainContextWhenHidden off) and rebuilds itself from getState/setState; after a window reload the
 * WebviewPanelSerializer hands the panel back. Every message from the webview is validated first; a bad one becomes
 * an inline notice, never an exception here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FromWebview, ImageResult, PanelParams, ToWebview } from '../protocol/webviewMessages';
import type { GenerationHost } from '../generation/generationHost';
import type { FinishedImage } from '../generation/generationService';
import type { MarkdownEditorTracker } from '../markdown/markdownEditorTracker';
import { insertImageLink } from '../markdown/insertImage';
import { assertNever } from '../common/assertNever';
import { Disposable } from '../util/disposable';
import { firstLine } from '../common/firstLine';
import { createNonce, escapeHtml, renderPanelHtml } from './panelHtml';
import { PANEL_VIEW_TYPE } from './viewType';
import { parseFromWebview } from './webviewMessageGuards';
import { NetworkFolderWatch } from './networkFolders';
import { panelNetworks } from '../generation/generationHost';
import { INPUT_IMAGE_MAX_BYTES, InputImageStore, inputImageFromBytes, type InputImage } from '../generation/inputImage';

export { PANEL_VIEW_TYPE };
export const PANEL_TITLE = 'Generate Image';
const MISSED_IMAGES_KEPT = 16;

export class GeneratePanel extends Disposable {
  private modelIds: string[] = [];
  /** Whether the webview has said `ready` since it was (re)loaded; messages before that would be lost. */
  private webviewReady = false;
  private pendingLoad: { params: PanelParams; note: string | null } | undefined;
  /** The input images the webview may name with Generate (their pixels stay here). */
  private readonly inputs = new InputImageStore();
  /** An input image set while the webview was not ready ("Vary Image…" opening the panel). */
  private pendingInput: { input: InputImage; note: string | null } | undefined;
  /** Images finished while the webview was hidden (destroyed), handed over when it is back. */
  private missed: FinishedImage[] = [];
  /** Saves (e.g. an illustration's image) while the webview was hidden: image id → display path. */
  private missedSaves = new Map<string, string>();
  /** Counts messages the guard rejected (a test hook: the host survives them). */
  rejectedMessages = 0;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly generationHost: GenerationHost,
    private readonly markdown: MarkdownEditorTracker,
    /** Restored after a window reload: its first `ready` also gets the unsaved results the host kept. */
    private restored = false,
  ) {
    super();
    this._register(panel);
    panel.webview.options = GeneratePanel.webviewOptions(extensionUri);
    this._register(panel.onDidDispose(() => this.dispose()));
    this._register(panel.webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)));
    this._register(panel.onDidChangeViewState((e) => { if (!e.webviewPanel.visible) this.webviewReady = false; }));
    const service = generationHost.service;
    this._register(service.onDidChangeQueue(() => this.postQueue()));
    this._register(service.onProgress((p) => this.post({
      type: 'progress', jobId: p.jobId, imageIndex: p.imageIndex, imageCount: p.imageCount, step: p.step,
      totalSteps: p.totalSteps, itPerSec: p.itPerSec, etaMs: p.etaMs,
      previews: p.previews.map((im) => ({ width: im.width, height: im.height, rgb: im.rgb })),
      ...(p.pass === undefined ? {} : { pass: p.pass }),
    })));
    this._register(service.onImage((image) => {
      if (image.source === 'document') return; // a review's candidates are shown (and kept) by the review
      if (this.webviewReady) this.post({ type: 'image', image: this.toResult(image) });
      else this.missed = [...this.missed, image].slice(-MISSED_IMAGES_KEPT);
    }));
    this._register(service.onJobEnded(({ job, outcome }) => this.post({
      type: 'jobEnded', jobId: job.id, outcome: outcome.status,
      message: outcome.status === 'failed' ? firstLine(outcome.error.message) : null,
    })));
    this._register(generationHost.onDidSave((image) => {
      if (!image.savedPath) return;
      const savedPath = generationHost.displayPath(image.savedPath);
      if (this.webviewReady) this.post({ type: 'saved', imageId: image.imageId, savedPath });
      else this.missedSaves.set(image.imageId, savedPath);
    }));
    // The LoRA / embedding lists follow their folders while the panel is open (and the folder settings).
    const networks = this._register(new NetworkFolderWatch(
      (folder) => vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(folder), '**/*')),
      (folders) => panelNetworks(folders.lora, folders.embeddings),
      (lists) => { if (this.webviewReady) this.post({ type: 'networks', ...(lists === undefined ? {} : { networks: lists }) }); },
    ));
    networks.setFolders(generationHost.networkFolders());
    this._register(generationHost.onDidChangeSettings(() => {
      networks.setFolders(generationHost.networkFolders());
      void this.postSetup();
    }));
    this.render().catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      if (!this.isDisposed) this.panel.webview.html = `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></head><body><p>Inline Diffusion could not open the panel: ${escapeHtml(message)}</p></body></html>`;
    });
  }

  static webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')],
    };
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  /** Loads parameters into the form (Reuse Parameters from Image). */
  loadParams(params: PanelParams, note: string | null): void {
    if (this.webviewReady) this.post({ type: 'loadParams', params, note });
    else this.pendingLoad = { params, note };
  }

  /** Makes a file the input image (Vary Image…, the gallery's Use as Input, the picker, a drop); throws a one-line reason. */
  async useInputFile(uri: vscode.Uri): Promise<void> {
    const name = path.basename(uri.path);
    const stat = await vscode.workspace.fs.stat(uri).then(undefined, (err: unknown) => {
      throw new Error(`cannot read ${name}: ${firstLine(err instanceof Error ? err.message : String(err))}`);
    });
    if ((stat.type & vscode.FileType.File) === 0) throw new Error(`${name} is not a file`);
    if (stat.size > INPUT_IMAGE_MAX_BYTES) {
      throw new Error(`${name}: ${Math.round(stat.size / 1024 / 1024)} MB is over the ${INPUT_IMAGE_MAX_BYTES / 1024 / 1024} MB limit for input images`);
    }
    this.setInput(inputImageFromBytes(await vscode.workspace.fs.readFile(uri), name, 'file'));
  }

  private setInput(input: InputImage): void {
    this.inputs.add(input);
    const note = input.info.notes.length ? `Input image ${input.info.name}: ${input.info.notes.join('; ')}.` : null;
    if (this.webviewReady) this.post({ type: 'inputImage', image: input.info, note });
    else this.pendingInput = { input, note };
  }

  private async render(): Promise<void> {
    const setup = await this.generationHost.panelSetup();
    if (this.isDisposed) return;
    this.modelIds = setup.models.map((m) => m.id);
    const webview = this.panel.webview;
    const asset = (name: string): string => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', name)).toString();
    webview.html = renderPanelHtml({
      cspSource: webview.cspSource, nonce: createNonce(), scriptUri: asset('main.js'), styleUri: asset('main.css'),
      initialJson: JSON.stringify(setup),
    });
  }

  private async postSetup(): Promise<void> {
    const setup = await this.generationHost.panelSetup();
    this.modelIds = setup.models.map((m) => m.id);
    this.post({ type: 'setup', setup });
  }

  private postQueue(): void {
    const service = this.generationHost.service;
    this.post({ type: 'queue', jobs: service.queue, runningJobId: service.runningJobId });
  }

  private post(message: ToWebview): void {
    if (this.isDisposed) return;
    void this.panel.webview.postMessage(message).then(undefined, () => undefined);
  }

  private notice(level: 'error' | 'info', message: string, field: keyof PanelParams | null = null): void {
    this.post({ type: 'notice', level, message, field });
  }

  private onMessage(raw: unknown): void {
    const parsed = parseFromWebview(raw, { modelIds: this.modelIds });
    if (!parsed.ok) {
      this.rejectedMessages++;
      this.notice('error', parsed.problem, parsed.field);
      return;
    }
    this.handle(parsed.message).catch((err: unknown) => this.notice('error', firstLine(err instanceof Error ? err.message : String(err))));
  }

  private async handle(message: FromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.webviewReady = true;
        await this.postSetup();
        this.postQueue();
        if (this.pendingLoad) this.post({ type: 'loadParams', ...this.pendingLoad });
        this.pendingLoad = undefined;
        if (this.pendingInput) this.post({ type: 'inputImage', image: this.pendingInput.input.info, note: this.pendingInput.note });
        this.pendingInput = undefined;
        for (const image of this.missed) this.post({ type: 'image', image: this.toResult(image) });
        for (const [imageId, savedPath] of this.missedSaves) this.post({ type: 'saved', imageId, savedPath });
        this.missed = [];
        this.missedSaves.clear();
        if (this.restored) await this.postKeptResults();
        this.restored = false;
        return;
      case 'generate': {
        if (message.inputImageId === undefined) {
          await this.generationHost.enqueue(message.params, 'panel');
          return;
        }
        const input = this.inputs.get(message.inputImageId);
        if (!input) {
          // the host forgot it (VS Code was reloaded): the webview's saved state still shows it
          this.post({ type: 'inputImage', image: null, note: null });
          this.notice('error', 'The input image is no longer held (VS Code was reloaded or newer ones replaced it): choose it again.');
          return;
        }
        await this.generationHost.enqueue(message.params, 'panel', input.image);
        return;
      }
      case 'useAsInput': {
        const image = await this.image(message.imageId);
        if (!image) return;
        const name = image.savedPath !== null ? path.basename(image.savedPath) : `the image of seed ${image.image.seed}`;
        this.setInput(inputImageFromBytes(image.image.png, name, 'result'));
        return;
      }
      case 'pickInputImage': {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: false, openLabel: 'Use as Input', title: 'Input image for image to image',
          filters: { 'Images (PNG, JPEG)': ['png', 'jpg', 'jpeg'] },
        });
        if (picked?.[0]) await this.useInputFile(picked[0]);
        return;
      }
      case 'inputImageData':
        this.setInput(inputImageFromBytes(message.data, message.name, 'paste'));
        return;
      case 'inputImageUri':
        await this.useInputFile(vscode.Uri.parse(message.uri, true));
        return;
      case 'cancel':
        this.generationHost.service.cancel(message.jobId ?? this.generationHost.service.runningJobId ?? undefined);
        return;
      case 'save': {
        const image = await this.image(message.imageId);
        if (image) await this.generationHost.save(image);
        return;
      }
      case 'insert':
        await this.insert(message.imageId);
        return;
      case 'open': {
        const image = await this.image(message.imageId);
        const file = image && (await this.generationHost.save(image));
        if (file && this.fileStillThere(file)) {
          await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file), { viewColumn: vscode.ViewColumn.Active });
        }
        return;
      }
      case 'discard':
        if (!(await this.generationHost.discard(message.imageId))) this.notice('info', 'That image was already gone.');
        return;
      case 'show': {
        // From the history strip: the image comes back among the results with its buttons (an older job's unsaved
        // image can be saved this way, also after a reload).
        const image = await this.image(message.imageId);
        if (image) this.post({ type: 'image', image: this.toResult(image) });
        return;
      }
      case 'variations':
        await this.variations(message.imageId);
        return;
      case 'copySeed':
        await vscode.env.clipboard.writeText(String(message.seed));
        this.notice('info', `Copied seed ${message.seed}.`);
        return;
      case 'countTokens': {
        // A counter is a hint: when it cannot be had (a model without tokenizer files), the field shows none.
        const counts = await this.generationHost.countTokens(message.prompt, message.negativePrompt, message.model, message.steps)
          .catch((err: unknown) => { this.generationHost.logCount(err); return { prompt: '', negativePrompt: '' }; });
        this.post({ type: 'tokenCounts', ...counts });
        return;
      }
      default:
        assertNever(message, 'webview message');
    }
  }

  /**
   * After a reload, the unsaved results the host kept (the newest job's, at most MISSED_IMAGES_KEPT), in case the
   * webview's saved state is older than them (a web workbench may not flush it on an abrupt reload). The webview
   * ignores ids it already shows.
   */
  private async postKeptResults(): Promise<void> {
    const kept = (await this.generationHost.results?.list() ?? []).filter((r) => r.savedPath === null && r.source !== 'document');
    const last = kept[kept.length - 1];
    if (!last) return;
    for (const entry of kept.filter((r) => r.jobId === last.jobId && jobKey(r.imageId) === jobKey(last.imageId)).slice(-MISSED_IMAGES_KEPT)) {
      const image = await this.generationHost.findImage(entry.imageId);
      if (image) this.post({ type: 'image', image: this.toResult(image) });
    }
  }

  /** This session's image, or the copy the extension's storage kept from before a reload; else a notice. */
  private async image(imageId: string): Promise<FinishedImage | undefined> {
    const image = await this.generationHost.findImage(imageId);
    if (!image) {
      this.notice('error', 'That image is no longer kept by the extension (it was discarded, or was older than the storage keeps); '
        + 'saved images are still in the output folder.');
    }
    return image;
  }

  /** A result's "Variations": queued at once, with a note saying what they are. */
  private async variations(imageId: string): Promise<void> {
    const image = await this.image(imageId);
    if (!image) return;
    const made = await this.generationHost.enqueueVariations(image.params, image.image.seed);
    if (!made.ok) {
      this.notice('error', `Variations: ${made.reason}.`);
      return;
    }
    this.notice('info', variationsNote(made.params));
  }

  /** A saved file the user may have moved or deleted since: say so instead of opening or linking nothing. */
  private fileStillThere(file: string): boolean {
    if (fs.existsSync(file)) return true;
    this.notice('error', `The saved file ${this.generationHost.displayPath(file)} is no longer there (moved or deleted).`);
    return false;
  }

  private async insert(imageId: string): Promise<void> {
    const image = await this.image(imageId);
    if (!image) return;
    const target = this.markdown.lastMarkdown;
    if (!target) {
      this.notice('error', 'Open a markdown file first: Insert into Markdown puts the image at its cursor.');
      return;
    }
    const file = await this.generationHost.save(image, target.uri);
    if (!file || !this.fileStillThere(file)) return;
    const inserted = await insertImageLink(target.uri, target.selection, file, image.params.prompt);
    this.notice(inserted ? 'info' : 'error', inserted
      ? `Inserted ${path.basename(file)} into ${path.basename(target.uri.path)}.`
      : `Could not edit ${path.basename(target.uri.path)}.`);
  }

  private toResult(image: FinishedImage): ImageResult {
    return {
      imageId: image.imageId, jobId: image.jobId, seed: image.image.seed, width: image.image.width, height: image.image.height,
      src: `data:image/png;base64,${Buffer.from(image.image.png).toString('base64')}`,
      infotext: image.image.infotext, params: image.params,
      savedPath: image.savedPath === null ? null : this.generationHost.displayPath(image.savedPath),
    };
  }
}

/** Holds the one panel; creates, reveals and restores it. */
export class GeneratePanelManager extends Disposable implements vscode.WebviewPanelSerializer {
  private current: GeneratePanel | undefined;

  constructor(private readonly extensionUri: vscode.Uri, private readonly generationHost: GenerationHost, private readonly markdown: MarkdownEditorTracker) {
    super();
  }

  get panel(): GeneratePanel | undefined {
    return this.current;
  }

  /** Opens the panel, or reveals it when open. */
  show(): GeneratePanel {
    if (this.current) {
      this.current.reveal();
      return this.current;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, PANEL_TITLE, vscode.ViewColumn.Beside,
      GeneratePanel.webviewOptions(this.extensionUri));
    return this.adopt(panel);
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
    if (this.current) {
      panel.dispose(); // one panel at a time
      return;
    }
    this.adopt(panel, true);
  }

  override dispose(): void {
    this.current?.dispose();
    super.dispose();
  }

  private adopt(webviewPanel: vscode.WebviewPanel, restored = false): GeneratePanel {
    const panel = new GeneratePanel(webviewPanel, this.extensionUri, this.generationHost, this.markdown, restored);
    this.current = panel;
    webviewPanel.onDidDispose(() => { if (this.current === panel) this.current = undefined; });
    return panel;
  }
}

/** The job part of an image id (`<host session>-<job>-<n>`). */
function jobKey(imageId: string): string {
  return imageId.slice(0, imageId.lastIndexOf('-'));
}

/** "Making 4 variations of seed 42 …": what a Variations click queued. */
export function variationsNote(params: PanelParams): string {
  return `Making ${params.batchCount} variation${params.batchCount === 1 ? '' : 's'} of seed ${params.seed}: new variation seeds at strength `
    + `${params.variationStrength} (settings: Inline Diffusion › Variation Count / Variation Strength).`;
}
