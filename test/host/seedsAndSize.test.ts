/**
 * The panel's variation seed and hires. fix in the host: the webview message guard, the requests built from the
 * panel (image i: seed + i and variation seed + i), a result's Variations, and Reuse Parameters against A1111's own
 * parse_generation_parameters recorded (fixtures/record_a1111_seeds_size_infotext.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PanelParams } from '../../src/protocol/webviewMessages';
import { parseFromWebview } from '../../src/panel/webviewMessageGuards';
import { buildRequests, withConcreteSeed } from '../../src/generation/requestBuilder';
import { DEFAULT_SETTINGS } from '../../src/generation/settings';
import { paramsFromInfotext } from '../../src/generation/reuseParameters';
import { imageParams, variationsOf } from '../../src/generation/seedsAndSize';
import { buildInfotextParams, formatInfotext, parseInfotext } from '../../src/engine/infotext';
import { hiresInfotextExtra } from '../../src/engine/hires';

const ctx = { modelIds: ['/models/m'] };
const good: PanelParams = {
  prompt: 'a red fox', negativePrompt: '', sampler: 'euler_a', steps: 20, cfgScale: 7, seed: 42, randomSeed: false,
  width: 512, height: 512, batchCount: 2, model: '/models/m',
};

function generate(overrides: Record<string, unknown>): unknown {
  return parseFromWebview({ type: 'generate', params: { ...good, ...overrides } }, ctx);
}

test('the guard accepts variation and hires fields as they are', () => {
  const params = { ...good, variationSeed: 7, variationStrength: 0.3, hires: { scale: 2, steps: 0, strength: 0.7, upscaler: 'Latent (bicubic antialiased)' } };
  assert.deepEqual(generate(params), { ok: true, message: { type: 'generate', params } });
  const random = { ...good, randomVariationSeed: true, variationStrength: 1, hires: null };
  assert.deepEqual(generate(random), { ok: true, message: { type: 'generate', params: random } });
});

test('the guard rejects each bad variation or hires value, naming the field, what was expected and what arrived', () => {
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [{ variationSeed: -1, variationStrength: 0.2 }, 'variationSeed', 'Variation seed: expected a whole number from 0 to 4294967295, got -1'],
    [{ variationSeed: 1.5 }, 'variationSeed', 'Variation seed: expected a whole number from 0 to 4294967295, got 1.5'],
    [{ randomVariationSeed: 'yes' }, 'randomVariationSeed', 'Random variation seed: expected true or false, got "yes"'],
    [{ variationSeed: 1, variationStrength: 1.5 }, 'variationStrength', 'Variation strength: expected a number from 0 to 1, got 1.5'],
    [{ variationSeed: 1, variationStrength: NaN }, 'variationStrength', 'Variation strength: expected a number from 0 to 1, got NaN'],
    [{ variationStrength: 0.3 }, 'variationSeed', 'Variation seed: a variation strength of 0.3 needs a variation seed or "random"'],
    [{ variationSeed: 4294967295, variationStrength: 0.3 }, 'variationSeed',
      'Variation seed: image i of a batch uses variation seed + i, so variation seed + batch count − 1 must be at most 4294967295; got 4294967295 with batch count 2'],
    [{ hires: 2 }, 'hires', 'Hires. fix: expected null or {scale, steps, strength, upscaler}, got 2'],
    [{ hires: { scale: 2, steps: 0, strength: 0.7, upscaler: 'Latent', denoise: 1 } }, 'hires', 'Hires. fix: unknown field "denoise" (expected only scale, steps, strength, upscaler)'],
    [{ hires: { scale: 1, steps: 0, strength: 0.7, upscaler: 'Latent' } }, 'hires', 'Hires upscale: expected a number above 1 and at most 4, got 1'],
    [{ hires: { scale: 2, steps: 151, strength: 0.7, upscaler: 'Latent' } }, 'hires', 'Hires steps: expected a whole number from 0 to 150, got 151'],
    [{ hires: { scale: 2, steps: 0, strength: 0, upscaler: 'Latent' } }, 'hires', 'Hires denoising strength: expected a number above 0 and at most 1, got 0'],
    [{ hires: { scale: 2, steps: 0, strength: 0.5, upscaler: 'R-ESRGAN 4x+' } }, 'hires',
      'Hires upscaler: expected one of Latent, Latent (antialiased), Latent (bicubic), Latent (bicubic antialiased), Latent (nearest), Latent (nearest-exact), None, Lanczos, got "R-ESRGAN 4x+"'],
  ];
  for (const [overrides, field, problem] of cases) assert.deepEqual(generate(overrides), { ok: false, problem, field }, problem);
});

test('the Variations message carries an image id, checked as the other image messages', () => {
  assert.deepEqual(parseFromWebview({ type: 'variations', imageId: 'abc-1-0' }, ctx), { ok: true, message: { type: 'variations', imageId: 'abc-1-0' } });
  assert.deepEqual(parseFromWebview({ type: 'variations', imageId: '../x' }, ctx),
    { ok: false, problem: 'variations: expected an image id, got "../x"', field: null });
});

test('requests: image i of a batch count uses the seed and variation seed + i (A1111); hires goes to every request', () => {
  const hires = { scale: 1.5, steps: 10, strength: 0.6, upscaler: 'Latent' } as const;
  const requests = buildRequests({ ...good, batchCount: 3, variationSeed: 100, variationStrength: 0.25, hires }, '/models/m', DEFAULT_SETTINGS);
  assert.deepEqual(requests.map((r) => [r.seed, r.variationSeed, r.variationStrength, r.hires]),
    [[42, 100, 0.25, hires], [42, 101, 0.25, hires], [42, 102, 0.25, hires]]);
  const plain = buildRequests({ ...good, variationSeed: 100, variationStrength: 0 }, '/models/m', DEFAULT_SETTINGS);
  assert.deepEqual(plain.map((r) => [r.seed, 'variationSeed' in r, 'variationStrength' in r, 'hires' in r]), [[42, false, false, false], [43, false, false, false]]);
});

test('a random variation seed is drawn once per Generate, leaving room for the batch', () => {
  const drawn: number[] = [];
  const draw = (count: number): number => { drawn.push(count); return 1000 + drawn.length; };
  const concrete = withConcreteSeed({ ...good, randomSeed: true, randomVariationSeed: true, variationStrength: 0.2 }, draw);
  assert.deepEqual([concrete.seed, concrete.variationSeed, drawn], [1001, 1002, [2, 2]]);
  // without a strength nothing is drawn for the variation seed
  assert.equal(withConcreteSeed({ ...good, randomVariationSeed: true }, draw).variationSeed, undefined);
});

test('a result\'s parameters carry its own variation seed; Variations uses its seed with new random variation seeds', () => {
  const job = { ...good, batchCount: 3, variationSeed: 100, variationStrength: 0.25 };
  assert.deepEqual(imageParams(job, 42, 2), { ...job, seed: 42, randomSeed: false, batchCount: 1, variationSeed: 102, randomVariationSeed: false });
  const made = variationsOf({ ...good, randomSeed: true, batchCount: 1 }, 42, { count: 6, strength: 0.15 });
  assert.deepEqual(made, { ok: true, params: { ...good, seed: 42, randomSeed: false, batchCount: 6, randomVariationSeed: true, variationStrength: 0.15 } });
  const ofVariation = variationsOf(imageParams(job, 42, 2), 42, { count: 4, strength: 0.2 });
  assert.deepEqual(ofVariation, { ok: false, reason: 'this image is already a variation (variation seed 102 at strength 0.25); variation seeds do not nest '
    + '(as in A1111): use Reuse Parameters and change its variation seed or strength instead' });
  // made from an input image (the panel sends a strength only then; Reuse Parameters reads one only from such a PNG)
  const settings = { count: 4, strength: 0.2 };
  const fromImage = variationsOf({ ...good, strength: 0.6 }, 42, settings);
  assert.equal(fromImage.ok, false);
  assert.match((fromImage as { reason: string }).reason, /made from another image \(image to image\).*Use as Input/);
  const masks = { maskBlur: 4, maskMode: 'masked' as const, maskedContent: 'original' as const, inpaintArea: 'whole' as const, inpaintPadding: 32 };
  const inpainted = variationsOf({ ...good, maskSettings: masks }, 42, settings);
  assert.match((inpainted as { reason: string }).reason, /made from another image \(inpainting\)/);
});

interface RecordedCase { origin: 'ours' | 'a1111'; infotext: string; a1111: Record<string, string> }
const recorded = (JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'a1111_seeds_size_infotext.json'), 'utf8')) as { cases: RecordedCase[] }).cases;

/** The defaults A1111's parse_generation_parameters adds to every infotext (not written into it). */
const A1111_DEFAULTS = new Set(['Prompt', 'Negative prompt', 'Clip skip', 'Hires resize-1', 'Hires resize-2', 'Hires sampler', 'Hires checkpoint',
  'Hires prompt', 'Hires negative prompt', 'Mask mode', 'Masked content', 'Inpaint area', 'Masked area padding', 'Schedule type',
  'Schedule max sigma', 'Schedule min sigma', 'Schedule rho', 'VAE Encoder', 'VAE Decoder', 'FP8 weight', 'RNG']);

