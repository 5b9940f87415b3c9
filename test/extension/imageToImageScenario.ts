/**
 * Image to image in the panel (issue 17): a result's "Use as Input" → the input image shows with its size → a
 * denoising strength typed into its number field (the slider follows) → Generate → a new PNG whose parameters say
 * "Denoising strength". The input image is removed at the end, so later scenarios generate from text again.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { listPngs, readSavedPng } from './files';
import { button, field, openPanel, panelFrame, panelText, typeInto } from './panel';
import type { FrameLocator } from './playwright';
import type { Session } from './session';
import { waitFor } from './workbench';

const IMAGES = 'images';

/** What a scenario starting from a fresh result as the input image works with. */
export interface FromResult {
  readonly frame: FrameLocator;
  /** The workspace's images folder. */
  readonly dir: string;
  /** The source PNG's file name. */
  readonly source: string;
  /** The first PNG in `dir` not in `before`, waited for. */
  newPng(before: readonly string[], what: string): Promise<string>;
}

/** The panel (opened if needed) generates a picture and that result's "Use as Input" makes it the input image. */
export async function generateThenUseAsInput(s: Session): Promise<FromResult> {
  let frame = panelFrame(s.page);
  if (!(await field(frame, 'Prompt').isVisible().catch(() => false))) frame = await openPanel(s.page);
  const dir = path.join(s.workspaceDir, IMAGES);
  const newPng = (before: readonly string[], what: string): Promise<string> =>
    waitFor(what, () => listPngs(dir).find((f) => !before.includes(f)), 90_000, 50);

  // a picture to start from
  const before = listPngs(dir);
  await typeInto(s.page, frame, 'Prompt', 'a red circle on a blue background');
  await typeInto(s.page, frame, 'Steps', '10');
  await button(frame, 'Generate').click();
  const source = await newPng(before, 'the source PNG');

  // Use as Input on that result (the toolkit button's name: its aria-label where delegated, else its text)
  await frame.getByRole('button', { name: /^(Use as Input|Use image \(seed \d+\) as the input image)$/ }).first().click();
  return { frame, dir, source, newPng };
}

export async function useAsInputThenGenerate(s: Session): Promise<void> {
  const { frame, dir, source, newPng } = await generateThenUseAsInput(s);
  const preview = frame.locator('#inputImagePreview');
  await preview.waitFor({ state: 'visible', timeout: 30_000 });
  const caption = await waitFor('the input image caption with its size', async () => {
    const text = (await frame.locator('#inputImageCaption').textContent()) ?? '';
    return /\d+×\d+/.test(text) ? text : undefined;
  }, 10_000, 100);
  assert.match(caption, /64×64/, `expected the embedded model's 64×64 picture as the input; got "${caption}"`);
  assert.match(await preview.getAttribute('src') ?? '', /^data:image\/png;base64,/);

  // the strength: typed into the number field, the slider follows
  const strength = frame.getByRole('textbox', { name: 'Denoising strength', exact: true })
    .or(frame.getByLabel('Denoising strength', { exact: true })).first();
  await strength.click();
  await strength.evaluate((host) => {
    const inner = host.shadowRoot?.querySelector('input') ?? host;
    if (inner instanceof HTMLInputElement) inner.select();
  }, null);
  await s.page.keyboard.type('0.6');
  await waitFor('the slider at 0.6', async () => ((await frame.locator('#strengthSlider').inputValue()) === '0.6' ? true : undefined), 5_000, 100);
  await s.page.screenshot({ path: path.join(s.outputDir, 'img2img-1-input.png') });

  const before = listPngs(dir);
  await typeInto(s.page, frame, 'Prompt', 'a green circle on a blue background');
  await button(frame, 'Generate').click();
  const made = await newPng(before, 'the image-to-image PNG');
  const png = readSavedPng(path.join(dir, made));
  s.log(`image to image from ${source}: ${made}: ${png.parameters.replace(/\n/g, ' | ')}`);
  assert.ok(png.parameters.startsWith('a green circle on a blue background\n'), `expected the new prompt; got: ${png.parameters}`);
  assert.match(png.parameters, /(^|, )Denoising strength: 0\.6(,|$)/m);
  assert.match(png.parameters, /(^|, )Steps: 10(,|$)/m);
  await waitFor('Done. in the panel', async () => ((await panelText(frame)).includes('Done.') ? true : undefined), 30_000, 100);
  await s.page.screenshot({ path: path.join(s.outputDir, 'img2img-2-after.png') });

  await frame.getByRole('button', { name: /^(Remove|Remove the input image)$/ }).first().click();
  await preview.waitFor({ state: 'hidden', timeout: 10_000 });
}
