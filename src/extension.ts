/**
 * Activation wires things up and nothing more (no ONNX Runtime, no engine process: that starts on the first
 * generation, in a forked child).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { AddModelCommand } from './commands/addModel';
import { registerBenchHooks } from './commands/benchHooks';
import { CancelCommand } from './commands/cancel';
import { DownloadModelCommand } from './commands/downloadModel';
import { GenerateImageCommand } from './commands/generateImage';
import { IllustrateAltTextCommand } from './commands/illustrateAltText';
import { InstallGpuSupportCommand } from './commands/installGpuSupport';
import { ReuseParametersCommand } from './commands/reuseParameters';
import { SetHfTokenCommand } from './commands/setHfToken';
import { Generator } from './generation/generator';
import { AltTextContext } from './markdown/altTextContext';
import { MarkdownEditorTracker } from './markdown/markdownEditorTracker';
import { GpuSupport } from './models/gpuSupportHost';
import { releaseWhenIdle } from './models/idleRelease';
import { ModelLibrary } from './models/modelLibrary';
import { readModelSettings } from './models/modelSettings';
import { ProviderStatus } from './models/providerStatus';
import { GeneratePanelManager, PANEL_VIEW_TYPE } from './panel/generatePanel';
import { CommandManager } from './util/commandManager';

/** What activate returns: a small hook for the end-to-end tests. */
export interface InlineDiffusionApi {
  readonly generator: Generator;
  readonly panels: GeneratePanelManager;
  readonly library: ModelLibrary;
  readonly providerStatus: ProviderStatus;
}

export function activate(context: vscode.ExtensionContext): InlineDiffusionApi {
  context.subscriptions.push(registerBenchHooks()); // a no-op unless INLINE_DIFFUSION_BENCH_OUT is set (bench)
  const output = vscode.window.createOutputChannel('Inline Diffusion', { log: true });
  const modelSettings = () => readModelSettings((key) => vscode.workspace.getConfiguration('inlineDiffusion').get(key));
  const storage = context.globalStorageUri.fsPath;
  const library = new ModelLibrary(context.globalState, storage, modelSettings);
  // results not saved yet outlive a window reload in the workspace's storage (global storage without a workspace)
  const resultsDir = path.join((context.storageUri ?? context.globalStorageUri).fsPath, 'results');
  const generator = new Generator(context.extensionUri.fsPath, output, library, resultsDir);
  const gpu = new GpuSupport(storage, context.extensionUri.fsPath, generator, output);
  const providerStatus = new ProviderStatus(generator, () => gpu.bindingDir());
  const markdown = new MarkdownEditorTracker();
  const panels = new GeneratePanelManager(context.extensionUri, generator, markdown);
  const commands = new CommandManager();
  commands.register(new GenerateImageCommand(panels));
  commands.register(new IllustrateAltTextCommand(generator));
  commands.register(new CancelCommand(generator));
  commands.register(new ReuseParametersCommand(generator, panels));
  commands.register(new AddModelCommand(library));
  commands.register(new DownloadModelCommand(library, context.secrets, path.join(context.extensionUri.fsPath, 'models', 'catalog.json'), output));
  commands.register(new SetHfTokenCommand(context.secrets));
  commands.register(new InstallGpuSupportCommand(gpu));
  context.subscriptions.push(
    output, library, generator, gpu, providerStatus, markdown, panels, commands, new AltTextContext(),
    releaseWhenIdle(generator, () => modelSettings().releaseAfterIdleMinutes),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, panels),
  );
  return { generator, panels, library, providerStatus };
}

export function deactivate(): void {
  // everything is disposed through context.subscriptions (the engine process included)
}
