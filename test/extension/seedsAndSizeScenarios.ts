/**
 * Issue 17's "Seeds and size" in a real VS Code: a result's Variations button makes inlineDiffusion.variationCount
 * (4) PNGs of the same seed, each carrying its own "Variation seed" at the configured strength; the seed row's Extra
 * and the Hires. fix section open and are shot for the record.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listPngs, readSavedPng } from './files';
import { button, openPanel, typeInto } from './panel';
import type { Session } from './session';
import { runCommand, waitFor } from './workbench';

const IMAGES = 'images';

async function shoot(s: Session, name: string): Promise<string> {
  const file = path.join(s.outputDir, `${name}.png`);
  await s.page.screenshot({ path: file });
  s.log('screenshot', file);
  return file;
}

/** Generate one image → its Variations button → four PNGs with the same seed and "Variation seed: N" each. */
export async function variationsOfAResult(s: Session): Promise<void> {
  const dir = path.join(s.workspaceDir, IMAGES);
  // the scenarios before leave the review and gallery panels open: the Generate Image panel is then the only webview
  await runCommand(s.page, 'View: Close All Editors');
  const frame = await openPanel(s.page);
  await typeInto(s.page, frame, 'Prompt', 'a yellow star on black');
  await typeInto(s.page, frame, 'Steps', '6');
  await typeInto(s.page, frame, 'Batch count', '1');
  const before = listPngs(dir);
  await button(frame, 'Generate').click();
  const first = await waitFor('the first PNG', () => listPngs(dir).find((f) => !before.includes(f)), 120_000, 50);
  const source = readSavedPng(path.join(dir, first));
  assert.doesNotMatch(source.parameters, /Variation seed/, 'the source image is no variation');
  const variations = frame.getByRole('button', { name: `Make variations of image (seed ${source.seed})`, exact: true }).first();
  await variations.waitFor({ state: 'visible', timeout: 30_000 });
  const afterFirst = listPngs(dir);
  await variations.click();
  s.log('Variations clicked');
  const made = await waitFor('four variation PNGs', () => {
    const fresh = listPngs(dir).filter((f) => !afterFirst.includes(f));
    return fresh.length >= 4 ? fresh : undefined;
  }, 180_000, 100);
  await frame.locator('.result img').nth(3).waitFor({ state: 'visible', timeout: 15_000 }).catch(() => undefined);
  await shoot(s, 'variations-1-results');
  const pngs = made.map((f) => readSavedPng(path.join(dir, f)));
  const variationSeeds = pngs.map((p) => Number(/(?:^|, )Variation seed: (\d+)(?:,|$)/m.exec(p.parameters)?.[1]));
  for (const p of pngs) {
    assert.equal(p.seed, source.seed, `every variation keeps the seed ${source.seed}: ${p.parameters}`);
    assert.match(p.parameters, /, Variation seed: \d+, Variation seed strength: 0\.2,/, p.parameters);
  }
  const sorted = [...variationSeeds].sort((a, b) => a - b);
  assert.deepEqual(sorted, Array.from({ length: 4 }, (_, i) => sorted[0] + i), 'variation seeds v … v + 3, as A1111 numbers a batch');
  fs.writeFileSync(path.join(s.outputDir, 'variations.json'), JSON.stringify(pngs.map((p) => ({ file: path.basename(p.file), parameters: p.parameters })), null, 1));

  // The seed row's Extra and the Hires. fix section, opened for the screenshot.
  await frame.locator('#seedExtra').click();
  await frame.locator('#seedExtraFields').waitFor({ state: 'visible', timeout: 10_000 });
  await frame.locator('details#hires > summary').click();
  await frame.locator('#hiresEnable').click();
  await waitFor('the hires size note', async () => ((await frame.locator('#hiresSize').innerText()).includes('→') ? true : undefined), 10_000, 100);
  await shoot(s, 'variations-2-extra-and-hires');
}
