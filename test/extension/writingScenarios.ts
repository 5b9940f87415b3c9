/**
 * Scenarios of "writing with pictures": Illustrate Document on a file with three empty images (review → pick →
 * Apply → links rewritten, files present), the hover on a generated image's link, and the gallery.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listPngs, readSavedPng } from './files';
import { COMMAND_PREFIX, EXTENSION_ID } from './panel';
import type { FrameLocator, Page } from './playwright';
import type { Session } from './session';
import { activeEditorText, openFile, runCommand, waitFor } from './workbench';

const IMAGES = 'images';
const DOC = 'docs/chapter.md';
const ALTS = ['a red circle on white', 'a blue square on yellow', 'a green triangle on black'];

async function shoot(s: Session, name: string): Promise<string> {
  const file = path.join(s.outputDir, `${name}.png`);
  await s.page.screenshot({ path: file });
  s.log('screenshot', file);
  return file;
}

/** The content frame of this extension's webview that shows `selector` (several panels may be open). */
export async function webviewWith(page: Page, selector: string, timeoutMs: number): Promise<FrameLocator> {
  const outer = `iframe.webview.ready[src*="extensionId=${EXTENSION_ID}"]`;
  return waitFor(`a webview showing ${selector}`, async () => {
    const count = await page.locator(outer).count();
    for (let i = 0; i < count; i++) {
      const frame = page.frameLocator(outer).nth(i).frameLocator('#active-frame');
      if (await frame.locator(selector).first().isVisible().catch(() => false)) return frame;
    }
    return undefined;
  }, timeoutMs, 250);
}

/** Illustrate Document → a review of three rows with two candidates each → pick one → Apply: one edit, three files. */
export async function illustrateDocument(s: Session): Promise<void> {
  const docPath = path.join(s.workspaceDir, DOC);
  const lines = ['# Chapter', '', `![${ALTS[0]}]()`, '', 'Some text.', '', `![${ALTS[1]}]()`, '', `![${ALTS[2]}]()`, ''];
  fs.mkdirSync(path.dirname(docPath), { recursive: true });
  fs.writeFileSync(docPath, lines.join('\n'));
  const before = listPngs(path.join(s.workspaceDir, IMAGES));
  await openFile(s.page, DOC);
  await runCommand(s.page, `${COMMAND_PREFIX}Illustrate Document`);
  const review = await webviewWith(s.page, '#apply', 60_000);
  await waitFor('two candidates in each of the three rows', async () => {
    const rows = await review.locator('section.row').count();
    const candidates = await review.locator('button.candidate').count();
    const busy = await review.locator('#cancel').isVisible().catch(() => true);
    return rows === 3 && candidates === 6 && !busy ? true : undefined;
  }, 120_000, 250);
  assert.deepEqual(listPngs(path.join(s.workspaceDir, IMAGES)), before, 'nothing is saved before Apply');
  await review.getByRole('radio', { name: 'Candidate 2 of image 1', exact: false }).first().click();
  await waitFor('candidate 2 of image 1 picked', async () => (await review.locator('section.row').first().locator('button.candidate').nth(1).getAttribute('aria-checked')) === 'true' ? true : undefined, 10_000);
  const pickedSeed = Number((await review.locator('section.row').first().locator('button.candidate').nth(1).getAttribute('title'))?.replace(/\D+/g, ''));
  await shoot(s, 'document-1-review');
  await review.getByRole('button', { name: /^Apply \(3 images\)$/ }).click();
  const pattern = new RegExp(ALTS.map((a) => `!\\[${a}\\]\\(([^)]+\\.png)\\)`).join('[\\s\\S]*'));
  const targets = await waitFor('the three links rewritten in the editor', async () => {
    const m = pattern.exec(await activeEditorText(s.page));
    return m ? [m[1], m[2], m[3]] : undefined;
  }, 30_000, 200);
  await shoot(s, 'document-2-applied');
  await s.page.keyboard.press('Control+S');
  const saved = await waitFor('the markdown saved', () => {
    const text = fs.readFileSync(docPath, 'utf8');
    return targets.every((t) => text.includes(`](${t})`)) ? text : undefined;
  }, 10_000).catch(async () => {
    await runCommand(s.page, 'File: Save', 20_000);
    return waitFor('the markdown saved with File: Save', () => fs.readFileSync(docPath, 'utf8'), 20_000);
  });
  const expected = [...lines];
  [2, 6, 8].forEach((line, i) => { expected[line] = `![${ALTS[i]}](${targets[i]})`; });
  assert.equal(saved, expected.join('\n'), 'only the three image links changed');
  targets.forEach((t, i) => {
    const file = path.resolve(path.dirname(docPath), decodeURI(t));
    assert.ok(fs.existsSync(file), `expected ${file}`);
    const png = readSavedPng(file);
    assert.ok(png.parameters.startsWith(`${ALTS[i]}\n`), `expected the alt text as the prompt; got ${png.parameters}`);
    if (i === 0) assert.equal(png.seed, pickedSeed, 'the picked candidate was saved');
  });
}

