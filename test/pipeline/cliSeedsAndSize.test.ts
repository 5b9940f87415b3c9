/**
 * The CLI's variation seed and hires. fix flags: parsing (every bad value in one line naming the flag) and a run of
 * dist/cli.js on a tiny model (the PNG's size and infotext, previews of both passes).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { readPngText } from '../../src/engine/image/png';
import { parseInfotext } from '../../src/engine/infotext';
import { parseCommandLine, UsageError, type GenerateArgs } from '../../src/cli/args';
import { hiresUpscalerFromFlag } from '../../src/cli/seedsAndSizeArgs';
import { buildTinyModel } from '../fixtures/tinyModel';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist', 'cli.js');
let work: string;
let model: string;

before(() => {
  assert.ok(fs.existsSync(cli), 'dist/cli.js is missing: run `npm run build` first (npm test does)');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'inline-diffusion-cli-seeds-'));
  model = buildTinyModel(path.join(work, 'tiny-model'));
});

after(() => fs.rmSync(work, { recursive: true, force: true }));

function args(...flags: string[]): GenerateArgs['seedsAndSize'] {
  const c = parseCommandLine(['generate', '--prompt', 'x', ...flags]);
  assert.equal(c.kind, 'generate');
  return (c as Extract<typeof c, { kind: 'generate' }>).args.seedsAndSize;
}

test('parses the variation and hires flags; hires. fix is on with --hires-scale, with A1111\'s defaults', () => {
  assert.deepEqual(args(), { variationSeed: null, variationStrength: null, seedResizeFrom: null, hires: null });
  assert.deepEqual(args('--variation-seed', '7', '--variation-strength', '0.3', '--seed-resize-from', '512x768'),
    { variationSeed: 7, variationStrength: 0.3, seedResizeFrom: { width: 512, height: 768 }, hires: null });
  assert.deepEqual(args('--hires-scale', '2').hires, { scale: 2, steps: 0, strength: 0.7, upscaler: 'Latent' });
  assert.deepEqual(args('--hires-scale', '1.5', '--hires-steps', '10', '--hires-strength', '0.5', '--hires-upscaler', 'latent-bicubic-antialiased').hires,
    { scale: 1.5, steps: 10, strength: 0.5, upscaler: 'Latent (bicubic antialiased)' });
  assert.deepEqual(['Latent (nearest-exact)', 'lanczos', 'NONE', 'latent', 'latent-antialiased', 'esrgan'].map(hiresUpscalerFromFlag),
    ['Latent (nearest-exact)', 'Lanczos', 'None', 'Latent', 'Latent (antialiased)', undefined]);
});

test('bad variation and hires flags are usage errors naming the flag', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--variation-seed', '7'], /^--variation-seed needs --variation-strength/],
    [['--variation-seed', '-1', '--variation-strength', '0.1'], /^--variation-seed: expected a non-negative integer, got '-1'/],
    [['--variation-strength', 'lots'], /^--variation-strength: expected a number, got 'lots'/],
    [['--seed-resize-from', '512'], /^--seed-resize-from: expected WIDTHxHEIGHT in pixels \(e\.g\. 512x768\), got '512'/],
    [['--hires-steps', '10'], /^--hires-steps needs --hires-scale/],
    [['--hires-scale', '2', '--hires-upscaler', 'ESRGAN'], /^--hires-upscaler: expected one of "Latent", .*"Lanczos", got 'ESRGAN'/],
  ];
  for (const [flags, message] of cases) {
    assert.throws(() => parseCommandLine(['generate', '--prompt', 'x', ...flags]), (e: unknown) => e instanceof UsageError && message.test(e.message), flags.join(' '));
  }
});

function run(argv: string[], cwd: string): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, [cli, ...argv], { cwd, encoding: 'utf8', timeout: 120_000 });
}

test('the engine\'s range checks come back in the flags\' words', () => {
  const dir = fs.mkdtempSync(path.join(work, 'bad-'));
  const r = run(['generate', '--prompt', 'x', '--model', model, '--hires-scale', '5', '--hires-strength', '0', '--variation-strength', '2', '--quiet'], dir);
  assert.equal(r.status, 2, String(r.stderr));
  assert.match(String(r.stderr), /--variation-strength: expected a number in 0…1, got 2; --hires-scale: expected a number above 1 and at most 4, got 5; --hires-strength: expected a denoising strength above 0 and at most 1, got 0/);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('a hires. fix run with a variation seed: the PNG at the upscaled size, A1111\'s fields, previews of both passes', () => {
  const dir = fs.mkdtempSync(path.join(work, 'hires-'));
  const r = run(['generate', '--prompt', 'x', '--model', model, '--seed', '3', '--steps', '2', '--sampler', 'euler_a', '--variation-seed', '11',
    '--variation-strength', '0.25', '--hires-scale', '1.5', '--hires-steps', '2', '--hires-upscaler', 'lanczos', '--previews', 'steps', '--json'], dir);
  assert.equal(r.status, 0, String(r.stderr));
  const summary = JSON.parse(String(r.stdout));
  assert.deepEqual([summary.width, summary.height], [96, 96]);
  const png = fs.readFileSync(summary.files[0]);
  assert.deepEqual([decode(png).width, decode(png).height], [96, 96]);
  const params = parseInfotext(readPngText(png).parameters).params;
  assert.deepEqual([params['Size-1'], params['Variation seed'], params['Variation seed strength'], params['Denoising strength'],
    params['Hires upscale'], params['Hires steps'], params['Hires upscaler']], ['64', '11', '0.25', '0.7', '1.5', '2', 'Lanczos']);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'steps')).sort(), ['hires-step-001.png', 'hires-step-002.png', 'step-001.png', 'step-002.png']);
});

test('a varied batch keeps the seed (as A1111) and names its files by seed and variation seed', () => {
  const dir = fs.mkdtempSync(path.join(work, 'varied-batch-'));
  const r = run(['generate', '--prompt', 'x', '--model', model, '--seed', '3', '--steps', '2', '--batch', '2', '--variation-seed', '5',
    '--variation-strength', '0.2', '--json'], dir);
  assert.equal(r.status, 0, String(r.stderr));
  const summary = JSON.parse(String(r.stdout));
  assert.deepEqual(summary.seeds, [3, 3]);
  assert.deepEqual(summary.files, [path.join(dir, 'x-3-5.png'), path.join(dir, 'x-3-6.png')]);
  const seeds = summary.files.map((f: string) => parseInfotext(readPngText(fs.readFileSync(f)).parameters).params['Variation seed']);
  assert.deepEqual(seeds, ['5', '6']);
});
