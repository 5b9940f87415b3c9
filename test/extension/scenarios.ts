/**
 * The end-to-end scenarios, written once for any VS Code window (code-server here, VS Code's Electron build through
 * @vscode/test-electron elsewhere): a person's actions in the workbench, then checks on the files in the workspace.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isNamedFor, listPngs, readSavedPng } from './files';
import { sendRawMessages, MALFORMED_MESSAGE_COUNT } from './malformed';
import {
  button, COMMAND_PREFIX, field, fieldValue, openPanel, panelFrame, panelText, readObserved, startObserving, typeInto,
  type PanelSample,
} from './panel';
import type { Session } from './session';
import type { FrameLocator } from './playwright';
import { activeEditorText, goToLineColumn, openFile, runCommand, waitFor } from './workbench';
import { promptCompletion } from './guidanceScenarios';
import { galleryListsFiltersInserts, hoverShowsParameters, illustrateDocument, reviewAndGalleryRestored } from './writingScenarios';
import { useAsInputThenGenerate } from './imageToImageScenario';
import { paintMaskThenInpaint } from './inpaintScenario';
import { variationsOfAResult } from './seedsAndSizeScenarios';
import { loraPickerFollowsFolderAndSetsWeights } from './networksScenario';

/** Enough steps to watch the preview change and take a screenshot meanwhile (the embedded model: ~5 ms a step). */
const PANEL_STEPS = Number(process.env.E2E_STEPS ?? 400);
const IMAGES = 'images';

async function shoot(s: Session, name: string): Promise<string> {
  const file = path.join(s.outputDir, `${name}.png`);
  await s.page.screenshot({ path: file });
  s.log('screenshot', file);
  return file;
}

async function waitForNewPng(s: Session, before: readonly string[], timeoutMs: number): Promise<string> {
  const dir = path.join(s.workspaceDir, IMAGES);
  return waitFor(`a new PNG in ${dir}`, () => listPngs(dir).find((f) => !before.includes(f)), timeoutMs, 50);
}

/** Generate Image → type a prompt → Generate; the preview changes during the steps; the PNG lands in images/. */
export async function generateFromPanel(s: Session): Promise<void> {
  const prompt = 'a red circle on a blue background';
  const frame = await openPanel(s.page);
  await shoot(s, 'panel-1-before');
  await typeInto(s.page, frame, 'Prompt', prompt);
  await typeInto(s.page, frame, 'Steps', String(PANEL_STEPS));
  assert.equal(await fieldValue(frame, 'Prompt'), prompt, 'the Prompt field holds what was typed');
  const before = listPngs(path.join(s.workspaceDir, IMAGES));
  await startObserving(frame);
  const clickedAt = Date.now();
  await button(frame, 'Generate').click();
  s.log('Generate clicked');

  // Screenshot "during" as soon as the panel shows step k/N with k < N.
  let duringShot: string | null = null;
  const saved = await waitFor('the generated PNG', async () => {
    const found = listPngs(path.join(s.workspaceDir, IMAGES)).find((f) => !before.includes(f));
    if (!duringShot && !found) {
      const samples = await readObserved(frame);
      const last = samples[samples.length - 1];
      if (last && last.step !== null && last.totalSteps !== null && last.step < last.totalSteps) {
        duringShot = await shoot(s, 'panel-2-during');
      }
    }
    return found;
  }, 120_000, 20);
  s.log(`PNG ${saved} after ${Date.now() - clickedAt} ms`);
  await frame.locator('img').first().waitFor({ state: 'visible', timeout: 15_000 }).catch(() => undefined);
  const samples = await readObserved(frame, true);
  await shoot(s, 'panel-3-after');
  const viewport = s.page.viewportSize();
  if (viewport) { // the same panel in a narrow editor: nothing cut off or overlapping
    await s.page.setViewportSize({ width: 640, height: viewport.height });
    await s.page.waitForTimeout(500);
    await shoot(s, 'panel-4-narrow');
    await s.page.setViewportSize(viewport);
  }
  fs.writeFileSync(path.join(s.outputDir, 'panel-samples.json'), JSON.stringify(samples, null, 1));

  const midRun = samples.filter((x: PanelSample) => x.step !== null && x.totalSteps !== null && x.step < x.totalSteps);
  const steps = new Set(midRun.map((x) => x.step));
  const previews = new Set(midRun.map((x) => x.previewHash));
  s.log(`observed ${samples.length} panel states; mid-run: ${steps.size} step values, ${previews.size} distinct previews`);
  assert.ok(steps.size >= 2, `expected the progress text to show at least 2 steps 'k/N' with k < N; samples: ${JSON.stringify(samples.slice(0, 20))}`);
  assert.ok(previews.size >= 2, `expected the preview to change during the steps; ${previews.size} distinct preview(s) over ${midRun.length} mid-run states`);
  assert.ok(duringShot, 'expected a screenshot while a step k/N < N was shown');

  const png = readSavedPng(path.join(s.workspaceDir, IMAGES, saved));
  assert.ok(png.parameters.startsWith(`${prompt}\n`), `expected the parameters to start with the prompt; got: ${png.parameters}`);
  assert.match(png.parameters, new RegExp(`(^|, )Steps: ${PANEL_STEPS}(,|$)`, 'm'));
  assert.ok(isNamedFor(path.basename(saved), prompt, png.seed), `expected a file named from prompt and seed ${png.seed}; got ${saved}`);
  assert.equal(path.dirname(saved), '.', `expected the PNG directly in ${IMAGES}/; got ${saved}`);
  // with "Random seed" ticked the (disabled) seed field shows the seed this run drew, not a stale one
  if ((await frame.locator('#randomSeed').getAttribute('aria-checked')) === 'true') {
    await waitFor('the seed field showing the run\'s seed', async () => ((await fieldValue(frame, 'Seed')) === String(png.seed) ? true : undefined), 10_000, 100)
      .catch(async (e: unknown) => { throw new Error(`${(e as Error).message}; it shows ${await fieldValue(frame, 'Seed')}, the PNG's seed is ${png.seed}`); });
  } else {
    s.log('Random seed is not ticked: the seed field check is left out');
  }
}

