/**
 * Issue 16's LoRA picker in a real VS Code: with the LoRA folder set (workspace settings), the picker lists it and
 * follows it — a file copied in while the panel is open appears (VS Code's file watcher); a LoRA starts at its A1111
 * "preferred weight"; by keyboard, the Weight field and Enter add `<lora:name:w>`, and with the prompt's caret in
 * that tag the button turns to "Set weight", which rewrites the tag's weight instead of adding another.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { field, fieldValue, openPanel, typeInto } from './panel';
import type { Session } from './session';
import { runCommand, waitFor } from './workbench';

async function shoot(s: Session, name: string): Promise<string> {
  const file = path.join(s.outputDir, `${name}.png`);
  await s.page.screenshot({ path: file });
  s.log('screenshot', file);
  return file;
}

export async function loraPickerFollowsFolderAndSetsWeights(s: Session): Promise<void> {
  const loras = path.join(s.workspaceDir, 'loras');
  fs.mkdirSync(loras, { recursive: true });
  fs.writeFileSync(path.join(loras, 'film.safetensors'), 'not read: only listed');
  fs.writeFileSync(path.join(loras, 'film.json'), JSON.stringify({ 'preferred weight': 0.6 }));
  const settingsFile = path.join(s.workspaceDir, '.vscode', 'settings.json');
  const before = fs.existsSync(settingsFile) ? fs.readFileSync(settingsFile, 'utf8') : undefined;
  fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
  fs.writeFileSync(settingsFile, JSON.stringify({ ...(before ? JSON.parse(before) as object : {}), 'inlineDiffusion.loraFolder': loras }));
  try {
    await runCommand(s.page, 'View: Close All Editors');
    const frame = await openPanel(s.page);
    const lora = frame.getByRole('combobox', { name: 'LoRA', exact: true }).first();
    const weight = frame.getByRole('spinbutton', { name: 'LoRA weight', exact: true }).first();
    const options = async (): Promise<string[]> => lora.evaluate((e) => [...(e as HTMLSelectElement).options].map((o) => o.value), null);
    await waitFor('the LoRA picker listing film', async () => ((await options()).includes('film') ? true : undefined), 30_000, 200);

    // a LoRA copied in while the panel is open
    fs.writeFileSync(path.join(loras, 'grain.safetensors'), 'x');
    await waitFor('grain in the picker (the folder is watched)', async () => ((await options()).includes('grain') ? true : undefined), 30_000, 200);

    // its preferred weight; Enter in the Weight field adds the tag
    await lora.selectOption('film');
    assert.equal(await weight.inputValue(), '0.6', 'film.json\'s "preferred weight"');
    await typeInto(s.page, frame, 'Prompt', 'a lighthouse');
    await weight.fill('0.75');
    await weight.press('Enter');
    await waitFor('the tag in the prompt', async () => ((await fieldValue(frame, 'Prompt')) === 'a lighthouse <lora:film:0.75>' ? true : undefined), 10_000, 100);

    // the caret in the tag (keyboard: End, then two to the left): Set weight rewrites it
    await field(frame, 'Prompt').click();
    await s.page.keyboard.press('End');
    await s.page.keyboard.press('ArrowLeft');
    await s.page.keyboard.press('ArrowLeft');
    const set = frame.getByRole('button', { name: 'Set the weight of <lora:film> at the caret' }).first();
    await set.waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await weight.inputValue(), '0.75');
    await weight.fill('0.5');
    await weight.press('Enter');
    await waitFor('the weight rewritten', async () => ((await fieldValue(frame, 'Prompt')) === 'a lighthouse <lora:film:0.5>' ? true : undefined), 10_000, 100);
    await shoot(s, 'lora-picker');
  } finally {
    if (before === undefined) fs.rmSync(settingsFile, { force: true });
    else fs.writeFileSync(settingsFile, before);
  }
}
