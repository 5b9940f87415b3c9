/**
 * A small client for the Hugging Face Hub's HTTP API (no dependency: Node's fetch). HF_ENDPOINT is honoured;
 * an optional token goes out as `Authorization: Bearer …` to the Hub's own origin only (never to the CDN a
 * download redirects to) and never appears in a message. 429 and 5xx answers and connection failures are
 * retried with backoff; the rest become HubErrors that say what to do.
 */
import { HubError, redactError, redactToken } from './hubError';
import { assertRepoPath } from './repoPath';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubClientOptions {
  /** Default: process.env.HF_ENDPOINT, else https://huggingface.co. */
  readonly endpoint?: string;
  /** A Hugging Face access token for gated or private repos. */
  readonly token?: string;
  /** Waits before each retry of a 429/5xx/connection failure; default 1, 3, 9 s (three retries). */
  readonly retryDelaysMs?: readonly number[];
  /** Longest wait a Retry-After header may ask for; default 60 s. */
  readonly maxRetryAfterMs?: number;
  readonly log?: (message: string) => void;
  readonly userAgent?: string;
}

/** One file of a repo at a revision, as the Hub lists it. */
export interface RepoFile {
  /** Path inside the repo ("unet/model.onnx"). */
  readonly path: string;
  readonly size: number;
  /** sha256 of the content: the LFS oid (large files only). */
  readonly sha256?: string;
  /** Git blob id (sha1 of "blob <size>\0<content>"): for small files stored in git, the checksum there is. */
  readonly gitOid?: string;
}

export interface RepoInfo {
  readonly repoId: string;
  /** The revision asked for ("main", a tag, or a commit). */
  readonly revision: string;
  /** The commit it resolved to (40 hex digits). */
  readonly commit: string;
  readonly files: RepoFile[];
}

const REPO_ID = /^(?:[A-Za-z0-9][\w.-]{0,95}\/)?[A-Za-z0-9][\w.-]{0,95}$/;

/**
 * The repo id in `input`: "owner/name", or a Hub URL such as https://huggingface.co/owner/name/tree/main.
 * Throws a HubError naming the expected form.
 */
export function parseRepoId(input: string): string {
  let s = input.trim();
  const url = /^https?:\/\/[^/]+\/(.*)$/.exec(s);
  if (url) s = url[1].split('/').slice(0, 2).join('/');
  s = s.replace(/\/+$/, '');
  if (!REPO_ID.test(s) || s.includes('..') || s.includes('--')) {
    throw new HubError('not-found', `"${input.trim()}" is not a Hugging Face repo id: expected "owner/name" (letters, digits, -, _, .)`);
  }
  return s;
}

/** A path or revision for a URL: each segment percent-encoded, "/" kept between path segments. */
function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelled());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function cancelled(): HubError {
  return new HubError('cancelled', 'Download cancelled: the files downloaded so far are kept, and the next download resumes them');
}

function isAbort(e: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (e instanceof Error && e.name === 'AbortError');
}

/** A fetch that failed before any answer, with the origin it went to (the Hub or its CDN). */
class NetworkFailure extends Error {
  constructor(readonly origin: string, readonly error: unknown) {
    super(describeNetworkError(error));
  }
}

export class HubClient {
  readonly endpoint: string;
  private readonly token: string | undefined;
  private readonly retryDelaysMs: readonly number[];
  private readonly maxRetryAfterMs: number;
  private readonly log: (message: string) => void;
  private readonly userAgent: string;

  constructor(opts: HubClientOptions = {}) {
    const endpoint = opts.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_ENDPOINT;
    this.endpoint = endpoint.replace(/\/+$/, '');
    this.token = opts.token === '' ? undefined : opts.token;
    this.retryDelaysMs = opts.retryDelaysMs ?? [1000, 3000, 9000];
    this.maxRetryAfterMs = opts.maxRetryAfterMs ?? 60_000;
    const log = opts.log ?? (() => undefined);
    this.log = (m) => log(redactToken(m, this.token));
    this.userAgent = opts.userAgent ?? 'inline-diffusion (node)';
  }

  /** Waits before the `attempt`-th (0-based) retry of anything: the retry delays, the last one repeated. */
  backoff(attempt: number, signal?: AbortSignal): Promise<void> {
    const delays = this.retryDelaysMs;
    return delays.length === 0 ? Promise.resolve() : sleep(delays[Math.min(attempt, delays.length - 1)], signal);
  }

  /** Removes the token from a message. */
  redact(text: string): string {
    return redactToken(text, this.token);
  }

  /** The page where a gated repo's licence is accepted. */
  repoPage(repoId: string): string {
    return `${this.endpoint}/${repoId}`;
  }

