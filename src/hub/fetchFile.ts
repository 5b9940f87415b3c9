/**
 * One file from the Hub into `<final>.incomplete`, resumed with an HTTP Range request where bytes are already
 * there (a 206 with the matching Content-Range appends; a 200 starts again cleanly), checked for size and
 * checksum while streaming (sha256 for LFS files, the git blob sha1 for small ones), then renamed to `<final>`.
 * A connection that drops mid-file is resumed a few times; a checksum mismatch deletes the partial file.
 */
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { cancelled, describeNetworkError, type HubClient, type RepoFile } from './hubClient';
import { HubError, formatBytes } from './hubError';
import type { ProgressTracker } from './progress';

export interface FetchFileOptions {
  readonly client: HubClient;
  readonly repoId: string;
  readonly url: string;
  readonly file: RepoFile;
  /** Where the file goes once complete and verified; it grows in `${finalPath}.incomplete` until then. */
  readonly finalPath: string;
  readonly tracker: ProgressTracker;
  readonly signal?: AbortSignal;
  /** How many times a body that ends early (a dropped connection or a short answer) is resumed (default 5). */
  readonly maxResumes?: number;
}

/** The checksums a file is verified against, computed while it streams. */
class Digests {
  private sha256: Hash = createHash('sha256');
  private sha1: Hash = createHash('sha1');
  constructor(private readonly size: number) {
    this.reset();
  }
  reset(): void {
    this.sha256 = createHash('sha256');
    this.sha1 = createHash('sha1').update(`blob ${this.size}\0`);
  }
  update(chunk: Uint8Array): void {
    this.sha256.update(chunk);
    this.sha1.update(chunk);
  }
  digest(): { sha256: string; gitOid: string } {
    return { sha256: this.sha256.digest('hex'), gitOid: this.sha1.digest('hex') };
  }
}

/** Resumes in a row that bring no new byte before the download gives up. */
const MAX_STALLS = 3;

export function partPathOf(finalPath: string): string {
  return `${finalPath}.incomplete`;
}

async function sizeOf(p: string): Promise<number> {
  try {
    return (await fsp.stat(p)).size;
  } catch {
    return 0;
  }
}

async function hashExisting(p: string, bytes: number, digests: Digests): Promise<void> {
  if (bytes === 0) return;
  for await (const chunk of fs.createReadStream(p, { start: 0, end: bytes - 1 })) digests.update(chunk as Buffer);
}

/** Parses "bytes 100-199/200". */
function parseContentRange(v: string | null): { start: number; end: number; total: number | null } | undefined {
  const m = v === null ? null : /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v.trim());
  return m ? { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) } : undefined;
}

function isEnospc(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOSPC' || (e as NodeJS.ErrnoException)?.code === 'EDQUOT';
}

/** Downloads and verifies one file. Throws HubError ('integrity' after deleting the partial file, 'cancelled' keeping it). */
export async function fetchFile(opts: FetchFileOptions): Promise<void> {
  const { file, tracker, signal, client } = opts;
  const part = partPathOf(opts.finalPath);
  const what = `${opts.repoId}/${file.path}`;
  await fsp.mkdir(path.dirname(part), { recursive: true });
  let have = await sizeOf(part);
  if (have > file.size) {
    await fsp.truncate(part, 0);
    tracker.dropBytes(have);
    have = 0;
  }
  const digests = new Digests(file.size);
  await hashExisting(part, have, digests);

  let resumes = 0;
  let restarts = 0;
  let best = have;
  let stalls = 0;
  while (have < file.size || (file.size === 0 && !fs.existsSync(part))) {
    if (signal?.aborted) throw cancelled();
    const headers: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
    const res = await client.request(opts.url, { signal, headers, what, repoId: opts.repoId });
    const range = res.status === 206 ? parseContentRange(res.headers.get('content-range')) : undefined;
    const resumed = range !== undefined && range.start === have && (range.total === null || range.total === file.size);
    if (!resumed && res.status !== 200) {
      // 416, or a 206 for other bytes than asked: what we have does not fit what the server has; start again.
      await res.body?.cancel().catch(() => undefined);
      if (have === 0 || ++restarts > 2) {
        throw new HubError('bad-response', `${what}: HTTP ${res.status} (Content-Range ${res.headers.get('content-range') ?? 'none'}) to a request for bytes ${have}-`, res.status);
      }
    }
    if (!resumed && have > 0) {
      // A 200 (the server ignored Range) or a mismatched range: the file starts again cleanly.
      tracker.dropBytes(have);
      have = 0;
      digests.reset();
      if (res.status !== 200) continue;
    }
    let dropped: unknown;
    try {
      have = await streamInto(res, part, have, file.size, digests, tracker, what, signal);
    } catch (e) {
      if (e instanceof HubError || signal?.aborted) throw wrapStreamError(e, what, signal);
      dropped = e;
      have = await sizeOf(part);
    }
    if (have >= file.size) continue;
    // The body ended before the file did (a dropped connection, or an answer shorter than the file): a resume,
    // counted, after a backoff; given up after a few, or at once when the last ones brought no new byte.
    stalls = have > best ? 0 : stalls + 1;
    best = Math.max(best, have);
    if (++resumes > (opts.maxResumes ?? 5) || stalls >= MAX_STALLS) {
      if (dropped !== undefined) throw wrapStreamError(dropped, what, signal);
      throw new HubError('network', `${what}: the server's answer ended early ${resumes} times (at ${have} of ${file.size} bytes); download again to resume`);
    }
    await client.backoff(resumes - 1, signal);
  }

  const got = digests.digest();
  const size = await sizeOf(part);
  const expected = file.sha256 ?? file.gitOid;
  const actual = file.sha256 !== undefined ? got.sha256 : got.gitOid;
  if (size !== file.size || (expected !== undefined && expected !== actual)) {
    await fsp.rm(part, { force: true });
    tracker.dropBytes(size);
    const why = size !== file.size
      ? `expected ${file.size} bytes, got ${size}`
      : `${file.sha256 !== undefined ? 'sha256' : 'git blob sha1'} expected ${expected}, got ${actual}`;
    throw new HubError('integrity', `${what} is corrupt (${why}); the partial file was deleted`);
  }
  await fsp.rename(part, opts.finalPath);
}

/** Appends the body of `res` to `part`, hashing it; returns the file's new length. */
async function streamInto(res: Response, part: string, have: number, size: number, digests: Digests, tracker: ProgressTracker,
  what: string, signal: AbortSignal | undefined): Promise<number> {
  const fh = await fsp.open(part, have === 0 ? 'w' : 'a');
  let n = have;
  try {
    if (res.body === null) return n;
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      if (n + chunk.length > size) {
        throw new HubError('integrity', `${what}: the server sent more than the ${formatBytes(size)} (${size} bytes) the Hub lists`);
      }
      await fh.write(chunk);
      digests.update(chunk);
      n += chunk.length;
      tracker.addBytes(chunk.length);
    }
  } catch (e) {
    if (isEnospc(e)) throw new HubError('disk-space', `The disk is full while writing ${part}: free some space and download again (it resumes)`);
    if (signal?.aborted) throw cancelled();
    throw e;
  } finally {
    await fh.close();
  }
  return n;
}

function wrapStreamError(e: unknown, what: string, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return cancelled();
  if (e instanceof HubError) return e;
  return new HubError('network', `${what}: the connection kept dropping mid-file (${describeNetworkError(e)}); download again to resume`, undefined, { cause: e });
}
