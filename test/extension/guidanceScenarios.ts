/**
 * The prompt fields' word completion with the embedded model: typing a word's first letters opens a list of the
 * words it knows under the caret; it narrows as more letters come; the arrow keys move, Enter and Tab take the
 * active word, Escape closes it, a click takes a word. The inner textarea is an ARIA combobox for the list.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { field, fieldValue, openPanel, panelFrame, typeInto } from './panel';
import type { Session } from './session';
import { waitFor } from './workbench';

export async function promptCompletion(s: Session): Promise<void> {
  if (process.env.E2E_MODEL) {
    s.log('prompt completion: skipped, E2E_MODEL names a model that is not the embedded grammar model');
    return;
  }
  let frame = panelFrame(s.page);
  if (!(await field(frame, 'Prompt').isVisible().catch(() => false))) frame = await openPanel(s.page);
  const list = frame.getByRole('listbox', { name: 'Words for the prompt' });
  const options = async (): Promise<string[]> => list.locator('[role="option"]').evaluateAll((os) => os.map((o) => (o.textContent ?? '').trim()));
  /** The inner textarea's role, aria-expanded and active option (by the element reference where the browser has it, else by id). */
  const combobox = async (): Promise<Array<string | null> | null> => field(frame, 'Prompt').evaluate((host) => {
    const t = host.shadowRoot?.querySelector('textarea') as (HTMLTextAreaElement & { ariaActiveDescendantElement?: Element | null }) | null | undefined;
    if (!t) return null;
    const id = t.getAttribute('aria-activedescendant');
    const active = t.ariaActiveDescendantElement ?? (id ? host.ownerDocument.getElementById(id) : null);
    return [t.getAttribute('role'), t.getAttribute('aria-expanded'), active ? (active.textContent ?? '').trim() : null];
  }, null);

  await typeInto(s.page, frame, 'Prompt', 'a large b');
  await list.waitFor({ state: 'visible', timeout: 10_000 });
  assert.deepEqual(await options(), ['background', 'black', 'blue', 'bottom']);
  assert.deepEqual(await combobox(), ['combobox', 'true', 'background']);
  const placed = await field(frame, 'Prompt').evaluate((host) => {
    const t = host.shadowRoot?.querySelector('textarea');
    const l = host.ownerDocument.getElementById('prompt-completions');
    if (!t || !l) return null;
    const a = t.getBoundingClientRect();
    const b = l.getBoundingClientRect();
    return { top: Math.round(b.top - a.top), left: Math.round(b.left - a.left), width: Math.round(a.width) };
  }, null);
  s.log(`the list, from the text area's top left: ${JSON.stringify(placed)}`);
  assert.ok(placed && placed.top > 0 && placed.top < 60 && placed.left > 0 && placed.left < placed.width / 2,
    `expected the list just under the first line, under "b"; got ${JSON.stringify(placed)}`);
  await s.page.keyboard.press('ArrowDown');
  await s.page.keyboard.press('ArrowDown');
  assert.equal((await list.locator('[role="option"][aria-selected="true"]').innerText()).trim(), 'blue');
  assert.deepEqual(await combobox(), ['combobox', 'true', 'blue']);
  const shot = path.join(s.outputDir, 'prompt-completion.png');
  await s.page.screenshot({ path: shot });
  s.log('screenshot', shot);
  await s.page.keyboard.press('Enter');
  await list.waitFor({ state: 'hidden', timeout: 5_000 });
  assert.equal(await fieldValue(frame, 'Prompt'), 'a large blue ', 'Enter took the word (and added no new line)');

  await s.page.keyboard.type('c');
  await waitFor('circle, center, centre offered', async () => ((await options()).join() === 'center,centre,circle' ? true : undefined), 5_000, 50);
  await s.page.keyboard.type('i');
  await waitFor('only circle offered', async () => ((await options()).join() === 'circle' ? true : undefined), 5_000, 50);
  await s.page.keyboard.press('Tab');
  await list.waitFor({ state: 'hidden', timeout: 5_000 });
  assert.equal(await fieldValue(frame, 'Prompt'), 'a large blue circle ', 'Tab took the word');

  await s.page.keyboard.type('o');
  await list.waitFor({ state: 'visible', timeout: 5_000 });
  await s.page.keyboard.press('Escape');
  await list.waitFor({ state: 'hidden', timeout: 5_000 });
  assert.equal(await fieldValue(frame, 'Prompt'), 'a large blue circle o', 'Escape closed the list and left the text');
  assert.equal((await combobox())?.[1], 'false');

  await s.page.keyboard.type('r');
  await list.waitFor({ state: 'visible', timeout: 5_000 });
  await list.getByRole('option', { name: 'orange' }).click();
  await list.waitFor({ state: 'hidden', timeout: 5_000 });
  assert.equal(await fieldValue(frame, 'Prompt'), 'a large blue circle orange ', 'a click took the word');
  assert.match(await frame.locator('#promptHint').innerText().catch(() => ''), /^$|trained at/, 'no unknown-word hint for known words');
}