  resolveUrl(repoId: string, revision: string, filePath: string): string {
    return `${this.endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${encodePath(filePath)}`;
  }

  /** The files of `repoId` at `revision` with sizes and checksums, and the commit the revision points at. */
  async getRepoInfo(repoId: string, revision: string, signal?: AbortSignal): Promise<RepoInfo> {
    const url = `${this.endpoint}/api/models/${repoId}/revision/${encodeURIComponent(revision)}?blobs=true`;
    const res = await this.request(url, { signal, what: `${repoId}@${revision}`, repoId });
    let body: unknown;
    try {
      body = await res.json();
    } catch (e) {
      throw new HubError('bad-response', `The Hub's answer for ${repoId}@${revision} is not JSON: ${(e as Error).message}`, res.status);
    }
    return parseRepoInfo(body, repoId, revision);
  }

  /**
   * GET `url` following redirects by hand (the token only to the Hub's origin), retrying 429/5xx and
   * connection failures. Returns any 2xx answer and 416; throws a HubError for everything else.
   */
  async request(url: string, opts: { signal?: AbortSignal; headers?: Record<string, string>; what: string; repoId: string }): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.followRedirects(url, opts.headers ?? {}, opts.signal);
      } catch (e) {
        if (isAbort(e, opts.signal) || isAbort((e as NetworkFailure).error, opts.signal)) throw cancelled();
        if (e instanceof HubError) throw e;
        const origin = e instanceof NetworkFailure ? e.origin : this.endpoint;
        const reason = describeNetworkError(e instanceof NetworkFailure ? e.error : e);
        if (isOffline(e instanceof NetworkFailure ? e.error : e)) {
          // no route or no name resolution: retrying for 13 s would only make the user wait
          throw new HubError('network', this.redact(`no network: could not reach ${origin} for ${opts.what} (${reason}); connect and try again`), undefined,
            { cause: redactError(e instanceof NetworkFailure ? e.error : e, this.token) });
        }
        if (attempt < this.retryDelaysMs.length) {
          this.log(`${opts.what}: ${reason}; retrying in ${this.retryDelaysMs[attempt]} ms`);
          await sleep(this.retryDelaysMs[attempt], opts.signal);
          continue;
        }
        throw new HubError('network', this.redact(`Could not reach ${origin} for ${opts.what} after ${attempt + 1} attempts: ${reason}`), undefined,
          { cause: redactError(e instanceof NetworkFailure ? e.error : e, this.token) });
      }
      if (res.ok || res.status === 416) return res;
      const retryable = res.status === 429 || res.status >= 500;
      if (retryable && attempt < this.retryDelaysMs.length) {
        const wait = Math.max(this.retryDelaysMs[attempt], Math.min(retryAfterMs(res.headers), this.maxRetryAfterMs));
        await res.body?.cancel().catch(() => undefined);
        this.log(`${opts.what}: HTTP ${res.status}; retrying in ${wait} ms`);
        await sleep(wait, opts.signal);
        continue;
      }
      throw await this.statusError(res, opts.what, opts.repoId, attempt + 1);
    }
  }

  private async followRedirects(url: string, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<Response> {
    const hubOrigin = new URL(this.endpoint).origin;
    let current = url;
    for (let hop = 0; hop <= 10; hop++) {
      const sameOrigin = new URL(current).origin === hubOrigin;
      const h: Record<string, string> = { 'user-agent': this.userAgent, 'accept-encoding': 'identity', ...headers };
      if (this.token !== undefined && sameOrigin) h.authorization = `Bearer ${this.token}`;
      let res: Response;
      try {
        res = await fetch(current, { headers: h, redirect: 'manual', signal });
      } catch (e) {
        throw new NetworkFailure(new URL(current).origin, e);
      }
      if (res.status < 300 || res.status >= 400 || res.status === 304) return res;
      const location = res.headers.get('location');
      await res.body?.cancel().catch(() => undefined);
      if (location === null) throw new HubError('bad-response', `HTTP ${res.status} redirect without a Location header from ${new URL(current).origin}`, res.status);
      current = new URL(location, current).toString();
    }
    throw new HubError('bad-response', `Too many redirects (more than 10) starting at ${url}`);
  }

  private async statusError(res: Response, what: string, repoId: string, attempts: number): Promise<HubError> {
    const code = res.headers.get('x-error-code') ?? '';
    let detail = res.headers.get('x-error-message') ?? '';
    if (detail === '') {
      const text = await res.text().catch(() => '');
      detail = extractMessage(text);
    }
    const said = detail === '' ? '' : ` (the Hub says: ${detail.slice(0, 300)})`;
    const s = res.status;
    let err: HubError;
    if (s === 404 || (s === 401 && code === 'RepoNotFound')) {
      const which = code === 'EntryNotFound' ? 'file' : code === 'RevisionNotFound' ? 'revision' : 'repo or file';
      const priv = this.token === undefined && s === 401 ? '; if the repo is private, a token is needed' : '';
      err = new HubError('not-found', `${what}: ${which} not found on ${this.endpoint} (HTTP ${s})${priv}${said}`, s);
    } else if (s === 401 || s === 403) {
      const gated = code === 'GatedRepo' || /gated|licen[cs]e|accept/i.test(detail);
      const how = this.token === undefined
        ? 'it needs a Hugging Face access token (Settings → Access Tokens on the Hub)'
        : 'the token given is not allowed to read it';
      err = new HubError('needs-token',
        `${what}: access denied (HTTP ${s}): ${how}${gated || s === 403 ? `; if the repo is gated, accept the licence at ${this.repoPage(repoId)} while logged in` : ''}${said}`, s);
    } else if (s === 429) {
      err = new HubError('rate-limited', `${what}: the Hub kept answering "too many requests" (HTTP 429) after ${attempts} attempts; wait a few minutes and try again (a token raises the limits)${said}`, s);
    } else if (s >= 500) {
      err = new HubError('server', `${what}: the Hub answered HTTP ${s} (server error) ${attempts} times; try again later${said}`, s);
    } else {
      err = new HubError('bad-response', `${what}: unexpected HTTP ${s} from ${this.endpoint}${said}`, s);
    }
    return new HubError(err.kind, this.redact(err.message), err.status);
  }
}

