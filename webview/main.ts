/**
 * The Generate Image panel's webview entry: registers the toolkit's elements, builds the panel (panelApp.ts) from
 * the host's initial setup and the saved state, and wires the host's messages and the keyboard to it.
 */
import {
  provideVSCodeDesignSystem, vsCodeButton, vsCodeCheckbox, vsCodeDropdown, vsCodeOption, vsCodeProgressRing,
  vsCodeTextArea, vsCodeTextField,
} from '@vscode/webview-ui-toolkit';
import type { PanelSetup } from '../src/protocol/webviewMessages';
import { isToWebview } from './messages';
import { PanelApp } from './panelApp';
import { loadState, post, postRaw } from './vscodeApi';

provideVSCodeDesignSystem().register(
  vsCodeButton(), vsCodeCheckbox(), vsCodeDropdown(), vsCodeOption(), vsCodeProgressRing(), vsCodeTextArea(), vsCodeTextField(),
);

function readInitialSetup(app: HTMLElement): PanelSetup | null {
  try {
    const value: unknown = JSON.parse(app.dataset.initial ?? 'null');
    return typeof value === 'object' && value !== null && 'defaults' in value ? value as PanelSetup : null;
  } catch {
    return null;
  }
}

/** Escape in an open dropdown closes the dropdown; it does not cancel the generation. */
function isInOpenDropdown(event: KeyboardEvent): boolean {
  return event.composedPath().some((n) => n instanceof HTMLElement && n.tagName === 'VSCODE-DROPDOWN' && n.hasAttribute('open'));
}

function main(): void {
  const app = document.getElementById('app');
  if (!app) return;
  const panel = new PanelApp(app, readInitialSetup(app), loadState());
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (isToWebview(event.data)) panel.handle(event.data);
  });
  document.addEventListener('paste', (event) => panel.input.handlePaste(event));
  panel.input.attachDrop(document.body);
  document.addEventListener('keydown', (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') {
      event.preventDefault();
      panel.generate();
    } else if (event.key === 'Escape' && !event.defaultPrevented && panel.isRunning && !isInOpenDropdown(event)) {
      event.preventDefault();
      panel.cancelRunning();
    }
  });
  // a test hook: end-to-end tests post malformed messages through it
  (window as unknown as { inlineDiffusionTest: unknown }).inlineDiffusionTest = { postRaw };
  post({ type: 'ready' });
}

main();
