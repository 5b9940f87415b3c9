/**
 * Messages between the host and the "Illustrate Document" review panel (webview/review/): one row per image that
 * needs a picture, N candidates each. Declared once here, imported with `import type` by both sides.
 */

export type RowStatus = 'waiting' | 'generating' | 'done' | 'failed' | 'cancelled' | 'skipped';

export interface ReviewCandidate {
  /** The host's image id (GenerationService / ResultStore). */
  readonly imageId: string;
  readonly seed: number;
}

export interface ReviewRow {
  readonly rowId: number;
  /** The alt text as a prompt (without the document's style). */
  readonly alt: string;
  /** The prompt generated from (the alt text, possibly edited here). */
  readonly prompt: string;
  readonly status: RowStatus;
  /** The step text while generating ("step 3/20 of image 1/2"), or why it failed. */
  readonly detail: string;
  readonly candidates: readonly ReviewCandidate[];
  /** The picked candidate's imageId, or null. */
  readonly picked: string | null;
  readonly skipped: boolean;
}

export interface ReviewState {
  /** The document's file name. */
  readonly document: string;
  /** The document's URI (the review is restored from it after a window reload). */
  readonly uri: string;
  readonly style: string;
  readonly negative: string;
  /** Candidates per row. */
  readonly candidates: number;
  readonly rows: readonly ReviewRow[];
  /** Lines about the scan: front matter problems, images passed over. */
  readonly notes: readonly string[];
  /** Whether generations of this review are queued or running (Cancel is offered). */
  readonly busy: boolean;
  /** Set once Apply wrote the links (the panel then only reports). */
  readonly applied: boolean;
}

/**
 * What a review restored after a window reload starts from: the webview's last state as it kept it (getState), read
 * back through src/review/reviewMessageGuards.ts. Rows are matched to the document's images again by alt text.
 */
export interface SavedReview {
  readonly uri: string;
  readonly style: string;
  readonly negative: string;
  readonly applied: boolean;
  readonly rows: ReadonlyArray<{
    readonly alt: string;
    readonly prompt: string;
    readonly picked: string | null;
    readonly skipped: boolean;
    /** The candidates' image ids (kept in the extension's storage like every unsaved result). */
    readonly candidates: readonly string[];
  }>;
}

/** Host → review webview. */
export type ToReview =
  /** The whole state (sent on ready and after every change; small: candidates are named by id, their pictures sent once). */
  | { readonly type: 'state'; readonly state: ReviewState }
  /** A candidate's picture (a data: URL of its PNG), sent once per candidate before the first state naming it. */
  | { readonly type: 'candidate'; readonly imageId: string; readonly src: string }
  /** A step of the row being generated: its step text and, with previews on, the predicted image (RGB, 3 bytes a pixel). */
  | { readonly type: 'progress'; readonly rowId: number; readonly detail: string;
      readonly preview: { readonly width: number; readonly height: number; readonly rgb: Uint8Array } | null }
  /** A one-line message under the toolbar. */
  | { readonly type: 'notice'; readonly level: 'error' | 'info'; readonly message: string };

/** Review webview → host. */
export type FromReview =
  /** The webview has loaded and wants the state. */
  | { readonly type: 'ready' }
  /** Pick a candidate of a row. */
  | { readonly type: 'pick'; readonly rowId: number; readonly imageId: string }
  /** New candidates for a row (new seeds), from this prompt. */
  | { readonly type: 'regenerate'; readonly rowId: number; readonly prompt: string }
  /** Skip a row (or take it back). */
  | { readonly type: 'skip'; readonly rowId: number; readonly skipped: boolean }
  /** The document-wide style suffix and negative prompt (used by later generations). */
  | { readonly type: 'setStyle'; readonly style: string; readonly negative: string }
  /** Save the picked images and rewrite the links in one edit. */
  | { readonly type: 'apply' }
  /** Stop this review's queued and running generations. */
  | { readonly type: 'cancel' };