function extractMessage(text: string): string {
  try {
    const j: unknown = JSON.parse(text);
    if (typeof j === 'object' && j !== null && typeof (j as { error?: unknown }).error === 'string') return (j as { error: string }).error;
  } catch {
    // not JSON
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

function retryAfterMs(headers: Headers): number {
  const v = headers.get('retry-after');
  if (v === null) return 0;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(v);
  return Number.isNaN(date) ? 0 : Math.max(0, date - Date.now());
}

/** Error codes that mean this machine has no network (no name resolution, no route), not a server's trouble. */
const OFFLINE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);

function isOffline(e: unknown): boolean {
  const cause = (e as { cause?: unknown })?.cause;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : (e as { code?: unknown })?.code;
  return typeof code === 'string' && OFFLINE_CODES.has(code);
}

export function describeNetworkError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: unknown }).cause;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  const causeMsg = cause instanceof Error ? cause.message : '';
  return [e.message, typeof code === 'string' ? code : '', causeMsg && causeMsg !== e.message ? causeMsg : ''].filter(Boolean).join(': ');
}

const HEX40 = /^[0-9a-f]{40}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** Reads `/api/models/{repo}/revision/{rev}?blobs=true`: `sha` and `siblings[{rfilename, size, blobId, lfs{sha256,size}}]`. */
export function parseRepoInfo(body: unknown, repoId: string, revision: string): RepoInfo {
  const bad = (why: string): HubError => new HubError('bad-response', `The Hub's file list for ${repoId}@${revision} is not as expected: ${why}`);
  if (typeof body !== 'object' || body === null) throw bad(`expected a JSON object, got ${JSON.stringify(body)?.slice(0, 100)}`);
  const o = body as Record<string, unknown>;
  if (typeof o.sha !== 'string' || !HEX40.test(o.sha)) throw bad(`"sha" should be a 40-digit commit hash, got ${JSON.stringify(o.sha)}`);
  if (!Array.isArray(o.siblings)) throw bad('"siblings" (the file list) is missing');
  const files: RepoFile[] = o.siblings.map((s: unknown, i: number): RepoFile => {
    if (typeof s !== 'object' || s === null) throw bad(`siblings[${i}] is not an object`);
    const f = s as Record<string, unknown>;
    if (typeof f.rfilename !== 'string') throw bad(`siblings[${i}] has no "rfilename"`);
    assertRepoPath(f.rfilename, `The Hub's file list for ${repoId}@${revision}`);
    const lfs = typeof f.lfs === 'object' && f.lfs !== null ? (f.lfs as Record<string, unknown>) : undefined;
    const size = typeof lfs?.size === 'number' ? lfs.size : f.size;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
      throw bad(`siblings[${i}] (${f.rfilename}) has no byte size: ask with ?blobs=true`);
    }
    const sha256 = typeof lfs?.sha256 === 'string' && HEX64.test(lfs.sha256) ? lfs.sha256 : undefined;
    const gitOid = typeof f.blobId === 'string' && HEX40.test(f.blobId) ? f.blobId : undefined;
    return { path: f.rfilename, size, ...(sha256 ? { sha256 } : {}), ...(gitOid ? { gitOid } : {}) };
  });
  return { repoId, revision, commit: o.sha, files };
}