test('our writer makes the recorded infotexts from the fields (variation seed, Seed resize from, hires. fix)', () => {
  const base = { steps: 20, sampler: 'Euler a', cfgScale: 7, seed: 42, width: 512, height: 512, modelHash: 'abcdef1234', model: 'sd15', rng: 'CPU', version: 'inline-diffusion 0.1.0' };
  const fields = [
    { ...base, variationSeed: 9, variationSeedStrength: 0.3 },
    { ...base, seed: 4294967295, variationSeed: 4294967295, variationSeedStrength: 1 },
    { ...base, variationSeed: 7, variationSeedStrength: 0.05, seedResizeFrom: { width: 512, height: 768 } },
    { ...base, denoisingStrength: 0.7, extra: hiresInfotextExtra({ scale: 2, steps: 10, strength: 0.7, upscaler: 'Latent' }) },
    { ...base, denoisingStrength: 0.55, extra: hiresInfotextExtra({ scale: 1.5, steps: 0, strength: 0.55, upscaler: 'Latent (bicubic antialiased)' }) },
    { ...base, denoisingStrength: 1, variationSeed: 3, variationSeedStrength: 0.2, extra: hiresInfotextExtra({ scale: 4, steps: 150, strength: 1, upscaler: 'Lanczos' }) },
    { ...base, denoisingStrength: 0.35, extra: [['Lora hashes', 'x: 0123abcd'] as const, ...hiresInfotextExtra({ scale: 1.25, steps: 3, strength: 0.35, upscaler: 'None' })] },
  ];
  const ours = recorded.filter((c) => c.origin === 'ours').map((c) => c.infotext);
  assert.deepEqual(fields.map((f) => formatInfotext('a lighthouse, at dusk', 'blurry', buildInfotextParams(f))), ours);
});

