/**
 * Inpainting against diffusers' StableDiffusionInpaintPipeline (issue 17) on the tiny real-architecture fixtures
 * of test/fixtures/real-arch-inpaint/ (its README): a 9-channel SD 1.5 inpainting UNet (mask and masked-image
 * latents concatenated) and the ordinary 4-channel sd15 UNet (the known region blended back after every step), at
 * strength 1 and below, with hard and graded masks. Each case runs through the Engine with A1111's neutral settings
 * (mask blur 0, original content, whole picture); the engine then pastes the original back through the mask as
 * A1111 does (apply_overlay), so the reference is diffusers' picture with that same overlay. Bar as realArch.test.ts:
 * max |Δ| ≤ 2, mean |Δ| ≤ 0.25 per channel (levels of 255), and the same inside the repainted area alone.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { Engine } from '../../src/engine/engine';
import { decodeImage } from '../../src/engine/image/imageIo';
import { applyOverlay, prepareA1111Inpaint, rgbToGray } from '../../src/engine/inpaint';
import { readModelFolder } from '../../src/engine/model';
import type { GenerateRequest, InpaintSettings } from '../../src/protocol/engineMessages';
import { imageDelta } from '../fixtures/realArch';

const DIR = path.resolve(__dirname, '../fixtures/real-arch-inpaint');
const INPAINT_MODEL = path.join(DIR, 'sd15-inpainting', 'optimum');

interface InpaintCase {
  readonly id: string;
  readonly unet: 'inpaint' | 'sd15';
  readonly folder: string;
  readonly prompt: string;
  readonly negative_prompt: string | null;
  readonly seed: number;
  readonly sampler: string | null;
  readonly steps: number;
  readonly cfg: number;
  readonly width: number;
  readonly height: number;
  readonly init_image: string;
  readonly mask: string;
  readonly strength: number;
  readonly references: readonly string[];
}

const cases = JSON.parse(fs.readFileSync(path.join(DIR, 'cases.json'), 'utf8')) as InpaintCase[];
const engine = new Engine();
after(() => engine.release());

const read = (rel: string) => decodeImage(fs.readFileSync(path.join(DIR, rel)));

function settings(maskFile: string): InpaintSettings {
  const m = read(maskFile);
  return {
    mask: { width: m.width, height: m.height, gray: rgbToGray(m.rgb) },
    maskBlur: 0, maskMode: 'masked', maskedContent: 'original', inpaintArea: 'whole', inpaintPadding: 32,
  };
}

function request(c: InpaintCase): GenerateRequest {
  return {
    modelDir: path.resolve(DIR, c.folder), prompt: c.prompt, negativePrompt: c.negative_prompt, sampler: c.sampler,
    steps: c.steps, cfgScale: c.cfg, seed: c.seed, width: c.width, height: c.height, batchSize: 1,
    initImage: read(c.init_image), strength: c.strength, inpaint: settings(c.mask), previews: false, rng: 'cpu',
    executionProvider: 'cpu', threads: 1,
  };
}

describe('inpainting vs diffusers StableDiffusionInpaintPipeline (real-arch-inpaint)', () => {
  test('the fixture folder reads as an inpainting model (in_channels 9, 4 latent channels)', async () => {
    const info = await readModelFolder(INPAINT_MODEL);
    assert.equal(info.inpainting, true);
    assert.equal(info.latentChannels, 4);
    assert.equal(info.pipelineClass, 'StableDiffusionInpaintPipeline');
  });

  for (const c of cases) {
    test(`${c.id}: diffusers' picture (${c.unet === 'inpaint' ? '9-channel UNet' : '4-channel UNet, blended'}, strength ${c.strength})`, async (t) => {
      const req = request(c);
      const out = await engine.generate(req);
      const ours = decodeImage(out.images[0].png);
      const prepared = prepareA1111Inpaint(req.initImage!, req.inpaint!.mask.gray, c.width, c.height,
        { maskBlur: 0, invert: false, maskedContent: 'original', onlyMasked: false, padding: 32 });
      assert.ok(prepared !== null);
      const expected = applyOverlay(read(c.references[0]), prepared.overlay);
      const d = imageDelta(ours.rgb, expected.rgb);
      // inside the repainted area alone (mask ≥ ½: the pixels the overlay leaves to the pipeline)
      const inside: number[] = [];
      prepared.mask.data.forEach((v, p) => { if (v >= 0.5) inside.push(p); });
      const pick = (rgb: Uint8Array) => Uint8Array.from(inside.flatMap((p) => [rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2]]));
      const di = imageDelta(pick(ours.rgb), pick(read(c.references[0]).rgb));
      const report = `${c.id}: max |Δ| ${d.max}, mean ${d.meanPerChannel.map((m) => m.toFixed(3)).join('/')}; `
        + `repainted area (${inside.length} px) max ${di.max}, mean ${di.meanPerChannel.map((m) => m.toFixed(3)).join('/')}`;
      t.diagnostic(report);
      assert.ok(inside.length > 100, 'the mask covers a real area');
      assert.ok(d.max <= 2 && Math.max(...d.meanPerChannel) <= 0.25, report);
      assert.ok(di.max <= 2 && Math.max(...di.meanPerChannel) <= 0.25, report);
    });
  }

  test('an inpainting model without a mask is refused with a clear message before anything loads', async () => {
    const c = cases.find((x) => x.unet === 'inpaint')!;
    const req = { ...request(c), inpaint: null };
    await assert.rejects(engine.generate(req), (e: Error) => /inpainting model/.test(e.message) && /mask/.test(e.message));
    await assert.rejects(engine.generate({ ...req, initImage: null }), /inpainting model/);
  });

  test('an empty mask runs as plain img2img on an ordinary model, with a notice', async () => {
    const c = cases.find((x) => x.unet === 'sd15')!;
    const req = request(c);
    const empty = { ...req.inpaint!, mask: { width: 64, height: 64, gray: new Uint8Array(64 * 64) } };
    const out = await engine.generate({ ...req, inpaint: empty, steps: 2 });
    assert.ok(out.warnings.some((w) => /mask is empty/.test(w) && /plain image to image/.test(w)), out.warnings.join('\n'));
    const plain = await engine.generate({ ...req, inpaint: null, steps: 2 });
    assert.deepEqual(decodeImage(out.images[0].png).rgb, decodeImage(plain.images[0].png).rgb);
  });

  test('a mask of another size is resized to the input image, with a notice; the infotext names the mask settings', async () => {
    const c = cases.find((x) => x.unet === 'inpaint')!;
    const req = request(c);
    const small = { width: 32, height: 32, gray: new Uint8Array(32 * 32) };
    for (let y = 4; y < 20; y++) for (let x = 8; x < 24; x++) small.gray[y * 32 + x] = 255;
    const out = await engine.generate({ ...req, steps: 2, inpaint: { ...req.inpaint!, mask: small, maskBlur: 4, maskedContent: 'fill', inpaintArea: 'masked' } });
    assert.ok(out.warnings.some((w) => /32×32/.test(w) && /resized/.test(w)), out.warnings.join('\n'));
    assert.match(out.images[0].infotext, /Denoising strength: 1\.0, Conditional mask weight: 1\.0, .*Mask blur: 4, Inpaint area: Only masked, Masked area padding: 32, Masked content: fill/);
  });

  test('a 9-channel UNet in a folder without unet/config.json (the legacy converter\'s layout) is named as an inpainting UNet', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inpaint-noconfig-'));
    try {
      fs.cpSync(INPAINT_MODEL, dir, { recursive: true, dereference: true });
      fs.rmSync(path.join(dir, 'unet', 'config.json'));
      const c = cases.find((x) => x.unet === 'inpaint')!;
      const own = new Engine();
      await assert.rejects(own.generate({ ...request(c), modelDir: dir, inpaint: null, steps: 1 }),
        /reads 9 channels, its folder says 4: a 9-channel UNet is an inpainting UNet; add unet\/config.json with "in_channels": 9/);
      await own.release();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
