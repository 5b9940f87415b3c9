/**
 * The image gallery: a webview grid of the PNGs in the output folder of every workspace folder, newest first, with a
 * filter by prompt, model and sampler (in the webview) and, per image, Reuse Parameters, Insert into Markdown, Reveal
 * in Explorer, Copy Path and Delete (to the trash, after a confirmation). Thumbnails are made when the webview asks
 * for the ones on screen and cached in the extension's storage; the folders are watched and the list rescanned
 * (debounced) when a PNG is created, changed or deleted. Its webview keeps its context while hidden (the list and the
 * thumbnails already sent stay); after a window reload VS Code restores it (src/extension.ts's serializer), and the
 * webview its filter (getState).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FromGallery, GalleryAction, GalleryItem, ToGallery } from '../protocol/galleryMessages';
import type { GenerationHost } from '../generation/generationHost';
import { resolveOutputFolder } from '../generation/imageFiles';
import type { MarkdownEditorTracker } from '../markdown/markdownEditorTracker';
import { insertImageLink } from '../markdown/insertImage';
import { createNonce, renderWebviewPage } from '../panel/panelHtml';
import { GALLERY_VIEW_TYPE } from '../panel/viewType';
import { assertNever } from '../common/assertNever';
import { firstLine } from '../common/firstLine';
import { isInside } from '../util/isInside';
import { Disposable, disposeAll, type IDisposable } from '../util/disposable';
import { GalleryIndex } from './galleryIndex';
import { parseFromGallery } from './galleryMessageGuards';
import { ThumbnailCache } from './thumbnails';

export { GALLERY_VIEW_TYPE };
const RESCAN_DELAY_MS = 300;

export class GalleryPanel extends Disposable {
  private items: GalleryItem[] = [];
  private listed = new Set<string>();
  private webviewReady = false;
  private rescanTimer: NodeJS.Timeout | undefined;
  private readonly watchers: IDisposable[] = [];
  /** Set while thumbnails are being made: the scan waits for them (the first screen before the older files). */
  private thumbsBusy: Promise<void> | undefined;
  /** Counts rescans: only the latest one's result is sent. */
  private scanGeneration = 0;
  private readonly index: GalleryIndex;
  private readonly thumbs: ThumbnailCache;
  /** Counts messages the guard rejected (a test hook). */
  rejectedMessages = 0;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly generationHost: GenerationHost,
    private readonly markdown: MarkdownEditorTracker,
    storageDir: string,
  ) {
    super();
    this._register(panel);
    this.index = new GalleryIndex(path.join(storageDir, 'gallery', 'index.json'), (f) => generationHost.displayPath(f));
    this.thumbs = new ThumbnailCache(path.join(storageDir, 'gallery', 'thumbs'));
    panel.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')] };
    this._register(panel.onDidDispose(() => this.dispose()));
    this._register(panel.webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)));
    this.watchFolders();
    this._register({ dispose: () => disposeAll(this.watchers.splice(0)) });
    this._register(generationHost.onDidSave(() => this.scheduleRescan()));
    this._register(generationHost.onDidChangeSettings(() => { this.watchFolders(); this.scheduleRescan(); }));
    this._register({ dispose: () => { if (this.rescanTimer) clearTimeout(this.rescanTimer); } });
    this.render();
  }

  /**
   * One watcher per output folder, on that folder (a RelativePattern: an absolute folder outside the workspace is
   * watched too, and nothing else is); remade when the settings change.
   */
  private watchFolders(): void {
    disposeAll(this.watchers.splice(0));
    const changed = (uri: vscode.Uri): void => {
      if (this.folders().some((f) => isInside(f, uri.fsPath))) this.scheduleRescan();
    };
    for (const folder of this.folders()) {
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(folder), '**/*.png'));
      this.watchers.push(watcher, watcher.onDidCreate(changed), watcher.onDidChange(changed), watcher.onDidDelete(changed));
    }
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  /** The output folder of every workspace folder (or the absolute one the setting names). */
  folders(): string[] {
    const outputFolder = this.generationHost.settings().outputFolder;
    const roots = vscode.workspace.workspaceFolders?.map((f) => f.uri.fsPath) ?? [];
    const dirs = roots.map((root) => resolveOutputFolder(outputFolder, root, undefined)).filter((d): d is string => d !== undefined);
    if (dirs.length === 0 && path.isAbsolute(outputFolder)) dirs.push(outputFolder);
    return [...new Set(dirs)];
  }

  /**
   * Lists the images again and sends them: the newest page as soon as it is read, then the whole list. The scan is
   * asynchronous (thumbnail requests and actions are answered meanwhile); a newer rescan supersedes an older one.
   */
  async rescan(): Promise<void> {
    if (this.isDisposed) return;
    const generation = ++this.scanGeneration;
    const current = (): boolean => !this.isDisposed && generation === this.scanGeneration;
    const folders = this.folders();
    const shownFolders = folders.map((f) => this.generationHost.displayPath(f));
    const result = await this.index.scan(folders, (first) => {
      if (!current()) return;
      this.items = first;
      for (const i of first) this.listed.add(i.path);
      this.post({ type: 'items', items: first, folders: shownFolders, complete: false });
    }, undefined, () => this.thumbsBusy ?? Promise.resolve());
    if (!current()) return;
    this.items = result.items;
    this.listed = new Set(result.items.map((i) => i.path));
    this.post({ type: 'items', items: this.items, folders: shownFolders, complete: true });
    if (result.leftOut > 0) this.post({ type: 'notice', level: 'info', message: `Showing the newest ${this.items.length} images; ${result.leftOut} older ones are left out.` });
  }

  private scheduleRescan(): void {
    if (this.rescanTimer) clearTimeout(this.rescanTimer);
    this.rescanTimer = setTimeout(() => {
      this.rescanTimer = undefined;
      if (this.webviewReady) void this.rescan();
    }, RESCAN_DELAY_MS);
  }

  private render(): void {
    const webview = this.panel.webview;
    const asset = (name: string): string => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', name)).toString();
    webview.html = renderWebviewPage({
      title: this.panel.title, cspSource: webview.cspSource, nonce: createNonce(), scriptUri: asset('gallery.js'), styleUri: asset('gallery.css'),
      initialJson: 'null',
    });
  }

  private onMessage(raw: unknown): void {
    const parsed = parseFromGallery(raw, (p) => this.listed.has(p));
    if (!parsed.ok) {
      this.rejectedMessages++;
      this.post({ type: 'notice', level: 'error', message: parsed.problem });
      return;
    }
    this.handle(parsed.message).catch((err: unknown) => this.post({ type: 'notice', level: 'error', message: firstLine(err instanceof Error ? err.message : String(err)) }));
  }

  private async handle(message: FromGallery): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.webviewReady = true;
        await this.rescan();
        return;
      case 'thumbs': {
        const work = this.sendThumbnails(message.paths);
        const busy = work.finally(() => { if (this.thumbsBusy === busy) this.thumbsBusy = undefined; });
        this.thumbsBusy = busy;
        await busy;
        return;
      }
      case 'action':
        await this.act(message.action, message.path);
        return;
      default:
        assertNever(message, 'gallery message');
    }
  }

  private async sendThumbnails(paths: readonly string[]): Promise<void> {
    for (const file of paths) {
      if (this.isDisposed) return;
      let src: string | null = null;
      try {
        src = `data:image/png;base64,${Buffer.from(this.thumbs.thumbnail(file)).toString('base64')}`;
      } catch {
        src = null;
      }
      this.post({ type: 'thumb', path: file, src });
      await new Promise((r) => setImmediate(r)); // let other messages through between thumbnails
    }
  }

  private async act(action: GalleryAction, file: string): Promise<void> {
    const uri = vscode.Uri.file(file);
    const name = path.basename(file);
    switch (action) {
      case 'reuse':
        await vscode.commands.executeCommand('inlineDiffusion.reuseParameters', uri);
        return;
      case 'useAsInput':
        // image to image: the file becomes the Generate Image panel's input image (opened or focused)
        await vscode.commands.executeCommand('inlineDiffusion.varyImage', uri);
        return;
      case 'insert': {
        const target = this.markdown.lastMarkdown;
        if (!target) {
          this.post({ type: 'notice', level: 'error', message: 'Open a markdown file first: Insert into Markdown puts the image at its cursor.' });
          return;
        }
        const item = this.items.find((i) => i.path === file);
        const inserted = await insertImageLink(target.uri, target.selection, file, item?.prompt || path.parse(name).name);
        this.post({ type: 'notice', level: inserted ? 'info' : 'error', message: inserted ? `Inserted ${name} into ${path.basename(target.uri.path)}.` : `Could not edit ${path.basename(target.uri.path)}.` });
        return;
      }
      case 'reveal':
        await vscode.commands.executeCommand('revealInExplorer', uri);
        return;
      case 'copyPath':
        await vscode.env.clipboard.writeText(file);
        this.post({ type: 'notice', level: 'info', message: `Copied the path of ${name}.` });
        return;
      case 'delete': {
        const answer = await vscode.window.showWarningMessage(`Delete ${name}?`, { modal: true, detail: 'It goes to the trash (the system\'s recycle bin).' }, 'Move to Trash');
        if (answer !== 'Move to Trash') return;
        try {
          await vscode.workspace.fs.delete(uri, { useTrash: true });
        } catch (err) {
          this.post({ type: 'notice', level: 'error', message: `Could not delete ${name}: ${firstLine((err as Error).message)}` });
          return;
        }
        this.post({ type: 'notice', level: 'info', message: `Moved ${name} to the trash.` });
        await this.rescan();
        return;
      }
      default:
        assertNever(action, 'gallery action');
    }
  }

  private post(message: ToGallery): void {
    if (this.isDisposed) return;
    void this.panel.webview.postMessage(message).then(undefined, () => undefined);
  }
}
