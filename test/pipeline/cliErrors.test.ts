import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeFailure } from '../../src/cli/failure';
import { closestSampler } from '../../src/cli/flagWords';
import { estimateMemory, judgeMemory } from '../../src/engine/model/memoryEstimate';
import { FakeHub } from '../fixtures/fakeHub';
import { buildTinyModel } from '../fixtures/tinyModel';

// Issue 12, "The CLI, tried as a new user would", and row 12 (--previews never overwrites).
const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist', 'cli.js');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
let work: string;
let model: string;

before(() => {
  assert.ok(fs.existsSync(cli), 'dist/cli.js is missing: run `npm run build` first (npm test does)');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'inline-diffusion-cli-errors-'));
  model = buildTinyModel(path.join(work, 'tiny-model'));
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

interface Run { status: number | null; stdout: string; stderr: string }

function run(args: string[], cwd = work, env: NodeJS.ProcessEnv = process.env): Run {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 120_000, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** For runs that talk to the fake hub in this process: spawnSync would block the server. */
function runAsync(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: work, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

function gen(...extra: string[]): string[] {
  return ['generate', '--prompt', 'a cat', '--model', model, '--seed', '3', '--steps', '2', '--quiet', ...extra];
}

/** One line on stderr, exit 2, no stack frame. */
function assertOneLineBadInput(r: Run, message: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], message);
  assert.doesNotMatch(r.stderr, /\n\s+at |ModelError:|EngineError:/);
}

function copyModel(name: string): string {
  const dir = path.join(work, name);
  fs.cpSync(model, dir, { recursive: true });
  return dir;
}

test('a folder that is not a model: one line naming it, exit 2', () => {
  const dir = path.join(work, 'not-a-model');
  fs.mkdirSync(dir, { recursive: true });
  assertOneLineBadInput(run(['generate', '--prompt', 'x', '--model', dir]), /^inline-diffusion: .*not-a-model is not a model folder: expected model_index\.json/);
});

test('a garbage unet/model.onnx: one line naming the file, exit 2', () => {
  const dir = copyModel('garbage-unet');
  fs.writeFileSync(path.join(dir, 'unet', 'model.onnx'), 'garbage');
  assertOneLineBadInput(run(['generate', '--prompt', 'x', '--model', dir]), /unet\/model\.onnx is not an ONNX model/);
});

test('a malformed model_index.json: one line naming the file, exit 2', () => {
  const dir = copyModel('bad-json');
  fs.writeFileSync(path.join(dir, 'model_index.json'), '{');
  assertOneLineBadInput(run(['generate', '--prompt', 'x', '--model', dir]), /model_index\.json is not valid JSON/);
});

test('a real bug prints its stack trace and asks to be reported', () => {
  const failure = describeFailure(new TypeError('cannot read properties of undefined'));
  assert.equal(failure.exitCode, 1);
  assert.match(failure.text, /TypeError: cannot read properties of undefined\n\s+at /);
  assert.match(failure.text, /this is a bug in inline-diffusion.*please report it/);
});

test('an explicit --out onto an existing file is refused (nothing written) unless --overwrite', () => {
  const dir = path.join(work, 'out-exists');
  fs.mkdirSync(dir);
  const out = path.join(dir, 'exist.png');
  fs.writeFileSync(out, 'old picture');
  const refused = run(gen('--out', out));
  assertOneLineBadInput(refused, /--out: .*exist\.png already exists; pass --overwrite to replace it/);
  assert.deepEqual(fs.readdirSync(dir), ['exist.png']);
  assert.equal(fs.readFileSync(out, 'utf8'), 'old picture');
  const replaced = run(gen('--out', out, '--overwrite'));
  assert.equal(replaced.status, 0, replaced.stderr);
  assert.deepEqual(fs.readdirSync(dir), ['exist.png']);
  assert.equal(fs.readFileSync(out).subarray(1, 4).toString('latin1'), 'PNG');
  // default names keep numbering, never overwriting
  const first = run(gen(), dir);
  const second = run(gen(), dir);
  assert.deepEqual([first.stdout.trim(), second.stdout.trim()].map((p) => path.basename(p)), ['a-cat-3.png', 'a-cat-3-1.png']);
});

