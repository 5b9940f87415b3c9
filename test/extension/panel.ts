/**
 * The Generate Image panel, found by what a person sees (issue 4's Names table: labels Prompt, Negative prompt,
 * Sampler, Steps, CFG scale, Seed, Width, Height, Batch count, Model; buttons Generate, Cancel), plus an in-frame
 * observer that records the progress text and a hash of every preview picture as they change.
 */
import { evaluateIn } from './pageScript';
import type { FrameLocator, Locator, Page } from './playwright';
import { runCommand, webviewContent } from './workbench';

export const EXTENSION_ID = 'inline-diffusion.inline-diffusion';
export const COMMAND_PREFIX = 'Inline Diffusion: ';

export type FieldLabel = 'Prompt' | 'Negative prompt' | 'Sampler' | 'Steps' | 'CFG scale' | 'Seed' | 'Width' | 'Height'
  | 'Batch count' | 'Model';

/** One observed state of the panel: the progress text's step k of N and the preview pictures' hash. */
export interface PanelSample {
  readonly atMs: number;
  readonly step: number | null;
  readonly totalSteps: number | null;
  readonly previewHash: string;
}

export function panelFrame(page: Page): FrameLocator {
  return webviewContent(page, EXTENSION_ID);
}

/** The outer webview iframe of the panel (its whole area, for screenshots). */
export function panelArea(page: Page): Locator {
  return page.locator(`iframe.webview.ready[src*="extensionId=${EXTENSION_ID}"]`).first();
}

/** The control labelled `label` (a <label>, aria-label or aria-labelledby; the toolkit's shadow labels too). */
export function field(frame: FrameLocator, label: FieldLabel): Locator {
  return frame.getByLabel(label, { exact: true })
    .or(frame.getByRole('textbox', { name: label, exact: true }))
    .or(frame.getByRole('spinbutton', { name: label, exact: true }))
    .or(frame.getByRole('combobox', { name: label, exact: true }))
    .first();
}

export function button(frame: FrameLocator, name: 'Generate' | 'Cancel'): Locator {
  return frame.getByRole('button', { name, exact: true }).first();
}

/** "Inline Diffusion: Generate Image" from the palette; resolves when the form's Prompt field is visible. */
export async function openPanel(page: Page): Promise<FrameLocator> {
  await runCommand(page, `${COMMAND_PREFIX}Generate Image`);
  const frame = panelFrame(page);
  await field(frame, 'Prompt').waitFor({ state: 'visible', timeout: 60_000 });
  return frame;
}

/** Click into the field, select all, type: what a person does. */
export async function typeInto(page: Page, frame: FrameLocator, label: FieldLabel, text: string): Promise<void> {
  const control = field(frame, label);
  await control.click();
  // Select the current text in the control (inside the toolkit element's shadow root). Not Ctrl+A: VS Code also
  // runs its own "select all" in the webview for that key, a moment later, which swallows typed characters.
  await control.evaluate((host) => {
    const inner = host.shadowRoot?.querySelector('input, textarea') ?? host;
    if (inner instanceof HTMLInputElement || inner instanceof HTMLTextAreaElement) inner.select();
  }, null);
  if (text === '') await page.keyboard.press('Delete');
  else await page.keyboard.type(text);
}

/** The control's value (the toolkit's elements keep it in `.value`, like inputs). */
export async function fieldValue(frame: FrameLocator, label: FieldLabel): Promise<string> {
  return field(frame, label).evaluate((e) => String((e as HTMLInputElement).value), null);
}

/** Start recording panel states every ~15 ms into window.__e2eSamples (distinct states only). */
export async function startObserving(frame: FrameLocator): Promise<void> {
  await evaluateIn(frame.locator('body'), (body) => {
    const w = window as unknown as Record<string, unknown>;
    if (typeof w.__e2eTimer === 'number') clearInterval(w.__e2eTimer);
    const samples: Array<{ atMs: number; step: number | null; totalSteps: number | null; previewHash: string }> = [];
    w.__e2eSamples = samples;
    const t0 = Date.now();
    w.__e2eTimer = setInterval(() => {
      const text = (body as HTMLElement).innerText;
      const m = /step\s+(\d+)\s*(?:\/|of)\s*(\d+)/i.exec(text);
      let hash = 2166136261;
      const pictures = Array.from(document.querySelectorAll('canvas, img'));
      for (const el of pictures) {
        const src = el instanceof HTMLCanvasElement ? (el.width && el.height ? el.toDataURL() : '') : (el as HTMLImageElement).src;
        for (let i = 0; i < src.length; i += 1) hash = Math.imul(hash ^ src.charCodeAt(i), 16777619) >>> 0;
      }
      const sample = { atMs: Date.now() - t0, step: m ? Number(m[1]) : null, totalSteps: m ? Number(m[2]) : null,
        previewHash: `${pictures.length}:${hash.toString(16)}` };
      const last = samples[samples.length - 1];
      if (!last || last.step !== sample.step || last.totalSteps !== sample.totalSteps || last.previewHash !== sample.previewHash) {
        samples.push(sample);
      }
    }, 15);
  }, null);
}

export async function readObserved(frame: FrameLocator, stop = false): Promise<PanelSample[]> {
  return evaluateIn(frame.locator('body'), (_body, stopNow) => {
    const w = window as unknown as Record<string, unknown>;
    if (stopNow && typeof w.__e2eTimer === 'number') clearInterval(w.__e2eTimer);
    return (w.__e2eSamples ?? []) as PanelSample[];
  }, stop);
}

/** The panel's visible text (notices, progress, buttons). */
export async function panelText(frame: FrameLocator): Promise<string> {
  return frame.locator('body').innerText({ timeout: 10_000 });
}
