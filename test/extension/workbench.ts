/**
 * Driving VS Code's workbench the way a person does: the command palette, quick open, go to line, the editor's
 * text, and the webview panels' frames. The DOM is the same in code-server and in VS Code's Electron window.
 */
import type { FrameLocator, Page } from './playwright';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * F1, type the title, Enter on the matching row. Commands contributed by an extension only show once the extension
 * host is up, so retry "F1, type, look, Escape" until the row appears (../shared/tools/code-server/README.md).
 */
export async function runCommand(page: Page, title: string, timeoutMs = 90_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (let tries = 1; Date.now() < end; tries++) {
    await openQuickInput(page);
    await page.keyboard.type(title);
    const rows = page.locator('.quick-input-widget .monaco-list-row', { hasText: title });
    try {
      await rows.first().waitFor({ state: 'visible', timeout: 2_000 });
      // Click the row whose label is exactly the title ("File: Save", not "File: Save As…").
      const labels = await rows.evaluateAll((els) => els.map((e) => (e.querySelector('.label-name')?.textContent ?? '').trim()));
      const index = labels.indexOf(title);
      if (index < 0) throw new Error(`no row labelled exactly '${title}' among ${JSON.stringify(labels)}`);
      await rows.nth(index).click();
      return tries;
    } catch {
      await page.keyboard.press('Escape');
      await sleep(1_000);
    }
  }
  throw new Error(`expected the command '${title}' in the command palette; it never appeared in ${timeoutMs} ms`);
}

/**
 * F1 opens the command palette; where the focus sits somewhere that swallows F1 (some editors do), try
 * Ctrl+Shift+P, then focus the active editor group and try again.
 */
async function openQuickInput(page: Page): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  for (const key of ['F1', 'Control+Shift+P', 'F1']) {
    await page.keyboard.press(key);
    try {
      await widget.waitFor({ state: 'visible', timeout: 3_000 });
      return;
    } catch {
      await page.keyboard.press('Escape');
      if (key !== 'F1') await page.locator('.editor-group-container.active').first().click({ timeout: 5_000 }).catch(() => undefined);
    }
  }
  throw new Error('expected the command palette to open (F1, Ctrl+Shift+P); it stayed hidden');
}

/** Quick open (the palette without '>'): type a workspace-relative path, Enter. */
export async function openFile(page: Page, relativePath: string): Promise<void> {
  await openQuickInput(page);
  await page.keyboard.press('Backspace'); // drop the '>' prefix: file mode
  await page.keyboard.type(relativePath);
  const name = relativePath.split('/').pop() ?? relativePath;
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
  await page.locator('.monaco-editor .view-lines').first().waitFor({ timeout: 15_000 });
  await page.locator(`.tab.active`, { hasText: name }).first().waitFor({ timeout: 15_000 });
}

/** Put the cursor at a 1-based line and column of the active editor (quick input ':line:column'). */
export async function goToLineColumn(page: Page, line: number, column: number): Promise<void> {
  await openQuickInput(page);
  await page.keyboard.press('Backspace');
  await page.keyboard.type(`:${line}:${column}`);
  await sleep(300);
  await page.keyboard.press('Enter');
  await sleep(200);
}

/** The active editor's visible text, line by line (Monaco renders non-breaking spaces; turned back into spaces). */
export async function activeEditorText(page: Page): Promise<string> {
  const editor = page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
  return editor.evaluate((el) => {
    const lines = Array.from(el.querySelectorAll('.view-line')) as HTMLElement[];
    lines.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
    return lines.map((l) => (l.textContent ?? '').replace(/\u00a0/g, ' ')).join('\n');
  }, null);
}

/** The content frame of a webview panel of `extensionId` (outer iframe.webview → inner #active-frame). */
export function webviewContent(page: Page, extensionId: string): FrameLocator {
  return page.frameLocator(`iframe.webview.ready[src*="extensionId=${extensionId}"]`).first().frameLocator('#active-frame');
}

/** Poll `probe` every `intervalMs` until it returns a value other than undefined. */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number, intervalMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < end) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`expected ${what} within ${timeoutMs} ms${lastError ? `; last error: ${String(lastError)}` : ''}`);
}
