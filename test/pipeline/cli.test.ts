import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { readPngText } from '../../src/engine/image/png';
import { parseInfotext } from '../../src/engine/infotext';
import { parseCommandLine } from '../../src/cli/args';
import { buildTinyModel } from '../fixtures/tinyModel';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist', 'cli.js');
let work: string;
let model: string;

before(() => {
  assert.ok(fs.existsSync(cli), 'dist/cli.js is missing: run `npm run build` first (npm test does)');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'inline-diffusion-cli-'));
  model = buildTinyModel(path.join(work, 'tiny-model'));
});

after(() => fs.rmSync(work, { recursive: true, force: true }));

test('--negative-prompt "" is the empty prompt (SDXL encodes it); no --negative-prompt is none (SDXL zeroes it)', () => {
  const negativeOf = (argv: string[]): unknown => {
    const c = parseCommandLine(['generate', '--prompt', 'a fox', ...argv]);
    return c.kind === 'generate' ? c.args.negativePrompt : c.kind;
  };
  assert.deepEqual([negativeOf([]), negativeOf(['--negative-prompt', '']), negativeOf(['--negative-prompt', 'blur'])], [null, '', 'blur']);
});

test('--vae-decode picks how the VAE decodes (default auto); anything else is refused', () => {
  const modeOf = (argv: string[]): unknown => {
    const c = parseCommandLine(['generate', '--prompt', 'a fox', ...argv]);
    return c.kind === 'generate' ? c.args.vaeDecode : c.kind;
  };
  assert.deepEqual([modeOf([]), modeOf(['--vae-decode', 'tiled']), modeOf(['--vae-decode', 'fast']), modeOf(['--vae-decode', 'full'])],
    ['auto', 'tiled', 'fast', 'full']);
  assert.throws(() => modeOf(['--vae-decode', 'taesd']), /--vae-decode: expected one of auto, full, tiled, fast, got 'taesd'/);
});

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 120_000, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function freshDir(name: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  return dir;
}

test('--help prints the usage and exits 0', () => {
  const r = run(['--help'], work);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Usage: inline-diffusion generate --prompt TEXT/);
});

const badInputs: Array<[string, string[], RegExp]> = [
  ['width not a multiple of 8', ['--width', '100'], /width.*multiple of 8.*100/],
  ['width below 64', ['--width', '56'], /width.*64…2048.*56/],
  ['height above 2048', ['--height', '2056'], /height.*2056/],
  ['steps 0', ['--steps', '0'], /steps.*1…1000.*0/],
  ['steps 1001', ['--steps', '1001'], /steps.*1001/],
  ['steps not a number', ['--steps', 'ten'], /--steps: expected an integer, got 'ten'/],
  ['negative CFG', ['--cfg', '-1'], /--cfg.*-1/],
  ['CFG above 50', ['--cfg', '50.5'], /--cfg.*50.5/],
  ['CFG NaN', ['--cfg', 'NaN'], /--cfg: expected a number, got 'NaN'/],
  ['fractional seed', ['--seed', '1.5'], /--seed: expected an integer, got '1.5'/],
  ['negative seed', ['--seed', '-1'], /seed.*0…4294967295.*-1/],
  ['seed above 2^32-1', ['--seed', '4294967296'], /seed.*4294967296/],
  ['unknown sampler', ['--sampler', 'bogus'], /sampler.*bogus/],
  ['strength without an init image', ['--strength', '0.5'], /--strength only applies with --init-image/],
  ['resize mode without an init image', ['--resize-mode', 'crop'], /--resize-mode only applies with --init-image/],
  ['unknown resize mode', ['--resize-mode', 'stretch'], /--resize-mode.*stretch/],
  ['unknown flag', ['--colour', 'red'], /colour/],
  ['batch 0', ['--batch', '0'], /--batch.*0/],
];

for (const [what, extra, message] of badInputs) {
  test(`rejects ${what} before loading anything, exit 2, nothing written`, () => {
    const dir = freshDir(`bad-${what.replace(/\W+/g, '-')}`);
    const r = run(['generate', '--prompt', 'a cat', '--model', model, ...extra], dir);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.deepEqual(fs.readdirSync(dir), []);
  });
}

test('rejects a prompt over 10,000 characters', () => {
  const dir = freshDir('bad-long-prompt');
  const r = run(['generate', '--prompt', 'a'.repeat(10_001), '--model', model], dir);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /prompt.*10000 characters.*10001/);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('rejects an init image that is not an image', () => {
  const dir = freshDir('bad-init');
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello');
  const r = run(['generate', '--prompt', 'a cat', '--model', model, '--init-image', 'notes.txt', '--strength', '0.5'], dir);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--init-image: .*notes\.txt/);
  assert.deepEqual(fs.readdirSync(dir), ['notes.txt']);
});

