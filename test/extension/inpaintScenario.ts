/**
 * Inpainting in the panel (issue 17): a result's "Use as Input" → the mask editor's canvas over the input image →
 * a smaller brush → a mouse drag across the picture paints a band → "Only masked" picked → Generate → a new PNG
 * whose parameters carry A1111's mask fields, whose pixels far from the band are the input's own (the original
 * pasted back through the mask) and which differs inside the band. The input image is removed at the end.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { listPngs, readSavedPng } from './files';
import { button, panelText, typeInto } from './panel';
import type { Session } from './session';
import { generateThenUseAsInput } from './imageToImageScenario';
import { waitFor } from './workbench';

function pixels(file: string): { width: number; height: number; channels: number; data: Uint8Array } {
  const d = decode(fs.readFileSync(file));
  return { width: d.width, height: d.height, channels: d.channels, data: Uint8Array.from(d.data as Uint8Array) };
}

export async function paintMaskThenInpaint(s: Session): Promise<void> {
  // a picture to start from, used as the input image
  const { frame, dir, source, newPng } = await generateThenUseAsInput(s);
  const canvas = frame.locator('canvas.mask-canvas');
  await canvas.waitFor({ state: 'visible', timeout: 30_000 });

  // a 10 px brush, then a drag across the middle of the picture
  await frame.getByLabel('Brush size', { exact: true }).fill('10');
  const box = await canvas.boundingBox();
  assert.ok(box && box.width > 20 && box.height > 20, `expected the mask canvas over the input image; got ${JSON.stringify(box)}`);
  const y = box.y + box.height / 2;
  await s.page.mouse.move(box.x + box.width * 0.2, y);
  await s.page.mouse.down();
  await s.page.mouse.move(box.x + box.width * 0.5, y + 2, { steps: 8 });
  await s.page.mouse.move(box.x + box.width * 0.8, y, { steps: 8 });
  await s.page.mouse.up();
  const painted = await canvas.evaluate((c) => {
    const canvasEl = c as HTMLCanvasElement;
    const data = canvasEl.getContext('2d')?.getImageData(0, 0, canvasEl.width, canvasEl.height).data ?? new Uint8ClampedArray();
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return { n, width: canvasEl.width, height: canvasEl.height };
  }, null);
  s.log(`mask painted: ${painted.n} of ${painted.width}×${painted.height} pixels`);
  assert.ok(painted.n > 50 && painted.n < painted.width * painted.height / 2, `expected a painted band; got ${JSON.stringify(painted)}`);
  await frame.getByLabel('Inpaint area', { exact: true }).selectOption('masked');
  await s.page.screenshot({ path: path.join(s.outputDir, 'inpaint-1-mask.png') });

  const before = listPngs(dir);
  await typeInto(s.page, frame, 'Prompt', 'a yellow stripe');
  await button(frame, 'Generate').click();
  const made = await newPng(before, 'the inpainted PNG');
  const png = readSavedPng(path.join(dir, made));
  s.log(`inpainted from ${source}: ${made}: ${png.parameters.replace(/\n/g, ' | ')}`);
  assert.match(png.parameters, /(^|, )Mask blur: 4(,|$)/m);
  assert.match(png.parameters, /(^|, )Inpaint area: Only masked, Masked area padding: 32(,|$)/m);
  assert.match(png.parameters, /(^|, )Denoising strength: /m);

  // far from the band the original is pasted back exactly; inside it the picture changed
  const a = pixels(path.join(dir, source));
  const b = pixels(path.join(dir, made));
  assert.deepEqual([b.width, b.height], [a.width, a.height]);
  const at = (img: typeof a, x: number, yy: number) => Array.from(img.data.subarray((yy * img.width + x) * img.channels, (yy * img.width + x) * img.channels + 3));
  for (const [x, yy] of [[1, 1], [a.width - 2, 1], [1, a.height - 2], [a.width - 2, a.height - 2]]) {
    assert.deepEqual(at(b, x, yy), at(a, x, yy), `pixel (${x}, ${yy}) far from the mask`);
  }
  let changed = 0;
  const row = Math.floor(a.height / 2);
  for (let x = Math.floor(a.width * 0.3); x < Math.floor(a.width * 0.7); x++) if (at(a, x, row).join() !== at(b, x, row).join()) changed++;
  assert.ok(changed > 0, 'expected the painted band to be repainted');
  await waitFor('Done. in the panel', async () => ((await panelText(frame)).includes('Done.') ? true : undefined), 30_000, 100);
  await s.page.screenshot({ path: path.join(s.outputDir, 'inpaint-2-after.png') });

  await frame.getByRole('button', { name: /^(Remove|Remove the input image)$/ }).first().click();
  await canvas.waitFor({ state: 'hidden', timeout: 10_000 });
}