/**
 * A weighted prompt with an unbalanced bracket typed into the panel: the token counter under the field shows A1111's
 * count ("7/75": `a (red:1.3) circle [on a blue background` is 7 tokens once the weights and the open bracket are
 * read as A1111 reads them), and the syntax line under the field marks the unbalanced "[" (and only it).
 */
export async function promptCounterAndSyntax(s: Session): Promise<void> {
  const prompt = 'a (red:1.3) circle [on a blue background';
  const frame = await openPanel(s.page);
  await typeInto(s.page, frame, 'Prompt', prompt);
  assert.equal(await fieldValue(frame, 'Prompt'), prompt, 'the Prompt field holds what was typed');
  const counter = frame.getByLabel('Prompt tokens', { exact: true });
  const count = await waitFor('the Prompt field\'s token counter "N/75"', async () => {
    const text = ((await counter.textContent()) ?? '').trim();
    return text === '7/75' ? text : undefined;
  }, 30_000, 100).catch(async (e: unknown) => {
    throw new Error(`${(e as Error).message}; the counter shows "${await counter.textContent()}"`);
  });
  assert.ok(await counter.isVisible(), 'the token counter is visible');
  const marks = frame.locator('.prompt-extras.has-unbalanced .syntax-unbalanced');
  await marks.first().waitFor({ state: 'visible', timeout: 10_000 });
  assert.deepEqual(await marks.evaluateAll((es) => es.map((e) => e.textContent ?? '')), ['['], 'exactly the open "[" is marked unbalanced');
  assert.equal(await marks.first().getAttribute('title'), 'unbalanced bracket: A1111 closes it at the end or reads it as text');
  const weighted = frame.locator('.prompt-syntax [class^="syntax-"]:not(.syntax-unbalanced)');
  assert.ok((await weighted.count()) >= 1, 'the weighted (red:1.3) is highlighted too');
  s.log(`token counter ${count}; highlighted runs: ${JSON.stringify(await frame.locator('.prompt-syntax > span').evaluateAll((es) => es.map((e) => e.textContent ?? '')))}`);
  await shoot(s, 'prompt-syntax-counter');
}

