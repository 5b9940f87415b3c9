import * as vscode from 'vscode';
import type { Command } from '../util/commandManager';
import type { GenerationHost } from '../generation/generationHost';
import { GALLERY_VIEW_TYPE, GalleryPanel } from '../gallery/galleryPanel';
import type { MarkdownEditorTracker } from '../markdown/markdownEditorTracker';
import { Disposable } from '../util/disposable';

/** "Open Image Gallery": the grid of the workspace's generated images (one gallery; revealed when open). */
export class OpenGalleryCommand extends Disposable implements Command {
  readonly id = 'inlineDiffusion.openGallery';
  private current: GalleryPanel | undefined;

  constructor(private readonly generationHost: GenerationHost, private readonly markdown: MarkdownEditorTracker,
    private readonly extensionUri: vscode.Uri, private readonly storageDir: string) {
    super();
  }

  /** The open gallery (a test hook). */
  get gallery(): GalleryPanel | undefined {
    return this.current;
  }

  execute(): GalleryPanel {
    if (this.current && !this.current.isDisposed) {
      this.current.reveal();
      return this.current;
    }
    const panel = vscode.window.createWebviewPanel(GALLERY_VIEW_TYPE, 'Image Gallery', vscode.ViewColumn.Active,
      { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview')] });
    return this.adopt(panel);
  }

  /** The gallery VS Code restores after a window reload (its webview restores its filter); a second one is closed. */
  restore(panel: vscode.WebviewPanel): void {
    if (this.current && !this.current.isDisposed) {
      panel.dispose();
      return;
    }
    this.adopt(panel);
  }

  private adopt(panel: vscode.WebviewPanel): GalleryPanel {
    const gallery = new GalleryPanel(panel, this.extensionUri, this.generationHost, this.markdown, this.storageDir);
    this.current = gallery;
    return gallery;
  }

  override dispose(): void {
    this.current?.dispose();
    super.dispose();
  }
}
