/**
 * The panel's LoRA / embedding lists follow their folders while it is open (src/panel/networkFolders.ts): a
 * FileSystemWatcher per folder (a RelativePattern on the folder, outside the workspace here), events gathered for
 * a moment, a `networks` message only when the lists changed or an embedding changed, new watchers when the folder
 * settings change, and every watcher disposed with the panel. The bundle runs against the stub `vscode`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildTestExtension } from '../fixtures/extensionBundle';
import { createContextParts, createVscodeStub, installVscodeStub, type StubPanel, Uri } from '../fixtures/vscodeStub';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inline-diffusion-networks-'));
const extensionDir = path.join(root, 'extension');
const loraDir = path.join(root, 'loras');
const otherLoraDir = path.join(root, 'more-loras');
const embDir = path.join(root, 'embeddings');
const stub = createVscodeStub({
  workspaceFolder: path.join(root, 'workspace'),
  config: { threads: 1, executionProvider: 'cpu', loraFolder: loraDir, embeddingsFolder: embDir },
});
let uninstall: () => void = () => undefined;
const subscriptions: Array<{ dispose(): unknown }> = [];

before(async () => {
  for (const d of [loraDir, otherLoraDir, embDir, path.join(root, 'workspace')]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(loraDir, 'film.safetensors'), 'x');
  fs.writeFileSync(path.join(loraDir, 'film.json'), JSON.stringify({ 'preferred weight': 0.7, 'activation text': 'grainy' }));
  fs.writeFileSync(path.join(embDir, 'neg.safetensors'), 'x');
  fs.writeFileSync(path.join(otherLoraDir, 'other.safetensors'), 'x');
  await buildTestExtension(extensionDir);
  uninstall = installVscodeStub(stub.vscode);
});

after(async () => {
  for (const s of subscriptions.reverse()) await s.dispose();
  uninstall();
  fs.rmSync(root, { recursive: true, force: true });
});

const posted = (p: StubPanel, type: string): Array<Record<string, unknown>> =>
  (p.posted as Array<Record<string, unknown>>).filter((m) => m.type === type);

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const bases = (patterns: unknown[]): string[] => patterns.map((p) => ((p as { base: Uri }).base).fsPath);

test('the lists follow the folders while the panel is open, and the watchers go with the panel', async () => {
  const extension = require(path.join(extensionDir, 'dist/extension.js')) as { activate(context: unknown): unknown };
  extension.activate({ subscriptions, extensionUri: stub.vscode.Uri.file(extensionDir), ...createContextParts(path.join(root, 'storage')) });
  const watchedBefore = stub.watchPatterns.length;
  await stub.vscode.commands.executeCommand('inlineDiffusion.generateImage');
  const panel = stub.panels[stub.panels.length - 1];
  panel.receive.fire({ type: 'ready' });
  await until(() => posted(panel, 'setup').length > 0, 'the setup');
  const setup = posted(panel, 'setup')[0].setup as { networks: unknown };
  assert.deepEqual(setup.networks, { loras: ['film'], embeddings: ['neg'], loraWeights: { film: 0.7 } });
  const mine = stub.watchPatterns.slice(watchedBefore);
  assert.deepEqual(bases(mine).sort(), [embDir, loraDir].sort());
  assert.ok(mine.every((p) => (p as { pattern: string }).pattern === '**/*'), 'each folder with its sub-folders');

  // a new LoRA (a copy fires several events): one message with the new list, once the events stop
  fs.writeFileSync(path.join(loraDir, 'grain.safetensors'), 'x');
  for (let i = 0; i < 5; i++) stub.watcher.created.fire(Uri.file(path.join(loraDir, 'grain.safetensors')));
  await until(() => posted(panel, 'networks').length > 0, 'the new lists');
  await sleep(500);
  assert.deepEqual(posted(panel, 'networks'), [{ type: 'networks', networks: { loras: ['film', 'grain'], embeddings: ['neg'], loraWeights: { film: 0.7 } } }]);

  // a LoRA's bytes changed: the lists are the same, nothing is sent; an embedding changed: sent (its vector count may differ)
  stub.watcher.changed.fire(Uri.file(path.join(loraDir, 'film.safetensors')));
  await sleep(600);
  assert.equal(posted(panel, 'networks').length, 1);
  stub.watcher.changed.fire(Uri.file(path.join(embDir, 'neg.safetensors')));
  await until(() => posted(panel, 'networks').length === 2, 'the lists after an embedding changed');

  // another LoRA folder in the settings: its watcher replaces the old one, the setup carries its list
  const setups = posted(panel, 'setup').length;
  await stub.vscode.workspace.getConfiguration().update('loraFolder', otherLoraDir);
  await until(() => posted(panel, 'setup').length > setups, 'the new setup');
  assert.deepEqual((posted(panel, 'setup').at(-1)!.setup as { networks: { loras: string[] } }).networks.loras, ['other']);
  assert.deepEqual(bases(stub.disposedWatchPatterns), [loraDir, embDir]);
  assert.deepEqual(bases(stub.watchPatterns.slice(watchedBefore + 2)).sort(), [embDir, otherLoraDir].sort());

  panel.dispose();
  assert.deepEqual(bases(stub.disposedWatchPatterns).slice(2).sort(), [embDir, otherLoraDir].sort(), 'disposed with the panel');
  const count = panel.posted.length;
  stub.watcher.created.fire(Uri.file(path.join(otherLoraDir, 'late.safetensors')));
  await sleep(500);
  assert.equal(panel.posted.length, count, 'nothing is sent once the panel is gone');
});