/** A markdown file, the cursor inside an alt text, Illustrate Alt Text: the link now points at a new PNG. */
export async function illustrateAltText(s: Session): Promise<void> {
  const alt = 'a green triangle on a white background';
  const docRel = 'docs/notes.md';
  const docPath = path.join(s.workspaceDir, docRel);
  const lines = ['# Notes', '', 'Some text before.', '', `![${alt}](placeholder.png)`, '', 'Some text after.', ''];
  fs.mkdirSync(path.dirname(docPath), { recursive: true });
  fs.writeFileSync(docPath, lines.join('\n'));
  const before = listPngs(path.join(s.workspaceDir, IMAGES));

  await openFile(s.page, docRel);
  await goToLineColumn(s.page, 5, 8); // inside "a green triangle…"
  await runCommand(s.page, `${COMMAND_PREFIX}Illustrate Alt Text`);
  s.log('Illustrate Alt Text issued');
  const linkPattern = new RegExp(`!\\[${alt}\\]\\(([^)]+\\.png)\\)`);
  const target = await waitFor('the alt text link rewritten to a PNG in the editor', async () => {
    const m = linkPattern.exec(await activeEditorText(s.page));
    return m && m[1] !== 'placeholder.png' ? m[1].replace(/\n/g, '') : undefined; // wrapped lines, if any
  }, 120_000, 200);
  s.log('link target in the editor:', target);
  await shoot(s, 'alt-text-rewritten');
  const savedText = (): string | undefined => {
    const text = fs.readFileSync(docPath, 'utf8');
    return text.includes(`](${target})`) ? text : undefined;
  };
  await s.page.keyboard.press('Control+S');
  const onDisk = await waitFor('the markdown saved with Ctrl+S', savedText, 5_000).catch(async () => {
    await runCommand(s.page, 'File: Save', 20_000);
    return waitFor('the markdown saved with File: Save', savedText, 20_000);
  });
  const expected = [...lines];
  expected[4] = `![${alt}](${target})`;
  assert.equal(onDisk, expected.join('\n'), 'only the image link changed');
  assert.ok(!path.isAbsolute(decodeURI(target)), `expected a path relative to the document; got ${target}`);
  const pngFile = path.resolve(path.dirname(docPath), decodeURI(target));
  assert.ok(fs.existsSync(pngFile), `expected the linked PNG ${pngFile} to exist`);
  assert.equal(path.dirname(pngFile), path.join(s.workspaceDir, IMAGES), 'saved in the workspace images folder');
  assert.ok(!before.includes(path.relative(path.join(s.workspaceDir, IMAGES), pngFile)), 'a new PNG, not an old one');
  const png = readSavedPng(pngFile);
  assert.ok(png.parameters.startsWith(`${alt}\n`), `expected the parameters to start with the alt text; got: ${png.parameters}`);
}

/** Garbage through the webview's message channel; the host survives and a later Generate still works. */
export async function malformedMessages(s: Session): Promise<void> {
  let frame = panelFrame(s.page);
  if (!(await field(frame, 'Prompt').isVisible().catch(() => false))) frame = await openPanel(s.page);
  const hostLogBefore = s.readExtensionHostLog();
  const before = listPngs(path.join(s.workspaceDir, IMAGES));
  const textBefore = await panelText(frame);
  const sent = await sendRawMessages(s.page);
  assert.equal(sent, MALFORMED_MESSAGE_COUNT, 'every malformed message was posted');
  s.log(`posted ${sent} malformed messages through the webview channel`);
  await s.page.waitForTimeout(2_000);
  await shoot(s, 'malformed-after');
  const textAfter = await panelText(frame);
  s.log('panel text after the malformed messages:', JSON.stringify(textAfter.slice(0, 400)));
  assert.notEqual(textAfter, textBefore, 'expected the panel to show a message about the rejected requests');
  assert.deepEqual(listPngs(path.join(s.workspaceDir, IMAGES)), before, 'no malformed request produced an image');

  const prompt = 'a blue square';
  await typeInto(s.page, frame, 'Prompt', prompt);
  await typeInto(s.page, frame, 'Steps', '10');
  await button(frame, 'Generate').click();
  const saved = await waitForNewPng(s, before, 90_000);
  const png = readSavedPng(path.join(s.workspaceDir, IMAGES, saved));
  assert.ok(png.parameters.startsWith(`${prompt}\n`), `expected the later Generate to use its own prompt; got: ${png.parameters}`);

  const hostLog = s.readExtensionHostLog();
  if (hostLog !== '') {
    const starts = hostLog.match(/Extension host with pid \d+ started/g) ?? [];
    assert.ok(starts.length <= 1, `expected one extension host for the whole run; the log shows ${starts.length} starts`);
    const errors = extensionErrors(hostLog).filter((e) => !extensionErrors(hostLogBefore).includes(e));
    assert.deepEqual(errors, [], 'expected no error from the extension in the extension host log');
  }
}

/** Width and height of the runs a scenario cancels: larger than the embedded model's 64² so its steps take longer. */
async function setLongRunSize(s: Session, frame: FrameLocator, size: number): Promise<void> {
  await typeInto(s.page, frame, 'Width', String(size));
  await typeInto(s.page, frame, 'Height', String(size));
}

