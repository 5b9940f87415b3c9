/**
 * MARKETPLACE.md, the package's README (its Marketplace page): the settings table is the one
 * scripts/settings-table.js generates from package.json's contributes.configuration, every command is listed, every
 * screenshot it shows exists as a PNG, and CHANGELOG.md has the version being packaged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

interface Manifest {
  version: string;
  contributes: { commands: Array<{ title: string; category: string }>; configuration: { properties: Record<string, Record<string, unknown>> } };
}
interface SettingsTableScript {
  readonly TARGET: string;
  settingsTable(manifest: Manifest): string;
  withTable(text: string, manifest: Manifest): string;
}

const repo = path.resolve(__dirname, '../..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const script = require(path.join(repo, 'scripts', 'settings-table.js')) as SettingsTableScript;
const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as Manifest;
const page = fs.readFileSync(path.join(repo, 'MARKETPLACE.md'), 'utf8');

test('the settings table in MARKETPLACE.md is the one package.json gives (node scripts/settings-table.js)', () => {
  assert.equal(script.TARGET, path.join(repo, 'MARKETPLACE.md'));
  assert.equal(script.withTable(page, manifest), page);
});

test('the settings table has one row per setting, and changes when a setting does', () => {
  const keys = Object.keys(manifest.contributes.configuration.properties);
  const rows = script.settingsTable(manifest).split('\n').slice(2);
  assert.deepEqual(rows.map((r) => /^\| `([^`]+)`/.exec(r)?.[1]).sort(), [...keys].sort());
  const changed = structuredClone(manifest);
  changed.contributes.configuration.properties[keys[0]].default = 'another default';
  assert.notEqual(script.withTable(page, changed), page);
});

test('every command of package.json is listed under Commands', () => {
  const missing = manifest.contributes.commands.map((c) => `${c.category}: ${c.title}`).filter((t) => !page.includes(`| ${t} |`));
  assert.deepEqual(missing, []);
});

test('every image the page shows is a PNG in the repository', () => {
  const images = [...page.replace(/`[^`\n]*`/g, '').matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
  assert.ok(images.length >= 3, `expected the e2e suite's screenshots on the page, found ${images.length} images`);
  for (const image of images) {
    const file = path.join(repo, image);
    assert.ok(fs.existsSync(file), `expected ${image}`);
    assert.deepEqual([...fs.readFileSync(file).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${image} is not a PNG`);
  }
});

test('CHANGELOG.md has a section for the version in package.json', () => {
  const changelog = fs.readFileSync(path.join(repo, 'CHANGELOG.md'), 'utf8');
  assert.match(changelog, new RegExp(`^## ${manifest.version.replace(/\./g, '\\.')}\\b`, 'm'));
});
