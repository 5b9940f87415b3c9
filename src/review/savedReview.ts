/**
 * A review restored after a window reload: the state its webview kept (getState) read back as `unknown` until
 * accepted, and its rows matched to the document's images as they are now (by alt text, in order). No `vscode`.
 */
import type { SavedReview } from '../protocol/reviewMessages';
import { LIMITS } from '../engine/request';
import { isRecord } from '../common/isRecord';
import { IMAGE_ID, textUpTo } from './reviewMessageGuards';

/** Rows a restored review takes (a longer saved list is cut: no document needs more). */
const SAVED_ROWS_MAX = 1000;
const CANDIDATES_MAX = 64;

/**
 * The state a review webview kept for a reload (its last ReviewState), as far as a restore needs it; undefined when
 * it is not one (an older build's, or anything else). Unknown fields are ignored.
 */
export function parseSavedReview(value: unknown): SavedReview | undefined {
  if (!isRecord(value) || typeof value.uri !== 'string' || value.uri.length > 8192 || !Array.isArray(value.rows)) return undefined;
  const max = LIMITS.promptMaxChars;
  const style = textUpTo(value.style, max) ? value.style : '';
  const negative = textUpTo(value.negative, max) ? value.negative : '';
  const rows: Array<SavedReview['rows'][number]> = [];
  for (const r of value.rows.slice(0, SAVED_ROWS_MAX)) {
    if (!isRecord(r) || !textUpTo(r.alt, max) || !textUpTo(r.prompt, max)) return undefined;
    const candidates = Array.isArray(r.candidates)
      ? r.candidates.slice(0, CANDIDATES_MAX).map((c: unknown) => (isRecord(c) ? c.imageId : c)).filter((id): id is string => typeof id === 'string' && IMAGE_ID.test(id))
      : [];
    const picked = typeof r.picked === 'string' && candidates.includes(r.picked) ? r.picked : null;
    rows.push({ alt: r.alt, prompt: r.prompt, picked, skipped: r.skipped === true, candidates });
  }
  return { uri: value.uri, style, negative, applied: value.applied === true, rows };
}

/**
 * For each image of the document now (in order), the saved row of the same alt text, taken in order (the second
 * “a fox” image gets the second “a fox” row), or undefined for an image the saved review did not have.
 */
export function matchSavedRows<R extends { readonly alt: string }>(alts: readonly string[], saved: readonly R[]): Array<R | undefined> {
  const used = new Set<number>();
  return alts.map((alt) => {
    const i = saved.findIndex((r, j) => !used.has(j) && r.alt === alt);
    if (i < 0) return undefined;
    used.add(i);
    return saved[i];
  });
}
