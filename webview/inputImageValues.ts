/** The input image's values, without the DOM (node tests load it): A1111's resize mode names, the strength field. */
import type { ResizeModeChoice } from '../src/protocol/webviewMessages';

export const RESIZE_MODE_LABELS: ReadonlyArray<readonly [ResizeModeChoice, string]> = [
  ['just', 'Just resize'], ['crop', 'Crop and resize'], ['fill', 'Resize and fill'],
];

/** The strength typed into the number field, or why it is not one: a number from 0 to 1. */
export function parseStrength(text: string): number | string {
  const t = text.trim();
  const n = Number(t);
  if (t === '' || !Number.isFinite(n) || n < 0 || n > 1) return `Expected a number from 0 to 1, got “${text}”.`;
  return n;
}
