/**
 * The browser half of `npm run bench:extension` (bench/extension.ts holds the measuring and the report; it loads
 * this file at run time so its Node-only typecheck never sees DOM types). In code-server: open the panel (which
 * activates the extension), read VS Code's own activation time from "Developer: Show Running Extensions", leave the
 * host idle for a while, then time Generate runs from the click to the first preview drawn in the canvas.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { launchCodeServer } from './codeServer/launch';
import { listPngs } from './files';
import { evaluateIn } from './pageScript';
import { button, openPanel, typeInto } from './panel';
import type { FrameLocator, Page } from './playwright';
import { makeLogger } from './session';
import { runCommand, waitFor } from './workbench';

export interface BenchDriveOptions {
  readonly extension: string;
  readonly lagFile: string;
  readonly outputDir: string;
  readonly runs: number;
  readonly steps: number;
  readonly idleMs: number;
}

export interface BenchRun {
  /** Epoch ms of the click and of the saved PNG (the generation window for the lag figures). */
  readonly clickAt: number;
  readonly savedAt: number;
  /** In the webview: click event → the preview canvas's first draw, and → the next animation frame after it. */
  readonly clickToDrawMs: number | null;
  readonly clickToFrameMs: number | null;
}

export interface BenchDriveResult {
  /** VS Code's figure (code loading + activate call), from the Running Extensions view. */
  readonly activationMs: number | null;
  readonly activationText: string;
  readonly idleFrom: number;
  readonly idleTo: number;
  readonly runs: readonly BenchRun[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function readActivation(page: Page): Promise<{ ms: number | null; text: string }> {
  await runCommand(page, 'Developer: Show Running Extensions');
  const row = page.locator('.monaco-list-row', { hasText: 'Inline Diffusion' }).first();
  await row.waitFor({ timeout: 20_000 });
  const text = await waitFor('an activation time in the Running Extensions row', async () => {
    const t = await row.innerText();
    return /Activation: \d+\s*ms/.test(t) ? t : undefined;
  }, 20_000, 200);
  const m = /Activation: (\d+)\s*ms/.exec(text);
  return { ms: m ? Number(m[1]) : null, text: text.replace(/\s+/g, ' ').trim() };
}

/** Arms a one-shot probe in the panel: the next click, the next preview draw after it, the frame after that. */
async function armProbe(frame: FrameLocator): Promise<void> {
  await evaluateIn(frame.locator('body'), () => {
    const w = window as unknown as Record<string, unknown>;
    const probe: { click: number | null; draw: number | null; frame: number | null } = { click: null, draw: null, frame: null };
    w.__benchProbe = probe;
    document.addEventListener('click', () => { if (probe.click === null) probe.click = performance.now(); }, { capture: true, once: true });
    const canvas = document.getElementById('preview-canvas') ?? document.querySelector('canvas');
    if (!canvas) throw new Error('expected the preview canvas (#preview-canvas) in the panel');
    const observer = new MutationObserver(() => {
      if (probe.click === null || probe.draw !== null) return;
      probe.draw = performance.now();
      observer.disconnect();
      requestAnimationFrame(() => { probe.frame = performance.now(); });
    });
    observer.observe(canvas, { attributes: true, attributeFilter: ['data-draws', 'width', 'height'] });
  }, null);
}

async function readProbe(frame: FrameLocator): Promise<{ clickToDrawMs: number | null; clickToFrameMs: number | null }> {
  return evaluateIn(frame.locator('body'), () => {
    const p = (window as unknown as Record<string, unknown>).__benchProbe as { click: number | null; draw: number | null; frame: number | null };
    return {
      clickToDrawMs: p.click !== null && p.draw !== null ? p.draw - p.click : null,
      clickToFrameMs: p.click !== null && p.frame !== null ? p.frame - p.click : null,
    };
  }, null);
}

export async function driveBench(o: BenchDriveOptions): Promise<BenchDriveResult> {
  const log = makeLogger();
  const workspaceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'idx-bench-ws-'));
  const session = await launchCodeServer(workspaceDir, o.outputDir, {
    extension: o.extension, env: { INLINE_DIFFUSION_BENCH_OUT: o.lagFile }, log,
  });
  try {
    const { page } = session;
    await openPanel(page);
    await waitFor('the bench hook file', () => (fs.existsSync(o.lagFile) ? true : undefined), 20_000);
    const activation = await readActivation(page);
    log('activation:', activation.text);
    const frame = await openPanel(page); // back to the panel (reveals it)
    await typeInto(page, frame, 'Prompt', 'a red circle on a blue background');
    await typeInto(page, frame, 'Steps', String(o.steps));
    await sleep(1_000);
    const idleFrom = Date.now();
    await sleep(o.idleMs);
    const idleTo = Date.now();
    const runs: BenchRun[] = [];
    const images = path.join(workspaceDir, 'images');
    for (let i = 0; i < o.runs; i++) {
      const before = listPngs(images);
      await armProbe(frame);
      const clickAt = Date.now();
      await button(frame, 'Generate').click();
      await waitFor('the PNG of this run', () => listPngs(images).find((f) => !before.includes(f)), 120_000, 20);
      const savedAt = Date.now();
      const probe = await readProbe(frame);
      runs.push({ clickAt, savedAt, ...probe });
      log(`run ${i + 1}: click → first preview drawn ${probe.clickToDrawMs?.toFixed(1)} ms, PNG after ${savedAt - clickAt} ms`);
      await sleep(500);
    }
    await sleep(1_000); // the hook appends its samples twice a second
    await page.screenshot({ path: path.join(o.outputDir, 'bench-panel.png') });
    return { activationMs: activation.ms, activationText: activation.text, idleFrom, idleTo, runs };
  } catch (error) {
    await session.page.screenshot({ path: path.join(o.outputDir, 'bench-failed.png') }).catch(() => undefined);
    throw error;
  } finally {
    await session.close();
    fs.rmSync(workspaceDir, { recursive: true, force: true });
  }
}
