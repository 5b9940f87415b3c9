/**
 * Errors of the Hugging Face Hub client and downloader: one class with a `kind` the UI can branch on, and a
 * message that says what was expected, what arrived and what to do. Tokens never appear in a message: every
 * message passes through `redactToken`.
 */

export type HubErrorKind =
  | 'not-found'        // 404: repo, revision or file
  | 'needs-token'      // 401/403: gated or private; accept the licence or give a token
  | 'rate-limited'     // 429 after the retries
  | 'server'           // 5xx after the retries
  | 'network'          // connection failures after the retries
  | 'bad-response'     // the Hub answered something this client cannot read
  | 'integrity'        // size or sha256 mismatch after a retry
  | 'disk-space'       // not enough free space (checked first), or ENOSPC while writing
  | 'not-a-pipeline'   // the repo holds no diffusers ONNX pipeline
  | 'busy'             // another window or process is downloading the same repo into the same place
  | 'cancelled';       // the AbortSignal fired; partial files are kept for a resume

export class HubError extends Error {
  override readonly name = 'HubError';
  constructor(
    readonly kind: HubErrorKind,
    message: string,
    /** HTTP status where one was received. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What a token looks like in a message after redaction. */
export const REDACTED = 'hf_***';

/**
 * `text` with every occurrence of `token` (and of "Bearer <token>") replaced by a placeholder. Tokens shorter
 * than 4 characters are replaced too: there is no safe length for a secret.
 */
export function redactToken(text: string, token: string | undefined): string {
  if (token === undefined || token === '') return text;
  return text.split(token).join(REDACTED);
}

/** A HubError whose message (and cause's message) carries no token. */
export function redactError(e: unknown, token: string | undefined): Error {
  if (!(e instanceof Error)) return new Error(redactToken(String(e), token));
  if (token === undefined || token === '' || !e.message.includes(token)) return e;
  if (e instanceof HubError) return new HubError(e.kind, redactToken(e.message, token), e.status);
  const copy = new Error(redactToken(e.message, token));
  copy.name = e.name;
  return copy;
}

/** Bytes as a person reads them: "4.27 GB", "812 MB", "12.0 kB" (SI units, as the Hub's website shows). */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}
