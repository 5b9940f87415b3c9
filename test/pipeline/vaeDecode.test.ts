/**
 * The VAE decode choices of issue 15 on the tiny real-architecture VAE against diffusers
 * (test/fixtures/real-arch/record_decode.py, decode_cases.json): diffusers' AutoencoderKL.tiled_decode and the
 * untiled decode of one 1×4×16×24 latent, and a tiny AutoencoderTiny (TAESD's class) exported as a model folder's
 * taesd/vae_decoder/. The bar: max |Δ| ≤ 2 levels of 255. Then the Engine's `vaeDecode` modes end to end.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { Engine } from '../../src/engine/engine';
import { decodedToRgbImages } from '../../src/engine/image';
import { decodeImage } from '../../src/engine/image/imageIo';
import { readModelFolder } from '../../src/engine/model';
import { loadModel, PreviewDecoder } from '../../src/engine/onnx';
import { imageDelta, REAL_ARCH_DIR, realArchModel } from '../fixtures/realArch';

interface DecodeCase {
  latent_shape: [number, number, number, number];
  tile_sample_min_size: number;
  tile_latent_min_size: number;
  tiled_vs_full_max_abs_u8: number;
  references: { tiled: string; full: string; taesd: string };
}
const CASE = JSON.parse(fs.readFileSync(path.join(REAL_ARCH_DIR, 'decode_cases.json'), 'utf8')) as DecodeCase;
const [, , LH, LW] = CASE.latent_shape;

/** The recorded latent: float32(sin(0.37·i)·1.5). */
function latents(): Float32Array {
  const n = CASE.latent_shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 0.37) * 1.5));
}

function reference(name: keyof DecodeCase['references']): Uint8Array {
  return decodeImage(fs.readFileSync(path.join(REAL_ARCH_DIR, CASE.references[name]))).rgb;
}

function rgbOf(images: Float32Array): Uint8Array {
  return decodedToRgbImages(images, [1, 3, LH * 8, LW * 8])[0].rgb;
}

describe('VAE decode against diffusers (tiny real-architecture VAE)', () => {
  const modelDir = realArchModel('sd15', 'optimum');
  let model: Awaited<ReturnType<typeof loadModel>> | undefined;
  after(() => model?.release());
  const tiling = { tileSample: CASE.tile_sample_min_size, tileLatent: CASE.tile_latent_min_size };

  test('the fixture VAE declares the tile diffusers used (its sample_size)', async () => {
    const info = await readModelFolder(modelDir);
    assert.equal(info.vaeSampleSize, CASE.tile_sample_min_size);
  });

  test('tiled decode matches AutoencoderKL.tiled_decode within 2/255; the untiled one matches decode', async (t) => {
    model ??= await loadModel(await readModelFolder(modelDir), { executionProvider: 'cpu', threads: 1 });
    const tiled = rgbOf(await model.decodeLatents(latents(), [1, 4, LH, LW], { tiling }));
    const full = rgbOf(await model.decodeLatents(latents(), [1, 4, LH, LW]));
    const dTiled = imageDelta(tiled, reference('tiled'));
    const dFull = imageDelta(full, reference('full'));
    const apart = imageDelta(tiled, full);
    t.diagnostic(`tiled vs diffusers' tiled_decode: max |Δ| ${dTiled.max}; untiled vs decode: max |Δ| ${dFull.max}; `
      + `tiled vs untiled: max |Δ| ${apart.max}, mean ${apart.meanPerChannel.map((m) => m.toFixed(2)).join('/')} (diffusers: max ${CASE.tiled_vs_full_max_abs_u8})`);
    assert.ok(dTiled.max <= 2, `tiled: max |Δ| ${dTiled.max}`);
    assert.ok(dFull.max <= 2, `untiled: max |Δ| ${dFull.max}`);
    // tiles change the GroupNorm statistics: the tiled picture is not the untiled one (so tiling really happened)
    assert.ok(apart.max > 20, `tiled and untiled pictures differ by only ${apart.max}`);
  });

  test('TAESD (AutoencoderTiny) decodes the latent as diffusers does within 2/255', async () => {
    const taesd = await PreviewDecoder.load(path.join(REAL_ARCH_DIR, 'taesd', 'vae_decoder', 'model.onnx'), { executionProvider: 'cpu', threads: 1 });
    try {
      const image = await taesd.decodeImages(latents(), [1, 4, LH, LW]);
      const d = imageDelta(rgbOf(image), reference('taesd'));
      assert.ok(d.max <= 2, `TAESD: max |Δ| ${d.max}`);
    } finally {
      await taesd.release();
    }
  });
});

describe('Engine vaeDecode', () => {
  // sd15/optimum-old (inline UNet weights) copied with the fixture's TAESD beside it: a folder that "has TAESD".
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-decode-'));
  fs.cpSync(realArchModel('sd15', 'optimum-old'), path.join(dir, 'model'), { recursive: true, dereference: true });
  const withTaesd = path.join(dir, 'model');
  fs.cpSync(path.join(REAL_ARCH_DIR, 'taesd'), path.join(withTaesd, 'taesd'), { recursive: true });
  const engine = new Engine();
  after(async () => {
    await engine.release();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const request = (vaeDecode: 'auto' | 'full' | 'tiled' | 'fast', modelDir = withTaesd) => ({
    modelDir, prompt: 'a lighthouse', negativePrompt: null, sampler: 'euler', steps: 2, cfgScale: 7, seed: 3,
    width: 192, height: 128, batchSize: 1, initImage: null, strength: 0.75, previews: false, rng: 'cpu' as const,
    vaeDecode, executionProvider: 'cpu' as const, threads: 1,
  });

  test('"fast" decodes through the folder\'s TAESD and the infotext says so; "full" does not', async () => {
    const fast = await engine.generate(request('fast'));
    const full = await engine.generate(request('full'));
    assert.match(fast.images[0].infotext, /VAE Decoder: TAESD/);
    assert.doesNotMatch(full.images[0].infotext, /VAE Decoder/);
    assert.ok(imageDelta(decodeImage(fast.images[0].png).rgb, decodeImage(full.images[0].png).rgb).max > 20);
  });

  test('"fast" without a TAESD in the folder warns and decodes with the full VAE', async () => {
    const out = await engine.generate(request('fast', realArchModel('sd15', 'optimum-old')));
    assert.ok(out.warnings.some((w) => /fast decode needs a TAESD decoder/.test(w)), out.warnings.join('\n'));
    assert.doesNotMatch(out.images[0].infotext, /VAE Decoder/);
  });

  test('"tiled" cuts an image larger than the VAE\'s tile; "auto" leaves a small one whole', async () => {
    const [tiled, full, auto] = [await engine.generate(request('tiled')), await engine.generate(request('full')), await engine.generate(request('auto'))];
    const png = (o: typeof tiled) => decodeImage(o.images[0].png).rgb;
    assert.ok(imageDelta(png(tiled), png(full)).max > 20, 'tiled equals full: no tiles were cut');
    assert.equal(imageDelta(png(auto), png(full)).max, 0);
  });
});