/** Generate a long run, press Cancel after a few steps: the steps stop, no PNG is saved, Generate works again. */
export async function cancelGeneration(s: Session): Promise<void> {
  let frame = panelFrame(s.page);
  if (!(await field(frame, 'Prompt').isVisible().catch(() => false))) frame = await openPanel(s.page);
  const before = listPngs(path.join(s.workspaceDir, IMAGES));
  await typeInto(s.page, frame, 'Prompt', 'a yellow star that is never finished');
  await typeInto(s.page, frame, 'Steps', '500');
  // 256² (16× the embedded model's latents): each step takes long enough that a busy machine still clicks Cancel
  // mid-run — at 64² the 500 steps could end before the click landed
  await setLongRunSize(s, frame, 256);
  await startObserving(frame);
  await button(frame, 'Generate').click();
  await waitFor('step 3 or later of the long run', async () => {
    const last = (await readObserved(frame)).at(-1);
    return last && last.step !== null && last.step >= 3 ? true : undefined;
  }, 60_000, 50);
  await button(frame, 'Cancel').click();
  const stepAtCancel = Math.max(...(await readObserved(frame)).map((x) => x.step ?? 0));
  await s.page.waitForTimeout(3_000);
  const samples = await readObserved(frame, true);
  await shoot(s, 'cancelled');
  const lastStep = Math.max(...samples.map((x) => x.step ?? 0));
  s.log(`Cancel pressed at step ${stepAtCancel}; the last step shown: ${lastStep}`);
  // The panel freezes the preview once Cancel is pressed (steps already on their way are not drawn); the engine must
  // then answer 'Cancelled.' — a run that kept going would reach 500 steps and save a PNG.
  assert.ok(lastStep <= stepAtCancel + 1, `expected the preview to stop at Cancel (step ${stepAtCancel}); it reached ${lastStep}`);
  assert.ok((await panelText(frame)).includes('Cancelled.'), 'expected "Cancelled." in the panel after Cancel');
  assert.deepEqual(listPngs(path.join(s.workspaceDir, IMAGES)), before, 'a cancelled run saves no image');
  await setLongRunSize(s, frame, 64);
  await typeInto(s.page, frame, 'Steps', '10');
  await button(frame, 'Generate').click();
  await waitForNewPng(s, before, 90_000);
}

/**
 * Auto-save off; by keyboard: Ctrl+Enter generates, Escape cancels. The unsaved result survives a window reload
 * (the host kept it): after the reload its Save button still saves the very image into images/.
 */
