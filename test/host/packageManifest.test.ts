import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

// Issue 12: the manifest's settings declare their scope; npm gives no warning and still skips ONNX Runtime's
// CUDA download.
const root = path.join(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, { type: string; enum?: string[]; scope?: string; order?: number }> } };
  capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
  allowScripts?: Record<string, boolean>;
};
const settings = pkg.contributes.configuration.properties;

test('where downloads go is machine-scoped: a repository\'s .vscode/settings.json cannot move it', () => {
  assert.equal(settings['inlineDiffusion.downloadLocation'].scope, 'machine');
});

test('the model folder and output folder are machine-overridable and restricted in untrusted workspaces', () => {
  for (const key of ['inlineDiffusion.model', 'inlineDiffusion.outputFolder']) {
    assert.equal(settings[key].scope, 'machine-overridable', key);
    assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes(key), key);
  }
});

test('every setting that names a path (a free string) is restricted in untrusted workspaces', () => {
  const paths = Object.entries(settings).filter(([, s]) => s.type === 'string' && s.enum === undefined).map(([k]) => k);
  assert.ok(paths.length >= 2);
  assert.deepEqual(paths.filter((k) => !pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes(k)), []);
});

test('every setting declares its scope', () => {
  assert.deepEqual(Object.entries(settings).filter(([, s]) => s.scope === undefined).map(([k]) => k), []);
});

test('every setting has its own place in the Settings editor (distinct `order` values: ties sort by name, not as meant)', () => {
  const byOrder = new Map<number | undefined, string[]>();
  for (const [key, s] of Object.entries(settings)) byOrder.set(s.order, [...(byOrder.get(s.order) ?? []), key]);
  assert.deepEqual([...byOrder].filter(([order, keys]) => order === undefined || keys.length > 1), []);
});

test('ONNX Runtime\'s install script (the CUDA download) is denied in package.json\'s allowScripts', () => {
  assert.equal(pkg.allowScripts?.['onnxruntime-node'], false);
});

const npmVersion = spawnSync('npm', ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';
test('npm reads the project\'s configuration without an "Unknown project config" warning', { skip: npmVersion === '' && 'npm not found' }, () => {
  const out = spawnSync('npm', ['config', 'get', 'registry'], { cwd: root, encoding: 'utf8' });
  assert.equal(out.status, 0);
  assert.doesNotMatch(out.stderr, /Unknown (project|user|env|cli) config/);
});
