/**
 * Activation only registers: the host's work (src/hostLazy.ts) is a bundle of its own that loads on first use. The
 * entry bundle shares no stateful module with it, activation reads no file and creates no output channel, and the
 * first command, a restored panel, or the test API each load the host once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildTestExtension } from '../fixtures/extensionBundle';
import { createContextParts, createVscodeStub, installVscodeStub, StubPanel } from '../fixtures/vscodeStub';
import type { InlineDiffusionApi } from '../../src/extension';

const repo = path.resolve(__dirname, '../..');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inline-diffusion-lazy-'));
const extensionDir = path.join(root, 'extension');
const stub = createVscodeStub({ workspaceFolder: path.join(root, 'workspace'), config: { threads: 1, executionProvider: 'cpu' } });
let uninstall: () => void = () => undefined;
const windows: Array<Array<{ dispose(): unknown }>> = [];

/** Modules both bundles hold: stateless (constants, pure functions, a base class), so two copies cannot disagree. */
const SHARED_STATELESS = ['src/commands/commandIds.ts', 'src/markdown/altText.ts', 'src/markdown/hoverCommands.ts', 'src/markdown/imageTarget.ts',
  'src/panel/viewType.ts', 'src/util/disposable.ts', 'src/util/isInside.ts'];

const lazyBundle = (): string => path.join(extensionDir, 'dist', 'host-lazy.js');
const isLoaded = (): boolean => require.cache[lazyBundle()] !== undefined;

/** A fresh window: the entry bundle re-required, activated; returns the API and what activate did to the disk. */
function activateWindow(): { api: InlineDiffusionApi; fsCalls: string[] } {
  const file = path.join(extensionDir, 'dist', 'extension.js');
  delete require.cache[file];
  delete require.cache[lazyBundle()];
  const extension = require(file) as { activate(context: unknown): unknown };
  const subscriptions: Array<{ dispose(): unknown }> = [];
  windows.push(subscriptions);
  const context = { subscriptions, extensionUri: stub.vscode.Uri.file(extensionDir), ...createContextParts(path.join(root, 'storage')) };
  const fsCalls: string[] = [];
  const fsAny = fs as unknown as Record<string, unknown>;
  const names = Object.keys(fs).filter((k) => typeof fsAny[k] === 'function' && /Sync$/.test(k));
  const originals = names.map((k) => [k, fsAny[k]] as const);
  for (const [k, fn] of originals) fsAny[k] = (...args: unknown[]) => { fsCalls.push(`${k}(${String(args[0])})`); return (fn as (...a: unknown[]) => unknown)(...args); };
  try {
    return { api: extension.activate(context) as InlineDiffusionApi, fsCalls };
  } finally {
    for (const [k, fn] of originals) fsAny[k] = fn;
  }
}

async function closeWindow(): Promise<void> {
  for (const s of (windows.pop() ?? []).reverse()) await s.dispose();
}

before(async () => {
  await buildTestExtension(extensionDir);
  uninstall = installVscodeStub(stub.vscode);
});

after(async () => {
  while (windows.length) await closeWindow();
  uninstall();
  fs.rmSync(root, { recursive: true, force: true });
});

test('the entry bundle shares only stateless modules with the lazily loaded host bundle', async () => {
  const inputs = async (entry: string): Promise<Set<string>> => {
    const r = await esbuild.build({ entryPoints: [path.join(repo, entry)], bundle: true, platform: 'node', format: 'cjs', write: false,
      metafile: true, external: ['vscode', 'onnxruntime-node'], absWorkingDir: repo, logLevel: 'silent' });
    return new Set(Object.keys(r.metafile.inputs));
  };
  const entry = await inputs('src/extension.ts');
  const lazy = await inputs('src/hostLazy.ts');
  assert.deepEqual([...entry].filter((f) => lazy.has(f)).sort(), SHARED_STATELESS);
  assert.ok(!entry.has('src/generation/generationHost.ts') && !entry.has('src/panel/generatePanel.ts'));
});

test('activation registers the commands, and loads, reads and creates nothing else', () => {
  const { fsCalls } = activateWindow();
  const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { contributes: { commands: Array<{ command: string }> } };
  assert.deepEqual([...stub.commands.keys()].sort(), manifest.contributes.commands.map((c) => c.command).sort());
  assert.deepEqual(fsCalls, []);
  assert.equal(isLoaded(), false);
  assert.deepEqual(Object.keys(require.cache).filter((k) => k.includes('onnxruntime')), []);
  assert.equal(stub.statusItems.length, 0);
});

test('the first command loads the host once; later commands reuse it', async () => {
  await stub.vscode.commands.executeCommand('inlineDiffusion.generateImage');
  assert.equal(isLoaded(), true);
  const loaded = require.cache[lazyBundle()];
  assert.equal(stub.panels.length, 1);
  await stub.vscode.commands.executeCommand('inlineDiffusion.cancel');
  await stub.vscode.commands.executeCommand('inlineDiffusion.generateImage');
  assert.equal(require.cache[lazyBundle()], loaded);
  assert.equal(stub.panels.length, 1, 'the second Generate Image reveals the same panel');
  assert.equal(stub.statusItems.length, 1, 'the execution-provider item exists (hidden until a result)');
  assert.equal(stub.statusItems[0].visible, false);
  await closeWindow();
});

test('a panel restored after a reload loads the host and is adopted', async () => {
  const registered: Array<{ deserializeWebviewPanel(panel: unknown, state: unknown): Promise<void> }> = [];
  const window = stub.vscode.window as unknown as Record<string, unknown>;
  const original = window.registerWebviewPanelSerializer;
  window.registerWebviewPanelSerializer = (viewType: string, serializer: (typeof registered)[number]) => {
    if (viewType === 'inlineDiffusion.generatePanel') registered.push(serializer);
    else assert.ok(['inlineDiffusion.reviewPanel', 'inlineDiffusion.gallery'].includes(viewType), viewType);
    return { dispose(): void {} };
  };
  try {
    activateWindow();
  } finally {
    window.registerWebviewPanelSerializer = original;
  }
  assert.equal(isLoaded(), false);
  const panel = new StubPanel('inlineDiffusion.generatePanel', 'Generate Image');
  await registered[0].deserializeWebviewPanel(panel, {});
  assert.equal(isLoaded(), true);
  assert.equal(typeof panel.webview.options, 'object');
  assert.ok(panel.webview.options && (panel.webview.options as { enableScripts?: boolean }).enableScripts);
  await closeWindow();
});

test('the API loads the host when a member is read; after deactivation an unloaded host stays unloaded', async () => {
  const { api } = activateWindow();
  assert.equal(isLoaded(), false);
  assert.equal(api.generationHost.engine.isRunning, false);
  assert.equal(isLoaded(), true);
  await closeWindow();
  const second = activateWindow();
  await closeWindow();
  assert.throws(() => second.api.library, /expected an active Inline Diffusion extension; it was deactivated/);
});
