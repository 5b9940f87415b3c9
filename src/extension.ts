/**
 * Activation wires things up and nothing more (no ONNX Runtime, no engine process: that starts on the first
 * generation, in a forked child).
 */
import * as vscode from 'vscode';
import { registerBenchHooks } from './commands/benchHooks';
import { CancelCommand } from './commands/cancel';
import { GenerateImageCommand } from './commands/generateImage';
import { IllustrateAltTextCommand } from './commands/illustrateAltText';
import { ReuseParametersCommand } from './commands/reuseParameters';
import { Generator } from './generation/generator';
import { AltTextContext } from './markdown/altTextContext';
import { MarkdownEditorTracker } from './markdown/markdownEditorTracker';
import { GeneratePanelManager, PANEL_VIEW_TYPE } from './panel/generatePanel';
import { CommandManager } from './util/commandManager';

/** What activate returns: a small hook for the end-to-end tests. */
export interface InlineDiffusionApi {
  readonly generator: Generator;
  readonly panels: GeneratePanelManager;
}

export function activate(context: vscode.ExtensionContext): InlineDiffusionApi {
  context.subscriptions.push(registerBenchHooks()); // a no-op unless INLINE_DIFFUSION_BENCH_OUT is set (bench)
  const output = vscode.window.createOutputChannel('Inline Diffusion', { log: true });
  const generator = new Generator(context.extensionUri.fsPath, output);
  const markdown = new MarkdownEditorTracker();
  const panels = new GeneratePanelManager(context.extensionUri, generator, markdown);
  const commands = new CommandManager();
  commands.register(new GenerateImageCommand(panels));
  commands.register(new IllustrateAltTextCommand(generator));
  commands.register(new CancelCommand(generator));
  commands.register(new ReuseParametersCommand(generator, panels));
  context.subscriptions.push(
    output, generator, markdown, panels, commands, new AltTextContext(),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, panels),
  );
  return { generator, panels };
}

export function deactivate(): void {
  // everything is disposed through context.subscriptions (the engine process included)
}
