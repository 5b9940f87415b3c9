/**
 * What every scenario gets: a VS Code workbench page (code-server in Chromium, or VS Code's Electron window) with one
 * workspace folder open and the extension installed, plus folders for screenshots and the host's logs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from './playwright';

export interface Session {
  readonly page: Page;
  /** The workspace folder open in the window (files written by the extension land here). */
  readonly workspaceDir: string;
  /** Screenshots and notes of this run (kept as test output). */
  readonly outputDir: string;
  /** "code-server" or "electron". */
  readonly flavour: 'code-server' | 'electron';
  /** The extension host's own log text (VS Code's exthost log), '' when the flavour cannot read it. */
  readExtensionHostLog(): string;
  log(...parts: unknown[]): void;
}

/** Closes what a launcher started; safe to call twice. */
export interface LaunchedSession extends Session {
  close(): Promise<void>;
}

export type Launcher = (workspaceDir: string, outputDir: string) => Promise<LaunchedSession>;

/** The text files below `dir` whose path matches `pattern`, concatenated (for VS Code's log folders). */
export function readLogs(dir: string, pattern: RegExp): string {
  const parts: string[] = [];
  const walk = (d: string): void => {
    for (const entry of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (pattern.test(p)) parts.push(`--- ${p}\n${fs.readFileSync(p, 'utf8')}`);
    }
  };
  walk(dir);
  return parts.join('\n');
}

export function makeLogger(t0 = Date.now()): (...parts: unknown[]) => void {
  return (...parts) => console.log(`# [+${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...parts);
}

/**
 * User settings for the window: quiet workbench, plus E2E_MODEL (a model folder) as `inlineDiffusion.model` when
 * set (e.g. while the embedded model is being trained).
 */
export function e2eSettings(base: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const model = process.env.E2E_MODEL;
  return { ...base, ...(model ? { 'inlineDiffusion.model': path.resolve(model) } : {}) };
}
