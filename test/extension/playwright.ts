/**
 * The slice of playwright-core the suite uses, typed here so the suite typechecks without the package: the package
 * itself lives in the e2e cache (scripts/e2e/install.sh), outside the repository, and is loaded at run time.
 */
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';

export interface RoleOptions { readonly name?: string | RegExp; readonly exact?: boolean }

interface Locatable {
  locator(selector: string, options?: { hasText?: string | RegExp }): Locator;
  getByRole(role: string, options?: RoleOptions): Locator;
  getByLabel(text: string | RegExp, options?: { exact?: boolean }): Locator;
  getByText(text: string | RegExp, options?: { exact?: boolean }): Locator;
}

export interface Locator extends Locatable {
  first(): Locator;
  last(): Locator;
  nth(index: number): Locator;
  or(other: Locator): Locator;
  count(): Promise<number>;
  waitFor(options?: { state?: 'attached' | 'detached' | 'visible' | 'hidden'; timeout?: number }): Promise<void>;
  click(options?: { timeout?: number; button?: 'left' | 'right' }): Promise<void>;
  hover(options?: { timeout?: number }): Promise<void>;
  focus(options?: { timeout?: number }): Promise<void>;
  fill(value: string, options?: { timeout?: number }): Promise<void>;
  press(key: string, options?: { timeout?: number }): Promise<void>;
  isVisible(): Promise<boolean>;
  textContent(options?: { timeout?: number }): Promise<string | null>;
  innerText(options?: { timeout?: number }): Promise<string>;
  inputValue(options?: { timeout?: number }): Promise<string>;
  getAttribute(name: string, options?: { timeout?: number }): Promise<string | null>;
  screenshot(options?: { path?: string; timeout?: number }): Promise<Buffer>;
  evaluate<R, A>(fn: (element: Element, arg: A) => R | Promise<R>, arg: A, options?: { timeout?: number }): Promise<R>;
  evaluateAll<R>(fn: (elements: Element[]) => R | Promise<R>): Promise<R>;
  boundingBox(options?: { timeout?: number }): Promise<{ x: number; y: number; width: number; height: number } | null>;
  selectOption(value: string, options?: { timeout?: number }): Promise<string[]>;
}

export interface FrameLocator extends Locatable {
  frameLocator(selector: string): FrameLocator;
  first(): FrameLocator;
  nth(index: number): FrameLocator;
  owner(): Locator;
}

export interface Keyboard {
  press(key: string): Promise<void>;
  type(text: string, options?: { delay?: number }): Promise<void>;
  insertText(text: string): Promise<void>;
}

export interface Mouse {
  move(x: number, y: number, options?: { steps?: number }): Promise<void>;
  down(options?: { button?: 'left' | 'right' }): Promise<void>;
  up(options?: { button?: 'left' | 'right' }): Promise<void>;
}

export interface ConsoleMessage { type(): string; text(): string }

export interface Page extends Locatable {
  readonly keyboard: Keyboard;
  readonly mouse: Mouse;
  goto(url: string, options?: { timeout?: number }): Promise<unknown>;
  frameLocator(selector: string): FrameLocator;
  screenshot(options?: { path?: string; fullPage?: boolean; timeout?: number }): Promise<Buffer>;
  waitForTimeout(ms: number): Promise<void>;
  viewportSize(): { width: number; height: number } | null;
  setViewportSize(size: { width: number; height: number }): Promise<void>;
  setDefaultTimeout(ms: number): void;
  on(event: 'console', listener: (message: ConsoleMessage) => void): void;
  on(event: 'pageerror', listener: (error: Error) => void): void;
  close(): Promise<void>;
}

export interface BrowserContext {
  pages(): Page[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export interface ElectronApplication {
  firstWindow(options?: { timeout?: number }): Promise<Page>;
  close(): Promise<void>;
  process(): { pid?: number };
}

export interface Playwright {
  readonly chromium: {
    launchPersistentContext(userDataDir: string, options: {
      executablePath?: string; headless?: boolean; viewport?: { width: number; height: number }; args?: string[];
      timeout?: number;
    }): Promise<BrowserContext>;
  };
  readonly _electron: {
    launch(options: { executablePath: string; args: string[]; env?: Record<string, string>; timeout?: number;
      cwd?: string }): Promise<ElectronApplication>;
  };
}

/** The e2e cache folder made by scripts/e2e/install.sh. */
export function e2eCacheDir(): string {
  return process.env.INLINE_DIFFUSION_E2E_CACHE ?? path.join(os.homedir(), '.cache', 'inline-diffusion-e2e');
}

/** playwright-core from the e2e cache (or from node_modules when a project installs it). */
export function loadPlaywright(): Playwright {
  const fromCache = createRequire(path.join(e2eCacheDir(), 'pw', 'package.json'));
  try {
    return fromCache('playwright-core') as Playwright;
  } catch (cacheError) {
    try {
      return createRequire(__filename)('playwright-core') as Playwright;
    } catch {
      throw new Error(`expected playwright-core in ${path.join(e2eCacheDir(), 'pw')} (run scripts/e2e/install.sh) ` +
        `or in node_modules; got: ${(cacheError as Error).message}`);
    }
  }
}
