/**
 * The inpainting fields of A1111's infotext: written in the order and words of A1111 1.10's
 * StableDiffusionProcessingImg2Img.init (src/engine/inpaint/inpaintRun.ts) and read back with A1111's paste defaults
 * (src/common/inpaintInfotext.ts): every combination survives the round trip through formatInfotext / parseInfotext.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasInpaintFields, readInpaintInfotext } from '../../../src/common/inpaintInfotext';
import { inpaintInfotextExtra } from '../../../src/engine/inpaint';
import { buildInfotextParams, formatInfotext, parseInfotext } from '../../../src/engine/infotext';
import type { InpaintSettings } from '../../../src/protocol/engineMessages';

const mask = { width: 1, height: 1, gray: new Uint8Array([255]) };

function infotextOf(s: InpaintSettings, cropped: boolean): string {
  return formatInfotext('a red door', '', buildInfotextParams({
    steps: 20, sampler: 'Euler a', cfgScale: 7, seed: 1, width: 512, height: 512, denoisingStrength: 0.75,
    extra: inpaintInfotextExtra(s, cropped),
  }));
}

test('A1111\'s words and order: "Mask mode", "Mask blur", "Inpaint area", "Masked area padding", "Masked content"', () => {
  const text = infotextOf({ mask, maskBlur: 4, maskMode: 'unmasked', maskedContent: 'latent-noise', inpaintArea: 'masked', inpaintPadding: 32 }, true);
  assert.match(text, /Denoising strength: 0\.75, Mask mode: Inpaint not masked, Mask blur: 4, Inpaint area: Only masked, Masked area padding: 32, Masked content: latent noise$/m);
  // A1111's defaults are not written: blur 0, inpaint masked, original, whole picture
  const plain = infotextOf({ mask, maskBlur: 0, maskMode: 'masked', maskedContent: 'original', inpaintArea: 'whole', inpaintPadding: 32 }, false);
  assert.doesNotMatch(plain, /Mask|Inpaint area|Masked/);
});

test('every setting reads back as it was written', () => {
  for (const maskBlur of [0, 4, 64]) {
    for (const maskMode of ['masked', 'unmasked'] as const) {
      for (const maskedContent of ['fill', 'original', 'latent-noise', 'latent-nothing'] as const) {
        for (const inpaintArea of ['whole', 'masked'] as const) {
          const s: InpaintSettings = { mask, maskBlur, maskMode, maskedContent, inpaintArea, inpaintPadding: inpaintArea === 'masked' ? 8 : 32 };
          const { params } = parseInfotext(infotextOf(s, inpaintArea === 'masked'));
          const { fields, notes } = readInpaintInfotext(params);
          assert.deepEqual(fields, { maskBlur, maskMode, maskedContent, inpaintArea, inpaintPadding: s.inpaintPadding });
          assert.deepEqual(notes, []);
        }
      }
    }
  }
});

test('an A1111 picture\'s fields, and values it cannot read (noted, defaults kept)', () => {
  const { params } = parseInfotext('door\nSteps: 20, Sampler: Euler a, CFG scale: 7.0, Seed: 1, Size: 512x512, Denoising strength: 0.44, Mask blur: 7, Inpaint area: Only masked, Masked area padding: 48');
  assert.ok(hasInpaintFields(params));
  assert.deepEqual(readInpaintInfotext(params).fields, { maskBlur: 7, maskMode: 'masked', maskedContent: 'original', inpaintArea: 'masked', inpaintPadding: 48 });
  const odd = readInpaintInfotext({ 'Mask blur': 'x', 'Masked content': 'sparkles', 'Inpaint area': 'Half' });
  assert.deepEqual(odd.fields, { maskBlur: 0, maskMode: 'masked', maskedContent: 'original', inpaintArea: 'whole', inpaintPadding: 32 });
  assert.equal(odd.notes.length, 3);
  assert.ok(!hasInpaintFields({ Steps: '20', 'Denoising strength': '0.5' }));
});