/** Hovering the first rewritten link shows the picture's prompt, settings and command links. */
export async function hoverShowsParameters(s: Session): Promise<void> {
  if (!(await s.page.locator('.tab.active', { hasText: 'chapter.md' }).count())) await openFile(s.page, DOC);
  const word = s.page.locator('.editor-group-container.active .view-line span', { hasText: 'circle' }).first();
  const hover = s.page.locator('.monaco-hover:not(.hidden)', { hasText: 'Regenerate' }).first();
  await waitFor('the hover with the image parameters', async () => {
    await s.page.locator('.editor-group-container.active .view-line').first().hover().catch(() => undefined);
    await word.hover();
    await s.page.waitForTimeout(800);
    return (await hover.isVisible()) ? true : undefined;
  }, 30_000, 200);
  const text = await hover.innerText();
  s.log('hover text:', JSON.stringify(text));
  await shoot(s, 'hover-parameters');
  assert.match(text, new RegExp(ALTS[0]));
  assert.match(text, /Steps: \d+/);
  assert.match(text, /Seed: \d+/);
  for (const link of ['Regenerate', 'Variations', 'Open in Panel', 'Reveal']) assert.match(text, new RegExp(link));
  await s.page.keyboard.press('Escape');
}

/** Open Image Gallery: the images listed newest first; the filter narrows them; Insert puts one into the markdown file. */
export async function galleryListsFiltersInserts(s: Session): Promise<void> {
  if (!(await s.page.locator('.tab.active', { hasText: 'chapter.md' }).count())) await openFile(s.page, DOC);
  await s.page.locator('.editor-group-container.active .view-line').last().click(); // the cursor at the end: Insert goes there
  await s.page.keyboard.press('Control+End');
  await runCommand(s.page, `${COMMAND_PREFIX}Open Image Gallery`);
  const gallery = await webviewWith(s.page, '#grid', 60_000);
  const onDisk = listPngs(path.join(s.workspaceDir, IMAGES)).filter((f) => !f.includes('/'));
  await waitFor(`${onDisk.length} cards`, async () => ((await gallery.locator('#grid li.card').count()) === onDisk.length ? true : undefined), 30_000, 250);
  await waitFor('thumbnails on the first cards', async () => ((await gallery.locator('#grid li.card img[src^="data:image/png"]').count()) >= Math.min(3, onDisk.length) ? true : undefined), 30_000, 250);
  await shoot(s, 'gallery-1-all');
  await gallery.locator('#filter').fill('triangle black');
  await waitFor('one card after filtering', async () => ((await gallery.locator('#grid li.card').count()) === 1 ? true : undefined), 10_000, 100);
  assert.match(await gallery.locator('#grid li.card .prompt').first().innerText(), new RegExp(ALTS[2]));
  await shoot(s, 'gallery-2-filtered');
  const docPath = path.join(s.workspaceDir, DOC);
  const link = new RegExp(`!\\[${ALTS[2]}\\]\\(\\.\\./images/[^)]+\\.png\\)`, 'g');
  const before = (fs.readFileSync(docPath, 'utf8').match(link) ?? []).length;
  await gallery.getByRole('button', { name: /^Insert: / }).first().click();
  await waitFor('the inserted link in the editor', async () => (((await activeEditorText(s.page)).match(link) ?? []).length === before + 1 ? true : undefined), 20_000, 200);
  await shoot(s, 'gallery-3-inserted');
  await s.page.keyboard.press('Control+S');
  await waitFor('the markdown saved with the inserted link', () => ((fs.readFileSync(docPath, 'utf8').match(link) ?? []).length === before + 1 ? true : undefined), 20_000)
    .catch(async () => {
      await runCommand(s.page, 'File: Save', 20_000);
      await waitFor('the markdown saved (File: Save)', () => ((fs.readFileSync(docPath, 'utf8').match(link) ?? []).length === before + 1 ? true : undefined), 20_000);
    });
}