test('rejects a strength outside 0…1', () => {
  const dir = freshDir('bad-strength');
  const init = run(['generate', '--prompt', 'x', '--model', model, '--seed', '1', '--steps', '1', '--out', 'init.png', '--quiet'], dir);
  assert.equal(init.status, 0, init.stderr);
  const r = run(['generate', '--prompt', 'a cat', '--model', model, '--init-image', 'init.png', '--strength', '1.5'], dir);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /strength.*0…1.*1.5/);
  assert.deepEqual(fs.readdirSync(dir), ['init.png']);
});

test('--resize-mode crop and fill run img2img from an image of another aspect; the PNG says Denoising strength, no resize mode (as A1111)', () => {
  const dir = freshDir('resize-modes');
  const init = run(['generate', '--prompt', 'x', '--model', model, '--seed', '1', '--steps', '1', '--width', '128', '--height', '64', '--out', 'wide.png', '--quiet'], dir);
  assert.equal(init.status, 0, init.stderr);
  const before = fs.readFileSync(path.join(dir, 'wide.png'));
  const outputs = new Map<string, Buffer>();
  for (const mode of ['just', 'crop', 'fill']) {
    const r = run(['generate', '--prompt', 'a cat', '--model', model, '--seed', '2', '--steps', '2', '--width', '64', '--height', '64',
      '--init-image', 'wide.png', '--strength', '0.5', '--resize-mode', mode, '--out', `${mode}.png`, '--quiet'], dir);
    assert.equal(r.status, 0, r.stderr);
    const png = fs.readFileSync(path.join(dir, `${mode}.png`));
    const { params } = parseInfotext(readPngText(png).parameters);
    assert.equal(params['Denoising strength'], '0.5');
    assert.equal(params['Resize mode'], undefined);
    outputs.set(mode, png);
  }
  // the modes place the wide image differently, so the pictures differ
  assert.notDeepEqual(outputs.get('just'), outputs.get('crop'));
  assert.notDeepEqual(outputs.get('crop'), outputs.get('fill'));
  assert.deepEqual(fs.readFileSync(path.join(dir, 'wide.png')), before, 'the input file is never modified');
});

test('rejects a folder that is not a model, naming what is missing', () => {
  const dir = freshDir('bad-model');
  const notModel = freshDir('not-a-model');
  const r = run(['generate', '--prompt', 'a cat', '--model', notModel], dir);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /model_index\.json/);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('a malformed scheduler_config.json is one line naming the file and the position, exit 2, no stack trace', () => {
  const dir = freshDir('malformed-json');
  const bad = path.join(work, 'malformed-model');
  fs.cpSync(model, bad, { recursive: true });
  const vandalised = path.resolve(root, '../shared/data/real-configs/05-sd15-runwayml-pr197-invalid-json/scheduler/scheduler_config.json');
  fs.copyFileSync(vandalised, path.join(bad, 'scheduler', 'scheduler_config.json'));
  const r = run(['generate', '--prompt', 'a cat', '--model', bad], dir);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, `inline-diffusion: ${path.join(bad, 'scheduler', 'scheduler_config.json')} is not valid JSON: `
    + 'Expecting property name enclosed in double quotes: line 3 column 33 (char 68)\n');
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('generates with --json: one object with files, seeds, settings and timings; the PNG carries its parameters', () => {
  const dir = freshDir('json');
  const r = run(['generate', '--prompt', 'A cat, sitting!', '--model', model, '--seed', '5', '--steps', '3', '--cfg', '7', '--sampler', 'ddim', '--json'], dir);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(summary).sort(), ['cfg', 'files', 'height', 'model', 'sampler', 'seeds', 'steps', 'timingsMs', 'width']);
  assert.deepEqual(summary.files, [path.join(dir, 'a-cat-sitting-5.png')]);
  assert.deepEqual(summary.seeds, [5]);
  assert.equal(summary.steps, 3);
  assert.equal(summary.sampler, 'DDIM');
  assert.deepEqual(Object.keys(summary.timingsMs).sort(), ['load', 'png', 'textEncoder', 'total', 'unet', 'unetSteps', 'vae']);
  assert.equal(summary.timingsMs.unetSteps.length, 3);
  const parsed = parseInfotext(readPngText(fs.readFileSync(summary.files[0])).parameters);
  assert.equal(parsed.prompt, 'A cat, sitting!');
  assert.equal(parsed.params.Seed, '5');
  assert.equal(parsed.params.Steps, '3');
  assert.equal(parsed.params['CFG scale'], '7.0');
});

test('a batch writes <stem>-<seed>.png for each seed; an explicit --out is never silently renamed (issue 12)', () => {
  const dir = freshDir('batch');
  const args = ['generate', '--prompt', 'two', '--model', model, '--seed', '10', '--steps', '2', '--batch', '2', '--out', 'pic.png'];
  const r = run(args, dir);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [path.join(dir, 'pic-10.png'), path.join(dir, 'pic-11.png')]);
  const first = fs.readFileSync(path.join(dir, 'pic-10.png'));
  const again = run(args, dir);
  assert.equal(again.status, 2, again.stderr);
  assert.match(again.stderr, /--out: .*pic-10\.png already exists; pass --overwrite to replace it/);
  const replaced = run([...args, '--overwrite'], dir);
  assert.equal(replaced.status, 0, replaced.stderr);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['pic-10.png', 'pic-11.png']);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'pic-10.png')), first);
});