const flagWords: Array<[string, string[], RegExp]> = [
  ['--batch 0', ['--batch', '0'], /^inline-diffusion: --batch: expected an integer in 1…64, got 0 \(see inline-diffusion --help\)$/],
  ['--threads 0', ['--threads', '0'], /^inline-diffusion: --threads: expected an integer in 1…256 \(leave --threads out for ONNX Runtime's default\), got 0/],
  ['--cfg 51', ['--cfg', '51'], /^inline-diffusion: --cfg: expected a number in 0…50, got 51/],
  ['--sampler eulr', ['--sampler', 'eulr'], /^inline-diffusion: --sampler: unknown sampler 'eulr'; did you mean 'euler'\? \(samplers: euler, euler_a, heun/],
  ['--sampler dpm++2m', ['--sampler', 'dpm++2m'], /did you mean 'DPM\+\+ 2M'\?/],
];
for (const [what, extra, message] of flagWords) {
  test(`${what}: said in the flag's words, one line`, () => {
    const r = run(gen(...extra));
    assertOneLineBadInput(r, message);
    assert.doesNotMatch(r.stderr, /batchSize|cfgScale|or null|invalid request|DDIMScheduler, DDPMScheduler/);
  });
}

test('closest sampler names: typos get a suggestion, unrelated words none', () => {
  assert.equal(closestSampler('eulr'), 'euler');
  assert.equal(closestSampler('Euler A'), 'Euler a');
  assert.equal(closestSampler('unipcc'), 'unipc');
  assert.equal(closestSampler('banana split'), undefined);
});

test('--version prints the version on stdout, exit 0', () => {
  const r = run(['--version']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${pkg.version}\n`);
});

test('bare inline-diffusion: the usage on stderr, exit 2', () => {
  const r = run([]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^Usage: inline-diffusion generate --prompt TEXT/);
});

test('an unknown command: the hint once, in one line', () => {
  const r = run(['--colour']);
  assertOneLineBadInput(r, /^inline-diffusion: unknown command '--colour': expected 'generate' or 'download' \(see inline-diffusion --help\)$/);
  assert.equal(r.stderr.split('--help').length - 1, 1);
});

test('--init-image of a missing file says it does not exist (no raw ENOENT)', () => {
  const r = run(gen('--init-image', 'nope.png'));
  assertOneLineBadInput(r, /^inline-diffusion: --init-image: .*nope\.png does not exist/);
  assert.doesNotMatch(r.stderr, /ENOENT/);
});

test('--model org/name explains Hub ids and the download command', () => {
  const r = run(['generate', '--prompt', 'x', '--model', 'some-org/some-model']);
  assertOneLineBadInput(r, /--model: there is no folder some-org\/some-model here; if it is a Hugging Face repo id, download it first with `inline-diffusion download some-org\/some-model`/);
});

test('--previews never overwrites: an existing preview file refuses the run before it starts, naming it', () => {
  const dir = path.join(work, 'previews');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'step-002.png'), 'old');
  const out = path.join(work, 'previews-out.png');
  const r = run(gen('--previews', dir, '--out', out));
  assertOneLineBadInput(r, /--previews: .*step-002\.png already exists; previews never overwrite/);
  assert.equal(fs.readFileSync(path.join(dir, 'step-002.png'), 'utf8'), 'old');
  assert.deepEqual(fs.readdirSync(dir), ['step-002.png']);
  assert.equal(fs.existsSync(out), false, 'the run did not start');
});

test('a run no machine has the memory for is refused before it starts, with the estimate', () => {
  // the tiny model's UNet config declares attention as SD 1.5's does: 8 heads at the latent size
  const dir = copyModel('attention-model');
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'unet', 'config.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(path.join(dir, 'unet', 'config.json'), JSON.stringify({ ...config, attention_head_dim: 8, down_block_types: ['CrossAttnDownBlock2D', 'DownBlock2D'] }));
  const r = run(['generate', '--prompt', 'a cat', '--model', dir, '--seed', '3', '--steps', '2', '--quiet', '--width', '2048', '--height', '2048', '--batch', '64']);
  assertOneLineBadInput(r, /2048×2048 × 64 needs about \d+ GiB .*more than this machine's .* of memory: use a smaller size or batch/);
});

test('the memory verdict: refuse above the total, warn above the free memory', () => {
  // SD 1.5 at 512×512 with guidance: 4 GiB of weights, 2 × 8 heads × 4096² float32 attention maps, the VAE decode
  const e = estimateMemory(4 * 2 ** 30, { width: 512, height: 512, batchSize: 1, guidance: true, vaeScaleFactor: 8 }, { heads: 8, downsamplings: 0 });
  assert.equal(e.unetBytes, 2 * 8 * 4096 * 4096 * 4);
  assert.ok(e.totalBytes > 4 * 2 ** 30 && e.totalBytes < 7 * 2 ** 30, String(e.totalBytes));
  // a UNet whose config declares no attention counts none (the estimate errs low)
  assert.equal(estimateMemory(0, { width: 2048, height: 2048, batchSize: 64, guidance: true, vaeScaleFactor: 8 }, null).unetBytes, 0);
  assert.equal(judgeMemory(e, 16 * 2 ** 30, 12 * 2 ** 30, 'x').kind, 'ok');
  assert.equal(judgeMemory(e, 16 * 2 ** 30, 2 * 2 ** 30, 'x').kind, 'warn');
  assert.equal(judgeMemory(e, 4 * 2 ** 30, 2 * 2 ** 30, 'x').kind, 'refuse');
});

test('download REPO: the extension\'s downloader into the Hugging Face cache, verified, resumable; prints the folder for --model', async (t) => {
  const hub = await FakeHub.start([{ repoId: 'tiny/sd', dir: model }]);
  t.after(() => hub.close());
  const cache = path.join(work, 'hf-cache');
  const env = { ...process.env, HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cache };
  hub.faults.drops.push({ match: /unet\/model\.onnx$/, afterBytes: 1000, times: 1 });
  const first = await runAsync(['download', 'tiny/sd', '--quiet'], env);
  assert.equal(first.status, 0, first.stderr);
  const dir = first.stdout.trim();
  assert.ok(dir.startsWith(path.join(cache, 'models--tiny--sd', 'snapshots')), dir);
  assert.ok(hub.fileRequests('unet/model.onnx').some((r) => r.range === 'bytes=1000-'), 'the dropped file was resumed');
  const again = await runAsync(['download', 'tiny/sd'], env);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.stdout.trim(), dir);
  assert.match(again.stderr, /already downloaded/);
  const generated = run(gen('--model', dir, '--out', path.join(work, 'from-download.png')));
  assert.equal(generated.status, 0, generated.stderr);
});

test('download offline: fails at once with "no network", one line', () => {
  const t0 = Date.now();
  const r = run(['download', 'tiny/sd'], work, { ...process.env, HF_ENDPOINT: 'http://no-such-host.invalid', HF_HUB_CACHE: path.join(work, 'offline-cache') });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^inline-diffusion: no network: could not reach http:\/\/no-such-host\.invalid/);
  assert.ok(Date.now() - t0 < 5000, `${Date.now() - t0} ms`);
});
