/**
 * The panel's LoRA and embedding lists kept fresh while it is open: a FileSystemWatcher on each folder the settings
 * name, its events gathered for a moment (a copy fires many), then the lists read again and handed on when they
 * changed — or when an embedding file changed, whose vector count the token counter uses.
 *
 * VS Code's watcher rather than fs.watch: `createFileSystemWatcher(new RelativePattern(Uri.file(folder), '**\/*'))`
 * watches sub-folders on every platform (fs.watch's `recursive` is missing on Linux before Node 20 and costs one
 * inotify watch per folder), runs in VS Code's file watcher process, and works for folders outside the workspace;
 * the gallery watches its folders the same way. The watcher is injected so this file needs no `vscode` at run time.
 */
import type { PanelNetworks } from '../protocol/webviewMessages';
import { isInside } from '../util/isInside';

interface Subscription { dispose(): unknown }

/** What the panel needs of a vscode.FileSystemWatcher. */
export interface FolderWatcher extends Subscription {
  onDidCreate(listener: (uri: unknown) => unknown): Subscription;
  onDidChange(listener: (uri: unknown) => unknown): Subscription;
  onDidDelete(listener: (uri: unknown) => unknown): Subscription;
}

export interface NetworkFolders { readonly lora: string; readonly embeddings: string }

export const NETWORK_WATCH_DEBOUNCE_MS = 300;

export class NetworkFolderWatch {
  private folders: NetworkFolders = { lora: '', embeddings: '' };
  private subscriptions: Subscription[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private embeddingChanged = false;
  private last = '';
  private disposed = false;

  constructor(
    private readonly watch: (folder: string) => FolderWatcher,
    /** The lists of two folders ('' when unset); undefined when neither is set. */
    private readonly list: (folders: NetworkFolders) => PanelNetworks | undefined,
    private readonly onLists: (networks: PanelNetworks | undefined) => void,
    private readonly debounceMs = NETWORK_WATCH_DEBOUNCE_MS,
  ) {}

  /** Watches these folders (again only if they changed); the lists they hold now are the ones later events compare to. */
  setFolders(folders: NetworkFolders): void {
    if (this.disposed) return;
    const same = folders.lora === this.folders.lora && folders.embeddings === this.folders.embeddings && this.subscriptions.length > 0;
    this.last = JSON.stringify(this.list(folders) ?? null);
    if (same) return;
    this.unwatch();
    this.folders = folders;
    for (const folder of new Set([folders.lora, folders.embeddings].filter((f) => f !== ''))) {
      const watcher = this.watch(folder);
      const changed = (isChange: boolean) => (uri: unknown): void => {
        const file = (uri as { fsPath?: unknown } | undefined)?.fsPath;
        if (isChange && folders.embeddings !== '' && typeof file === 'string' && isInside(folders.embeddings, file)) this.embeddingChanged = true;
        this.schedule();
      };
      this.subscriptions.push(watcher, watcher.onDidCreate(changed(false)), watcher.onDidChange(changed(true)), watcher.onDidDelete(changed(false)));
    }
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), this.debounceMs);
  }

  private refresh(): void {
    if (this.disposed) return;
    const networks = this.list(this.folders);
    const text = JSON.stringify(networks ?? null);
    const changed = text !== this.last || this.embeddingChanged;
    this.last = text;
    this.embeddingChanged = false;
    if (changed) this.onLists(networks);
  }

  private unwatch(): void {
    clearTimeout(this.timer);
    for (const s of this.subscriptions) s.dispose();
    this.subscriptions = [];
  }

  dispose(): void {
    this.disposed = true;
    this.unwatch();
  }
}