test('the compile cache: written after a whole generation (not --help), then used; the PNG does not change', () => {
  const dir = freshDir('compile-cache');
  const cacheDir = path.join(dir, 'cache');
  const env = { ...process.env, INLINE_DIFFUSION_COMPILE_CACHE: cacheDir };
  assert.equal(run(['--help'], dir, env).status, 0);
  assert.equal(fs.existsSync(cacheDir), false, '--help does not save a cache of argument parsing alone');
  const args = (name: string): string[] => ['generate', '--prompt', 'a cat', '--model', model, '--steps', '3', '--seed', '5', '--out', path.join(dir, name)];
  const first = run(args('first.png'), dir, env);
  assert.equal(first.status, 0, first.stderr);
  const caches = fs.readdirSync(cacheDir);
  assert.equal(caches.length, 1);
  assert.match(caches[0], /^cli-main\.js-[0-9a-f]{8}\.cache$/);
  const written = fs.statSync(path.join(cacheDir, caches[0])).mtimeMs;
  const second = run(args('second.png'), dir, env);
  assert.equal(second.status, 0, second.stderr);
  assert.equal(fs.statSync(path.join(cacheDir, caches[0])).mtimeMs, written, 'a run from the cache leaves it as it is');
  assert.deepEqual(fs.readFileSync(path.join(dir, 'second.png')), fs.readFileSync(path.join(dir, 'first.png')));
  const off = run(args('third.png'), dir, { ...process.env, INLINE_DIFFUSION_COMPILE_CACHE: '0' });
  assert.equal(off.status, 0, off.stderr);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'third.png')), fs.readFileSync(path.join(dir, 'first.png')));
});

test('ONNX Runtime keeps no telemetry store on the user\'s machine unless the user asks for it', () => {
  const store = (home: string): string => path.join(home, '.cache', 'Microsoft', 'DeveloperTools', '.onnxruntime');
  const args = (dir: string): string[] => ['generate', '--prompt', 'a cat', '--model', model, '--steps', '1', '--out', path.join(dir, 'a.png')];
  // ONNX Runtime also stays quiet where one of these says it runs in CI (CI=true in ours): without them it is on.
  const ciMarkers = ['CI', 'CIRCLECI', 'GITHUB_ACTIONS', 'GITLAB_CI', 'JENKINS_URL', 'TEAMCITY_VERSION', 'TF_BUILD'];
  const dropped = new Set(['ORT_DISABLE_TELEMETRY', 'XDG_CACHE_HOME', ...ciMarkers]);
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !dropped.has(k)));
  const quiet = freshDir('telemetry-default');
  const r = run(args(quiet), quiet, { ...base, HOME: quiet, INLINE_DIFFUSION_COMPILE_CACHE: '0' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.existsSync(store(quiet)), false, 'the engine set ORT_DISABLE_TELEMETRY=1 before loading ONNX Runtime');
  // The user's own setting wins (ONNX Runtime 1.30 then writes its store: this is what the default prevents).
  const chosen = freshDir('telemetry-chosen');
  const on = run(args(chosen), chosen, { ...base, HOME: chosen, ORT_DISABLE_TELEMETRY: '0', INLINE_DIFFUSION_COMPILE_CACHE: '0' });
  assert.equal(on.status, 0, on.stderr);
  assert.ok(fs.existsSync(store(chosen)));
});

test('image 1 of a batch equals the same seed made alone', () => {
  const dir = freshDir('batch-vs-single');
  assert.equal(run(['generate', '--prompt', 'x', '--model', model, '--seed', '20', '--steps', '2', '--batch', '2', '--out', 'b.png'], dir).status, 0);
  assert.equal(run(['generate', '--prompt', 'x', '--model', model, '--seed', '21', '--steps', '2', '--out', 's.png'], dir).status, 0);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'b-21.png')), fs.readFileSync(path.join(dir, 's.png')));
});

