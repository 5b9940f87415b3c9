/** The panel's limits (sent to the webview in its setup, checked again by src/panel/webviewMessageGuards.ts): the engine's. */
import type { PanelLimits } from '../protocol/webviewMessages';
import { LIMITS } from '../engine/request';

export const PANEL_LIMITS: PanelLimits = {
  stepsMax: LIMITS.stepsMax,
  cfgMax: LIMITS.cfgMax,
  seedMax: LIMITS.seedMax,
  sizeMin: LIMITS.sizeMin,
  sizeMax: LIMITS.sizeMax,
  sizeMultiple: LIMITS.sizeMultiple,
  batchCountMax: LIMITS.batchMax,
  promptMaxChars: LIMITS.promptMaxChars,
  clipSkipMax: LIMITS.clipSkipMax,
};