export async function reloadKeepsUnsavedResult(s: Session): Promise<void> {
  const settingsFile = path.join(s.workspaceDir, '.vscode', 'settings.json');
  fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
  fs.writeFileSync(settingsFile, JSON.stringify({ 'inlineDiffusion.autoSave': false }));
  try {
    let frame = panelFrame(s.page);
    if (!(await field(frame, 'Prompt').isVisible().catch(() => false))) frame = await openPanel(s.page);
    await waitFor('the panel to show auto-save is off', async () => ((await panelText(frame)).includes('auto-save is off') ? true : undefined), 10_000, 200)
      .catch(() => undefined); // only shown once a result is there; give the setting a moment either way
    const before = listPngs(path.join(s.workspaceDir, IMAGES));
    const prompt = 'a purple square kept across a reload';
    await typeInto(s.page, frame, 'Prompt', prompt);
    await typeInto(s.page, frame, 'Steps', '500');
    await setLongRunSize(s, frame, 256); // long enough to queue and cancel on a busy machine (see cancelGeneration)
    await startObserving(frame);
    await field(frame, 'Prompt').click();
    await s.page.keyboard.press('Control+Enter');
    await waitFor('step 3 or later after Ctrl+Enter', async () => {
      const last = (await readObserved(frame)).at(-1);
      return last && last.step !== null && last.step >= 3 ? true : undefined;
    }, 60_000, 50);
    await s.page.keyboard.press('Control+Enter'); // pressed while one runs: queued, visibly
    const queue = frame.locator('#queue');
    await queue.waitFor({ state: 'visible', timeout: 10_000 });
    await shoot(s, 'queued');
    await frame.locator('#queue vscode-button').first().click(); // its ✕: removed from the queue
    await queue.waitFor({ state: 'hidden', timeout: 10_000 });
    await s.page.keyboard.press('Escape');
    await waitFor('"Cancelled." after Escape', async () => ((await panelText(frame)).includes('Cancelled.') ? true : undefined), 20_000, 100);
    await readObserved(frame, true);
    await setLongRunSize(s, frame, 64);
    await typeInto(s.page, frame, 'Steps', '10');
    await s.page.keyboard.press('Control+Enter');
    await waitFor('the unsaved result', async () => ((await panelText(frame)).includes('Not saved (auto-save is off)') ? true : undefined), 90_000, 200);
    assert.deepEqual(listPngs(path.join(s.workspaceDir, IMAGES)), before, 'auto-save off: nothing saved yet');
    await shoot(s, 'reload-1-unsaved');

    await runCommand(s.page, 'Developer: Reload Window');
    s.log('Developer: Reload Window');
    await s.page.waitForTimeout(3_000); // the old workbench goes away before the new one shows the panel
    frame = panelFrame(s.page);
    await field(frame, 'Prompt').waitFor({ state: 'visible', timeout: 120_000 });
    await waitFor('the restored result', async () => ((await panelText(frame)).includes('Not saved (auto-save is off)') ? true : undefined), 30_000, 200)
      .catch(async (err: unknown) => { await shoot(s, 'reload-2-restored'); throw err; });
    await shoot(s, 'reload-2-restored');
    // the toolkit button's name: its aria-label where delegated to the inner <button>, else its text
    const save = frame.getByRole('button', { name: /^Save( image \(seed \d+\))?$/ }).first();
    await save.click();
    const saved = await waitForNewPng(s, before, 30_000);
    const png = readSavedPng(path.join(s.workspaceDir, IMAGES, saved));
    assert.ok(png.parameters.startsWith(`${prompt}\n`), `expected the restored result's own parameters; got: ${png.parameters}`);
    assert.match(png.parameters, /(^|, )Steps: 10(,|$)/m);
    await waitFor('"Saved:" in the panel', async () => ((await panelText(frame)).includes(`Saved: ${IMAGES}/${saved}`) ? true : undefined), 10_000, 200);
    await shoot(s, 'reload-3-saved');
  } finally {
    fs.rmSync(path.dirname(settingsFile), { recursive: true, force: true });
  }
}

/** Log entries at level error that mention the extension (its id or its files). */
function extensionErrors(log: string): string[] {
  return log.split(/\n(?=\d{4}-\d\d-\d\d )/).filter((e) => /\[error\]/.test(e) && /inline-diffusion\.inline-diffusion|dist[\\/]extension\.js/.test(e));
}

export const SCENARIOS: ReadonlyArray<readonly [string, (s: Session) => Promise<void>]> = [
  ['Generate Image: prompt → Generate → live preview → PNG with parameters in images/', generateFromPanel],
  ['the prompt field: A1111\'s token counter "N/75" and an unbalanced bracket marked', promptCounterAndSyntax],
  ['the prompt field: the embedded model\'s words in a completion list (type → list → arrows → Enter / Tab / Escape / click)', promptCompletion],
  ['Illustrate Alt Text: the cursor in an alt text → the link rewritten to a new PNG', illustrateAltText],
  ['malformed webview messages: the host survives and a later Generate works', malformedMessages],
  ['Cancel during a run: the steps stop, nothing is saved, the next Generate works', cancelGeneration],
  ['auto-save off, by keyboard (Ctrl+Enter, Escape): an unsaved result survives a window reload and Save works', reloadKeepsUnsavedResult],
  ['Illustrate Document: three empty images → review → Apply → links rewritten and files present', illustrateDocument],
  ['hover on a generated image link: prompt, settings and command links', hoverShowsParameters],
  ['Open Image Gallery: lists the images, filters by prompt, inserts one into markdown', galleryListsFiltersInserts],
  ['a window reload restores the Illustrate Document review (candidates, pick) and the gallery (filter)', reviewAndGalleryRestored],
  ['image to image: Use as Input on a result → strength → Generate → a PNG with Denoising strength', useAsInputThenGenerate],
  ['inpainting: Use as Input → a mask painted with a mouse drag → Only masked → Generate → the band repainted, the rest kept', paintMaskThenInpaint],
  ['a result\'s Variations: four PNGs of its seed, each with its own "Variation seed"', variationsOfAResult],
  ['LoRA picker: the watched folder\'s new file listed, preferred weight, Enter adds the tag, Set weight at the caret', loraPickerFollowsFolderAndSetsWeights],
];