test('--previews DIR writes one preview PNG per step, at the image size: the latent preview upscaled by nearest neighbour', () => {
  const dir = freshDir('previews');
  const r = run(['generate', '--prompt', 'x', '--model', model, '--seed', '1', '--steps', '4', '--sampler', 'euler_a', '--width', '96',
    '--height', '64', '--previews', 'steps', '--quiet'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'steps')).sort(), ['step-001.png', 'step-002.png', 'step-003.png', 'step-004.png']);
  const png = decode(fs.readFileSync(path.join(dir, 'steps', 'step-004.png')));
  assert.deepEqual([png.width, png.height, png.channels], [96, 64, 3], 'the image size, not the 12×8 latent grid');
  // every 8×8 block is one latent pixel's colour, and the blocks are not all one colour
  const px = (x: number, y: number): string => Array.from(png.data.subarray((y * 96 + x) * 3, (y * 96 + x) * 3 + 3)).join(',');
  const blocks = new Set<string>();
  for (let by = 0; by < 8; by++) {
    for (let bx = 0; bx < 12; bx++) {
      const c = px(bx * 8, by * 8);
      blocks.add(c);
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) assert.equal(px(bx * 8 + x, by * 8 + y), c, `block ${bx},${by} is one colour`);
    }
  }
  assert.ok(blocks.size > 1, 'a preview of one flat colour');
});

test('without --seed a random seed is chosen and printed', () => {
  const dir = freshDir('random-seed');
  const r = run(['generate', '--prompt', '', '--model', model, '--steps', '1'], dir);
  assert.equal(r.status, 0, r.stderr);
  const seed = Number(/seed (\d+)/.exec(r.stderr)?.[1]);
  assert.ok(Number.isInteger(seed) && seed >= 0 && seed <= 2 ** 32 - 1);
  assert.deepEqual(fs.readdirSync(dir), [`image-${seed}.png`]);
});

test('PLMS (the tiny model\'s own PNDM scheduler) runs steps + 1 UNet calls, as diffusers does, and says so in its timings', () => {
  const dir = freshDir('plms');
  const r = run(['generate', '--prompt', 'x', '--model', model, '--seed', '1', '--steps', '4', '--json'], dir);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.sampler, 'PLMS');
  assert.equal(summary.steps, 4);
  assert.equal(summary.timingsMs.unetSteps.length, 5);
});

test('--lora-dir: <lora:…> applies a LoRA (Lora hashes in the parameters); an LCM-LoRA mark gives LCM, 4 steps, CFG 1 unless chosen', () => {
  const dir = freshDir('lora');
  const loras = path.join(dir, 'loras');
  fs.mkdirSync(loras);
  fs.copyFileSync(path.resolve(__dirname, '../fixtures/lora/sd15-kohya.safetensors'), path.join(loras, 'fast.safetensors'));
  fs.writeFileSync(path.join(loras, 'fast.json'), '{"lcm": true}');
  const sd15 = path.resolve(__dirname, '../fixtures/real-arch/sd15/optimum');
  const env = { ...process.env, INLINE_DIFFUSION_NETWORK_CACHE: path.join(dir, 'cache') };
  const r = run(['generate', '--prompt', 'a fox <lora:fast:0.5>', '--model', sd15, '--lora-dir', loras, '--seed', '1', '--json'], dir, env);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /LCM-LoRA fast: 4 steps, CFG 1 \(LCM's recommendation/);
  const summary = JSON.parse(r.stdout);
  assert.deepEqual([summary.steps, summary.cfg, summary.sampler], [4, 1, 'LCM']);
  const params = parseInfotext(readPngText(fs.readFileSync(summary.files[0])).parameters).params;
  assert.match(params['Lora hashes'] ?? '', /^fast: [0-9a-f]{12}$/);
  assert.ok(fs.readdirSync(path.join(dir, 'cache')).length === 1, 'the patched copy is in the cache folder the environment names');
  const chosen = run(['generate', '--prompt', 'a fox <lora:fast:0.5>', '--model', sd15, '--lora-dir', loras, '--steps', '2', '--cfg', '3', '--sampler', 'euler', '--json'], dir, env);
  assert.equal(chosen.status, 0, chosen.stderr);
  assert.deepEqual([JSON.parse(chosen.stdout).steps, JSON.parse(chosen.stdout).cfg, JSON.parse(chosen.stdout).sampler], [2, 3, 'Euler']);
  const missing = run(['generate', '--prompt', 'a fox', '--model', sd15, '--lora-dir', path.join(dir, 'nope')], dir, env);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--lora-dir: .*nope does not exist/);
});
