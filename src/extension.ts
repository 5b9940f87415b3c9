/**
 * Activation registers and nothing more: commands, the markdown context key, the webviews' serializers (the panel,
 * the review, the gallery), and the trackers that must follow the editors from the start. The host's work (models, generation host, engine client, panel, status bar
 * item) loads on first use from its own bundle (src/hostLoader.ts → src/hostLazy.ts); no ONNX Runtime, no engine
 * process, no disk scan here: the engine starts on the first generation, in a forked child.
 */
import * as vscode from 'vscode';
import { registerBenchHooks } from './commands/benchHooks';
import { COMMAND_IDS } from './commands/commandIds';
import { LazyHost } from './hostLoader';
import type { InlineDiffusionApi } from './hostLazy';
import { AltTextContext } from './markdown/altTextContext';
import { MarkdownEditorTracker } from './markdown/markdownEditorTracker';
import { MarkdownProviders } from './markdown/markdownProviders';
import { GALLERY_VIEW_TYPE, PANEL_VIEW_TYPE, REVIEW_VIEW_TYPE } from './panel/viewType';
import { CommandManager } from './util/commandManager';
import { LastDocument } from './util/lastDocument';

export type { InlineDiffusionApi } from './hostLazy';

export function activate(context: vscode.ExtensionContext): InlineDiffusionApi {
  context.subscriptions.push(registerBenchHooks()); // a no-op unless INLINE_DIFFUSION_BENCH_OUT is set (bench)
  const markdown = new MarkdownEditorTracker();
  const lastDocument = new LastDocument();
  const host = new LazyHost(() => ({ context, markdown, lastDocument: lastDocument.uri }));
  const commands = new CommandManager();
  for (const id of COMMAND_IDS) commands.register({ id, execute: (...args: unknown[]) => host.get().execute(id, args) });
  context.subscriptions.push(
    markdown, lastDocument, host, commands, new AltTextContext(),
    new MarkdownProviders((file, document, offset) => host.get().imageHover(file, document, offset)),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: (panel: vscode.WebviewPanel) => host.get().panels.deserializeWebviewPanel(panel),
    }),
    vscode.window.registerWebviewPanelSerializer(REVIEW_VIEW_TYPE, {
      deserializeWebviewPanel: (panel: vscode.WebviewPanel, state: unknown) => host.get().restoreReview(panel, state),
    }),
    vscode.window.registerWebviewPanelSerializer(GALLERY_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel) => host.get().restoreGallery(panel),
    }),
  );
  return host.api();
}

export function deactivate(): void {
  // everything is disposed through context.subscriptions (the host and its engine process included, once loaded)
}
