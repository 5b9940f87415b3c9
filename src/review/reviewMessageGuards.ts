/**
 * Validation of what the review webview posts, as src/panel/webviewMessageGuards.ts does for the panel: `unknown`
 * until accepted; a rejected message becomes a notice naming what was expected and what arrived. No `vscode` import.
 */
import type { FromReview } from '../protocol/reviewMessages';
import { describeValue, LIMITS } from '../engine/request';
import { isRecord } from '../common/isRecord';

export type ParsedReviewMessage =
  | { readonly ok: true; readonly message: FromReview }
  | { readonly ok: false; readonly problem: string };

export interface ReviewGuardContext {
  /** Row ids the review shows. */
  readonly rowIds: readonly number[];
}

export const IMAGE_ID = /^[A-Za-z0-9-]{1,64}$/;

export function textUpTo(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length <= max;
}

/** Accepts a message from the review webview as a FromReview, or says what is wrong with it. */
export function parseFromReview(value: unknown, ctx: ReviewGuardContext): ParsedReviewMessage {
  if (!isRecord(value)) return { ok: false, problem: `message: expected an object, got ${describeValue(value)}` };
  const bad = (problem: string): ParsedReviewMessage => ({ ok: false, problem });
  const row = (): number | undefined => (typeof value.rowId === 'number' && ctx.rowIds.includes(value.rowId) ? value.rowId : undefined);
  const max = LIMITS.promptMaxChars;
  switch (value.type) {
    case 'ready':
    case 'apply':
    case 'cancel':
      return { ok: true, message: { type: value.type } };
    case 'pick': {
      const rowId = row();
      if (rowId === undefined) return bad(`pick: expected a row of this review, got ${describeValue(value.rowId)}`);
      if (typeof value.imageId !== 'string' || !IMAGE_ID.test(value.imageId)) return bad(`pick: expected an image id, got ${describeValue(value.imageId)}`);
      return { ok: true, message: { type: 'pick', rowId, imageId: value.imageId } };
    }
    case 'regenerate': {
      const rowId = row();
      if (rowId === undefined) return bad(`regenerate: expected a row of this review, got ${describeValue(value.rowId)}`);
      if (!textUpTo(value.prompt, max) || value.prompt.trim() === '') {
        return bad(`regenerate: expected a prompt of 1 to ${max} characters, got ${describeValue(value.prompt)}`);
      }
      return { ok: true, message: { type: 'regenerate', rowId, prompt: value.prompt } };
    }
    case 'skip': {
      const rowId = row();
      if (rowId === undefined) return bad(`skip: expected a row of this review, got ${describeValue(value.rowId)}`);
      if (typeof value.skipped !== 'boolean') return bad(`skip: expected skipped true or false, got ${describeValue(value.skipped)}`);
      return { ok: true, message: { type: 'skip', rowId, skipped: value.skipped } };
    }
    case 'setStyle':
      if (!textUpTo(value.style, max)) return bad(`setStyle: expected a style of at most ${max} characters, got ${describeValue(value.style)}`);
      if (!textUpTo(value.negative, max)) return bad(`setStyle: expected a negative prompt of at most ${max} characters, got ${describeValue(value.negative)}`);
      return { ok: true, message: { type: 'setStyle', style: value.style, negative: value.negative } };
    default:
      return bad(`message: unknown type ${describeValue(value.type)} (expected ready, pick, regenerate, skip, setStyle, apply or cancel)`);
  }
}