/**
 * A window reload in the middle of a review: Illustrate Document on a new file (its row's two candidates made, the
 * second picked), the gallery filtered beside it; Developer: Reload Window; both panels come back: the review with
 * the same candidates and pick (nothing generated again), the gallery with its filter.
 */
export async function reviewAndGalleryRestored(s: Session): Promise<void> {
  const docRel = 'docs/reload.md';
  const alt = 'a purple star on white';
  fs.mkdirSync(path.join(s.workspaceDir, 'docs'), { recursive: true });
  fs.writeFileSync(path.join(s.workspaceDir, docRel), `# Reload\n\n![${alt}]()\n`);
  await openFile(s.page, docRel);
  await runCommand(s.page, `${COMMAND_PREFIX}Illustrate Document`);
  let review = await webviewWith(s.page, '#apply', 60_000);
  await waitFor('two candidates, done', async () => {
    const candidates = await review.locator('button.candidate img[src^="data:image/png"]').count();
    const busy = await review.locator('#cancel').isVisible().catch(() => true);
    return candidates === 2 && !busy ? true : undefined;
  }, 120_000, 250);
  const seeds = await review.locator('button.candidate').evaluateAll((bs) => bs.map((b) => b.getAttribute('title')));
  await review.locator('button.candidate').nth(1).click();
  await waitFor('candidate 2 picked', async () => ((await review.locator('button.candidate').nth(1).getAttribute('aria-checked')) === 'true' ? true : undefined), 10_000);
  await runCommand(s.page, `${COMMAND_PREFIX}Open Image Gallery`);
  let gallery = await webviewWith(s.page, '#grid', 60_000);
  await gallery.locator('#filter').fill('triangle');
  await waitFor('the filter applied', async () => ((await gallery.locator('#count').innerText()).includes(' of ') ? true : undefined), 10_000, 100);
  const cards = await gallery.locator('#grid li.card').count();
  await shoot(s, 'restore-1-before-reload');

  await runCommand(s.page, 'Developer: Reload Window');
  s.log('Developer: Reload Window');
  await s.page.waitForTimeout(3_000); // the old workbench goes away before the new one shows the panels
  // each panel is shown by its tab (VS Code restores a webview when it is shown; both may share one editor group)
  const tab = (title: string) => s.page.locator('.tab', { hasText: title }).first();
  await tab('Illustrate reload.md').waitFor({ state: 'visible', timeout: 120_000 });
  await tab('Illustrate reload.md').click();
  review = await webviewWith(s.page, '#apply', 120_000);
  await waitFor('the restored review: two candidates with their pictures, the second picked', async () => {
    const pictures = await review.locator('button.candidate img[src^="data:image/png"]').count();
    const picked = await review.locator('button.candidate').nth(1).getAttribute('aria-checked').catch(() => null);
    return pictures === 2 && picked === 'true' ? true : undefined;
  }, 60_000, 250);
  assert.deepEqual(await review.locator('button.candidate').evaluateAll((bs) => bs.map((b) => b.getAttribute('title'))), seeds, 'the same candidates, not new ones');
  assert.match(await review.locator('section.row .status').first().innerText(), /restored after a reload/);
  await shoot(s, 'restore-2-review');
  await tab('Image Gallery').click();
  gallery = await webviewWith(s.page, '#grid', 60_000);
  // The filter is what is restored; the cards it shows are those the index matches now (it may have read an image's
  // parameters that a listing before the reload had not yet read), so at least the ones before the reload.
  await waitFor('the restored gallery, filtered', async () => ((await gallery.locator('#filter').inputValue()) === 'triangle'
    && /^\d+ of \d+ images$/.test(await gallery.locator('#count').innerText())
    && (await gallery.locator('#grid li.card').count()) >= cards ? true : undefined), 30_000, 250);
  await shoot(s, 'restore-3-gallery');
  // later scenarios find the Generate panel by its webview: close the restored review and gallery
  await runCommand(s.page, 'View: Close All Editors');
}
