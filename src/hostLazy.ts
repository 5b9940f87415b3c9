/**
 * The host's work, loaded on first use: src/hostLoader.ts requires this file's bundle (dist/host-lazy.js) the first
 * time a command runs or VS Code restores the panel, so activation only registers (src/extension.ts). Here: the
 * output channel, the model library, the generationHost with its engine client (whose process still forks on the first
 * generation), GPU support, the execution-provider status bar item, the panel and every command's work.
 * The state lives here, in one copy: dist/extension.js bundles none of these modules.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { AddModelCommand } from './commands/addModel';
import { CancelCommand } from './commands/cancel';
import { COMMAND_IDS } from './commands/commandIds';
import { DownloadModelCommand } from './commands/downloadModel';
import { GenerateImageCommand } from './commands/generateImage';
import { IllustrateAltTextCommand } from './commands/illustrateAltText';
import { IllustrateDocumentCommand } from './commands/illustrateDocument';
import { ImageVariationsCommand, OpenImageInPanelCommand } from './commands/imageVariations';
import { RegenerateImageCommand } from './commands/regenerateImage';
import { RevealImageCommand } from './commands/revealImage';
import { InstallGpuSupportCommand } from './commands/installGpuSupport';
import { OpenGalleryCommand } from './commands/openGallery';
import { ReuseParametersCommand } from './commands/reuseParameters';
import { VaryImageCommand } from './commands/varyImage';
import { SetHfTokenCommand } from './commands/setHfToken';
import { GenerationHost } from './generation/generationHost';
import { hoverForFile } from './markdown/imageHover';
import type { MarkdownEditorTracker } from './markdown/markdownEditorTracker';
import { GpuSupport } from './models/gpuSupportHost';
import { releaseWhenIdle } from './models/idleRelease';
import { ModelLibrary } from './models/modelLibrary';
import { readModelSettings } from './models/modelSettings';
import { ProviderStatus } from './models/providerStatus';
import { GeneratePanelManager } from './panel/generatePanel';
import type { Command } from './util/commandManager';
import { Disposable } from './util/disposable';

/** What activate returns: a small hook for the tests (reading a member loads the host). */
export interface InlineDiffusionApi {
  readonly generationHost: GenerationHost;
  readonly panels: GeneratePanelManager;
  readonly library: ModelLibrary;
  readonly providerStatus: ProviderStatus;
}

/** What activation hands over: its context and what it has followed since. */
export interface HostParts {
  readonly context: vscode.ExtensionContext;
  /** The last markdown editor and cursor (Insert into Markdown goes there). */
  readonly markdown: MarkdownEditorTracker;
  /** The last text document the user was in before the host loaded. */
  readonly lastDocument: vscode.Uri | undefined;
}

export class Host extends Disposable implements InlineDiffusionApi {
  readonly generationHost: GenerationHost;
  readonly panels: GeneratePanelManager;
  readonly library: ModelLibrary;
  readonly providerStatus: ProviderStatus;
  private readonly commands = new Map<string, Command>();
  private readonly gallery: OpenGalleryCommand;
  private readonly illustrateDocument: IllustrateDocumentCommand;

  constructor({ context, markdown, lastDocument }: HostParts) {
    super();
    const output = this._register(vscode.window.createOutputChannel('Inline Diffusion', { log: true }));
    const modelSettings = () => readModelSettings((key) => vscode.workspace.getConfiguration('inlineDiffusion').get(key));
    const storage = context.globalStorageUri.fsPath;
    this.library = this._register(new ModelLibrary(context.globalState, storage, modelSettings));
    // results not saved yet outlive a window reload in the workspace's storage (global storage without a workspace)
    const resultsDir = path.join((context.storageUri ?? context.globalStorageUri).fsPath, 'results');
    const generationHost = this._register(new GenerationHost(context.extensionUri.fsPath, output, this.library, resultsDir, lastDocument));
    this.generationHost = generationHost;
    const gpu = this._register(new GpuSupport(storage, context.extensionUri.fsPath, generationHost, output));
    this.providerStatus = this._register(new ProviderStatus(generationHost, () => gpu.bindingDir()));
    this.panels = this._register(new GeneratePanelManager(context.extensionUri, generationHost, markdown));
    const illustrate = new IllustrateAltTextCommand(generationHost);
    this.gallery = this._register(new OpenGalleryCommand(generationHost, markdown, context.extensionUri, (context.storageUri ?? context.globalStorageUri).fsPath));
    this.illustrateDocument = this._register(new IllustrateDocumentCommand(generationHost, context.extensionUri));
    for (const command of [
      new GenerateImageCommand(this.panels),
      illustrate,
      new RegenerateImageCommand(generationHost, illustrate),
      new ImageVariationsCommand(generationHost, this.panels),
      new OpenImageInPanelCommand(),
      new RevealImageCommand(),
      this.gallery,
      this.illustrateDocument,
      new CancelCommand(generationHost),
      new ReuseParametersCommand(generationHost, this.panels),
      new VaryImageCommand(this.panels),
      new AddModelCommand(this.library),
      new DownloadModelCommand(this.library, context.secrets, path.join(context.extensionUri.fsPath, 'models', 'catalog.json'), output),
      new SetHfTokenCommand(context.secrets),
      new InstallGpuSupportCommand(gpu),
    ]) this.commands.set(command.id, command);
    const ids = [...this.commands.keys()].sort().join(', ');
    if (ids !== [...COMMAND_IDS].sort().join(', ')) throw new Error(`expected the commands registered at activation (${[...COMMAND_IDS].sort().join(', ')}); the host has ${ids}`);
    this._register(releaseWhenIdle(generationHost, () => modelSettings().releaseAfterIdleMinutes));
  }

  /** The hover's markdown for a PNG an image link points at (src/markdown/markdownProviders.ts asks). */
  async imageHover(file: string, document: vscode.Uri, offset: number): Promise<string | undefined> {
    return (await hoverForFile(file, vscode.Uri.file(file).toString(), document.toString(), offset))?.markdown;
  }

  /** A review panel VS Code restores after a window reload, with the state its webview kept. */
  restoreReview(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    return this.illustrateDocument.restore(panel, state);
  }

  /** The gallery VS Code restores after a window reload. */
  restoreGallery(panel: vscode.WebviewPanel): void {
    this.gallery.restore(panel);
  }

  /** Runs a command registered at activation. */
  execute(id: string, args: readonly unknown[]): unknown {
    const command = this.commands.get(id);
    if (!command) throw new Error(`expected one of the commands ${[...this.commands.keys()].join(', ')}; got ${id}`);
    return command.execute(...args);
  }
}
