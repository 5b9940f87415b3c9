/**
 * The CLI's inpainting flags (issue 17): --mask, --mask-blur, --mask-mode, --masked-content, --inpaint-area,
 * --inpaint-padding parsed and turned into the request's inpaint settings; every misuse a one-line usage error before
 * anything loads; one real run of dist/cli.js on the tiny inpainting model (test/fixtures/real-arch-inpaint/) whose
 * PNG carries A1111's mask fields and whose input files are untouched.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseCommandLine, UsageError, type GenerateArgs } from '../../src/cli/args';
import { buildRequest } from '../../src/cli/generate';
import { readPngText } from '../../src/engine/image/png';
import { parseInfotext } from '../../src/engine/infotext';

const root = path.resolve(__dirname, '../..');
const INPAINT_DIR = path.join(root, 'test/fixtures/real-arch-inpaint');
const INPAINT_MODEL = path.join(INPAINT_DIR, 'sd15-inpainting/optimum');
const SD15 = path.join(root, 'test/fixtures/real-arch/sd15/optimum');
const INIT = path.join(root, 'test/fixtures/real-arch/init-64x64.png');
const MASK = path.join(INPAINT_DIR, 'mask-rect.png');
let work: string;

before(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'inline-diffusion-inpaint-cli-')); });
after(() => fs.rmSync(work, { recursive: true, force: true }));

function args(argv: string[]): GenerateArgs {
  const c = parseCommandLine(['generate', '--prompt', 'a red door', ...argv]);
  assert.equal(c.kind, 'generate');
  return (c as { args: GenerateArgs }).args;
}

describe('CLI inpainting flags', () => {
  test('the flags become the request\'s inpaint settings; the defaults are A1111\'s', async () => {
    const { request } = await buildRequest(args(['--model', SD15, '--init-image', INIT, '--mask', MASK]), work);
    assert.deepEqual({ ...request.inpaint, mask: undefined },
      { mask: undefined, maskBlur: 4, maskMode: 'masked', maskedContent: 'original', inpaintArea: 'whole', inpaintPadding: 32 });
    assert.equal(request.inpaint?.mask.width, 64);
    assert.equal(request.inpaint?.mask.gray[20 * 64 + 30], 255);
    assert.equal(request.inpaint?.mask.gray[0], 0);
    const { request: r2 } = await buildRequest(args(['--model', SD15, '--init-image', INIT, '--mask', MASK, '--mask-blur', '0',
      '--mask-mode', 'unmasked', '--masked-content', 'latent-noise', '--inpaint-area', 'masked', '--inpaint-padding', '8']), work);
    assert.deepEqual({ ...r2.inpaint, mask: undefined },
      { mask: undefined, maskBlur: 0, maskMode: 'unmasked', maskedContent: 'latent-noise', inpaintArea: 'masked', inpaintPadding: 8 });
  });

  const misuse: Array<[string, string[], RegExp]> = [
    ['a setting without --mask', ['--model', SD15, '--init-image', INIT, '--mask-blur', '2'], /--mask-blur only applies with --mask/],
    ['--mask without --init-image', ['--model', SD15, '--mask', MASK], /--mask needs --init-image/],
    ['a mask file that does not exist', ['--model', SD15, '--init-image', INIT, '--mask', 'nope.png'], /--mask: .*nope\.png does not exist/],
    ['an unknown mask mode', ['--model', SD15, '--init-image', INIT, '--mask', MASK, '--mask-mode', 'inside'], /--mask-mode: expected one of masked, unmasked, got 'inside'/],
    ['an unknown masked content', ['--model', SD15, '--init-image', INIT, '--mask', MASK, '--masked-content', 'noise'], /--masked-content: expected one of original, fill, latent-noise, latent-nothing/],
    ['an unknown inpaint area', ['--model', SD15, '--init-image', INIT, '--mask', MASK, '--inpaint-area', 'all'], /--inpaint-area: expected one of whole, masked/],
    ['a mask blur over 64', ['--model', SD15, '--init-image', INIT, '--mask', MASK, '--mask-blur', '65'], /--mask-blur: expected an integer in 0…64, got 65/],
    ['a negative padding', ['--model', SD15, '--init-image', INIT, '--mask', MASK, '--inpaint-padding', '-1'], /--inpaint-padding: expected an integer in 0…256, got -1/],
    ['an inpainting model without a mask', ['--model', INPAINT_MODEL, '--init-image', INIT], /inpainting model.*--init-image and --mask/],
  ];
  for (const [what, argv, message] of misuse) {
    test(`refuses ${what} with one line naming the flag`, async () => {
      await assert.rejects(async () => buildRequest(args(argv), work), (e: Error) => e instanceof UsageError && message.test(e.message) && !e.message.includes('\n'));
    });
  }

  test('refuses a mask that is not an image, and leaves it as it was', async () => {
    const bogus = path.join(work, 'mask.png');
    fs.writeFileSync(bogus, 'not a picture');
    await assert.rejects(buildRequest(args(['--model', SD15, '--init-image', INIT, '--mask', bogus]), work),
      (e: Error) => e instanceof UsageError && /^--mask: /.test(e.message));
    assert.equal(fs.readFileSync(bogus, 'utf8'), 'not a picture');
  });
});

const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

test('dist/cli.js inpaints with the inpainting model; the PNG says how; --out onto an input is refused; inputs untouched', () => {
  const cli = path.join(root, 'dist', 'cli.js');
  assert.ok(fs.existsSync(cli), 'dist/cli.js is missing: run `npm run build` first (npm test does)');
  const before = [sha(INIT), sha(MASK)];
  const out = path.join(work, 'door.png');
  const run = (extra: string[]) => spawnSync(process.execPath, [cli, 'generate', '--prompt', 'a red door', '--model', INPAINT_MODEL,
    '--init-image', INIT, '--mask', MASK, '--steps', '3', '--seed', '5', '--threads', '1', '--quiet', ...extra], { cwd: work, encoding: 'utf8', timeout: 120_000 });
  const r = run(['--mask-blur', '2', '--inpaint-area', 'masked', '--inpaint-padding', '4', '--masked-content', 'fill', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const info = parseInfotext(readPngText(fs.readFileSync(out)).parameters);
  assert.equal(info.params['Mask blur'], '2');
  assert.equal(info.params['Inpaint area'], 'Only masked');
  assert.equal(info.params['Masked area padding'], '4');
  assert.equal(info.params['Masked content'], 'fill');
  assert.equal(info.params['Conditional mask weight'], '1.0');
  const refused = run(['--out', INIT, '--overwrite']);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /is the --init-image file; inputs are never overwritten/);
  assert.deepEqual([sha(INIT), sha(MASK)], before);
});