test('our parser reads every recorded infotext as A1111\'s parse_generation_parameters does (before its defaults)', () => {
  for (const c of recorded) {
    const ours = parseInfotext(c.infotext);
    assert.equal(ours.prompt, c.a1111.Prompt);
    assert.equal(ours.negativePrompt, c.a1111['Negative prompt']);
    for (const [key, value] of Object.entries(ours.params)) assert.equal(value, c.a1111[key], `${key} of ${c.infotext}`);
    const added = Object.keys(c.a1111).filter((k) => !(k in ours.params));
    assert.deepEqual(added.filter((k) => !A1111_DEFAULTS.has(k)), [], c.infotext);
  }
});

test('Reuse Parameters loads the variation seed and hires. fix as A1111\'s txt2img paste fields read them', () => {
  const current = { ...good, batchCount: 3, model: '/m/sd15' };
  const models = [{ id: '/m/sd15', name: 'sd15' }];
  for (const c of recorded) {
    const a = c.a1111;
    const { params, notes } = paramsFromInfotext(c.infotext, current, models);
    if (a['Variation seed'] !== undefined) {
      assert.deepEqual([params.variationSeed, params.variationStrength], [Number(a['Variation seed']), Number(a['Variation seed strength'])], c.infotext);
    } else {
      assert.equal(params.variationStrength, undefined);
    }
    const hiresField = a['Hires upscale'] !== undefined || a['Hires upscaler'] !== undefined || a['Hires resize-1'] !== '0';
    const offered = ['Latent', 'Latent (bicubic antialiased)', 'Lanczos', 'None'].includes(a['Hires upscaler'] ?? 'Latent') && a['Hires resize-1'] === '0';
    if (hiresField && offered) {
      // A1111's UI: hr_scale = float("Hires upscale"), hr_second_pass_steps = "Hires steps", hr_upscaler, denoising_strength
      assert.deepEqual(params.hires, {
        scale: Number(a['Hires upscale']), steps: a['Hires steps'] === undefined ? 0 : Number(a['Hires steps']),
        strength: Number(a['Denoising strength']), upscaler: a['Hires upscaler'],
      }, c.infotext);
    } else {
      assert.equal(params.hires, undefined, c.infotext);
    }
    if (a['Seed resize from-1'] !== undefined) assert.ok(notes.some((n) => n.includes('"Seed resize from" is not offered')));
  }
  const esrgan = recorded.find((c) => c.infotext.includes('R-ESRGAN'))!;
  assert.deepEqual(paramsFromInfotext(esrgan.infotext, current, models).notes, ['hires. fix (upscale "1.5", steps "15", upscaler "R-ESRGAN 4x+", '
    + 'denoising "0.4") is not one the panel offers (upscalers: Latent, Latent (antialiased), Latent (bicubic), Latent (bicubic antialiased), '
    + 'Latent (nearest), Latent (nearest-exact), None, Lanczos); not loaded']);
  const resize = recorded.find((c) => c.infotext.includes('Hires resize: 1024x768'))!;
  assert.deepEqual(paramsFromInfotext(resize.infotext, current, models).notes,
    ['hires. fix resized to 1024x768: the panel upscales by a factor; hires. fix not loaded']);
  // An img2img image ("Denoising strength" alone) is not read as hires. fix. (A1111's txt2img paste does turn it on:
  // its parser adds "Hires resize-1: 0" to every infotext, and its enable_hr test then sees one.)
  const img2img = recorded.find((c) => c.infotext.endsWith('Denoising strength: 0.75, Version: v1.6.0'))!;
  assert.equal(img2img.a1111['Hires resize-1'], '0');
  assert.equal(paramsFromInfotext(img2img.infotext, current, models).params.hires, undefined);
});

test('Reuse Parameters on an image without variation or hires clears them from the form', () => {
  const current = { ...good, variationSeed: 5, variationStrength: 0.4, randomVariationSeed: true, hires: { scale: 2, steps: 0, strength: 0.7, upscaler: 'Latent' as const } };
  const { params } = paramsFromInfotext('a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512', current, []);
  assert.deepEqual([params.variationSeed, params.variationStrength, params.randomVariationSeed, params.hires], [undefined, undefined, undefined, undefined]);
});
