/**
 * A1111's image-side inpainting against A1111's own code run in Python (test/fixtures/inpaint-a1111/, its README):
 * "Mask blur" (cv2.GaussianBlur as processing.py calls it), the "Only masked" crop region (masking.get_crop_region_v2,
 * expand_crop_region), "fill" (masking.fill: Pillow's Gaussian blur, RGBa, alpha_composite), the whole init() mask and
 * image steps with apply_overlay, and the "latent noise" / "latent nothing" initial latents with A1111's CPU randn.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { decode } from 'fast-png';
import {
  a1111Fill, a1111MaskBlur, applyOverlay, expandCropRegion, getCropRegion, latentMaskedContent, prepareA1111Inpaint, type Bytes8,
} from '../../../src/engine/inpaint';
import { TorchGenerator } from '../../../src/engine/random';

const DIR = path.resolve(__dirname, '../../fixtures/inpaint-a1111');
const pil = JSON.parse(fs.readFileSync(path.join(DIR, 'pil_cases.json'), 'utf8'));
const latent = JSON.parse(fs.readFileSync(path.join(DIR, 'latent_cases.json'), 'utf8'));

/** A PNG as 8-bit bytes with its channel count (gray 1, RGB 3, RGBA 4). */
function png(rel: string): Bytes8 {
  const d = decode(fs.readFileSync(path.join(DIR, rel)));
  assert.equal(d.depth, 8);
  return { width: d.width, height: d.height, channels: d.channels as 1 | 3 | 4, data: Uint8Array.from(d.data as Uint8Array) };
}
const gray = (rel: string): Bytes8 => {
  const p = png(rel);
  if (p.channels === 1) return p;
  return { ...p, channels: 1, data: Uint8Array.from({ length: p.width * p.height }, (_, i) => p.data[i * p.channels]) };
};
const rgb = (rel: string) => {
  const p = png(rel);
  assert.equal(p.channels, 3);
  return { width: p.width, height: p.height, rgb: p.data };
};

function maxDiff(a: Uint8Array, b: Uint8Array): { max: number; mean: number } {
  assert.equal(a.length, b.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    if (d > max) max = d;
  }
  return { max, mean: sum / a.length };
}

describe("A1111's mask steps vs its own code (Pillow / OpenCV recorded)", () => {
  for (const c of pil.blur) {
    // OpenCV's 8-bit Gaussian rounds its kernel to fixed point; ours is float64: within 2 levels.
    test(`mask blur σ ${c.sigma_x}×${c.sigma_y} of ${c.mask}: within 2 levels of cv2.GaussianBlur`, (t) => {
      const ours = a1111MaskBlur(gray(c.mask), c.sigma_x, c.sigma_y);
      const d = maxDiff(ours.data, gray(c.out).data);
      t.diagnostic(`max ${d.max}, mean ${d.mean.toFixed(4)}`);
      assert.ok(d.max <= 2 && d.mean < 0.15, JSON.stringify(d));
    });
  }

  for (const c of pil.crop) {
    test(`crop region of ${c.mask} padded ${c.pad} for ${c.processing.join('×')}`, () => {
      const m = gray(c.mask);
      const region = getCropRegion(m, c.pad);
      assert.deepEqual(region, c.region);
      assert.deepEqual(expandCropRegion(region!, c.processing[0], c.processing[1], m.width, m.height), c.expanded);
    });
  }

  test('an all-black mask has no crop region (get_crop_region_v2 gives None)', () => {
    assert.equal(getCropRegion({ width: 4, height: 4, channels: 1, data: new Uint8Array(16) }, 8), null);
  });

  for (const c of pil.fill) {
    test(`fill ${c.out}: equal to masking.fill (Pillow ${pil.versions.Pillow})`, (t) => {
      const ours = a1111Fill(rgb(c.image), gray(c.mask).data);
      const d = maxDiff(ours.rgb, rgb(c.out).rgb);
      t.diagnostic(`max ${d.max}, mean ${d.mean.toFixed(4)}`);
      assert.ok(d.max <= 1 && d.mean < 0.05, JSON.stringify(d));
    });
  }

  for (const c of pil.init) {
    test(`init() + apply_overlay "${c.name}": image, latent mask, overlay and final picture`, (t) => {
      const image = rgb(c.image);
      const prepared = prepareA1111Inpaint(image, gray(c.mask).data, c.width, c.height, {
        maskBlur: c.blur, invert: c.invert, maskedContent: c.fill_mode === 0 ? 'fill' : 'original', onlyMasked: c.full_res, padding: c.padding,
      });
      assert.ok(prepared !== null);
      assert.deepEqual(prepared.cropRegion, c.crop_region);
      assert.deepEqual(prepared.overlay.pasteTo, c.paste_to);
      const dm = maxDiff(Uint8Array.from(prepared.mask.data, (v) => Math.round(v * 255)), gray(c.out_mask).data);
      const di = maxDiff(prepared.image.rgb, rgb(c.out_image).rgb);
      // The overlay's colour where its alpha is small is a rounding of colour·255/alpha: compared premultiplied.
      const premul = (rgba: Uint8Array) => Uint8Array.from(rgba, (v, i) => (i % 4 === 3 ? v : Math.round((v * rgba[i - (i % 4) + 3]) / 255)));
      const dov = maxDiff(premul(prepared.overlay.rgba), premul(png(c.out_overlay).data));
      const final = applyOverlay(rgb('pil/fake-result-64.png'), prepared.overlay);
      const df = maxDiff(final.rgb, rgb(c.out_final).rgb);
      t.diagnostic(`mask ${JSON.stringify(dm)}, image ${JSON.stringify(di)}, overlay ${JSON.stringify(dov)}, final ${JSON.stringify(df)}`);
      assert.equal(final.width, c.full_res ? 96 : 64);
      // The filled image inherits the blur's ±2 levels in the mask it fills through (fill itself is exact: above).
      // ("Whole picture" doubles the mask for the overlay, and so its ±2.)
      for (const d of [dm, df]) assert.ok(d.max <= 2 && d.mean < 0.1, JSON.stringify({ dm, di, dov, df }));
      assert.ok(dov.max <= 4 && dov.mean < 0.1, JSON.stringify({ dm, di, dov, df }));
      assert.ok(di.max <= 8 && di.mean < 0.1, JSON.stringify({ dm, di, dov, df }));
    });
  }

  for (const c of latent.cases) {
    test(`masked content "${c.inpainting_fill === 2 ? 'latent noise' : 'latent nothing'}" (seed ${c.seed}): A1111's init_latent`, () => {
      const init = Float32Array.from(c.init_latent);
      const noise = c.inpainting_fill === 2 ? new TorchGenerator(c.seed).randn(init.length) : undefined;
      const ours = latentMaskedContent(init, Float32Array.from(c.latmask), 1, noise);
      assert.deepEqual(Array.from(ours), c.result.map((v: number) => Math.fround(v)));
    });
  }
});
