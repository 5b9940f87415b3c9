/**
 * One cold activation, run by bench/activation.ts in a fresh Node process (bundled to plain JS, so no TypeScript
 * loader sits in the timed path): the extension bundle is required and activated against the stub `vscode` of
 * test/fixtures/vscodeStub.ts, then "Generate Image" is run once (what the lazy part costs on first use).
 * argv: <extensionDir> <scratchDir>. Prints one JSON line of milliseconds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createContextParts, createVscodeStub, installVscodeStub } from '../test/fixtures/vscodeStub';

async function main(): Promise<void> {
  const [extensionDir, scratch] = process.argv.slice(2);
  const workspace = path.join(scratch, 'workspace');
  fs.mkdirSync(workspace, { recursive: true });
  const stub = createVscodeStub({ workspaceFolder: workspace, config: {} });
  installVscodeStub(stub.vscode);
  const subscriptions: Array<{ dispose(): unknown }> = [];
  const context = { subscriptions, extensionUri: stub.vscode.Uri.file(extensionDir), ...createContextParts(path.join(scratch, 'storage')) };

  const t0 = performance.now();
  const extension = require(path.join(extensionDir, 'dist', 'extension.js')) as { activate(context: unknown): unknown };
  const t1 = performance.now();
  extension.activate(context);
  const t2 = performance.now();
  // work activation left for the event loop (timers, promises): the host's loop is busy with it right after
  const elu0 = performance.eventLoopUtilization();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const deferredBusyMs = performance.eventLoopUtilization(elu0).active;
  const onnxLoaded = Object.keys(require.cache).some((k) => k.includes('onnxruntime'));

  // first use: the command that loads whatever activation left for later
  const t3 = performance.now();
  await stub.vscode.commands.executeCommand('inlineDiffusion.generateImage');
  const t4 = performance.now();
  const end = performance.now() + 10_000;
  while (!stub.panels[0]?.webview.html && performance.now() < end) await new Promise((resolve) => setImmediate(resolve));
  const t5 = performance.now();
  for (const s of subscriptions.reverse()) await s.dispose();
  process.stdout.write(`${JSON.stringify({
    requireMs: t1 - t0, activateMs: t2 - t1, deferredBusyMs, onnxLoaded, firstCommandMs: t4 - t3, firstPanelHtmlMs: t5 - t3,
  })}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
