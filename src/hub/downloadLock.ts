/**
 * One download per repo and destination at a time, across VS Code windows and CLI runs: two writers resuming the
 * same .partial / .incomplete files would corrupt each other. The lock is a file created exclusively ('wx') that
 * names its owner (pid, host); a lock whose process is gone (or from this process's earlier, crashed run) is taken over
 * under a guard file (withDownloadLock).
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HubError } from './hubError';

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly repo: string;
  readonly startedAt: string;
}

function readOwner(file: string, text = readText(file)): LockOwner | undefined {
  try {
    const v = JSON.parse(text ?? '') as Partial<LockOwner>;
    return typeof v.pid === 'number' && typeof v.host === 'string' ? v as LockOwner : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Locks held by this process, so a second download of the same repo here is refused like one elsewhere. */
const heldHere = new Set<string>();

/** Tries before a lock that keeps changing hands under us is reported as busy. */
const MAX_TRIES = 8;

function busyError(key: string, repo: string, who: string): HubError {
  return new HubError('busy', `${repo} is already being downloaded into ${path.dirname(key)} by ${who}; `
    + 'wait for that download to finish (or cancel it) and try again');
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** A take-over guard older than this was left by a taker that died within its few microseconds of work. */
const GUARD_STALE_MS = 10_000;
/** How long a taker waits for another one's take-over before looking again. */
const GUARD_WAIT_MS = 20;

/**
 * Removes the stale lock `key` whose content was `seen`, under a guard: only the taker that created `key.takeover`
 * exclusively may remove a lock, and it removes it only while its content is still `seen` (every lock's content is
 * unique: owner + random id). So a lock another taker made meanwhile is never removed, and of several windows taking
 * over one stale lock at the same moment exactly one holds it next. Returns false when another taker holds the
 * guard (look again after a moment).
 */
function removeStaleLock(key: string, seen: string, mine: string): boolean {
  const guard = `${key}.takeover`;
  if (!createExclusive(guard, mine)) {
    const age = Date.now() - (fs.statSync(guard, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > GUARD_STALE_MS) fs.rmSync(guard, { force: true }); // its taker died mid-take-over
    return false;
  }
  try {
    if (readText(key) === seen) fs.rmSync(key, { force: true }); // its owner is gone: the partial files it left are resumed
  } finally {
    fs.rmSync(guard, { force: true });
  }
  return true;
}

/**
 * Runs `fn` holding `lockFile`; throws HubError('busy') naming the owner when another live download holds it.
 * A lock on another host (a shared network folder) is respected as long as it is younger than `staleAfterMs`.
 * The lock is only ever created exclusively ('wx', owner written to a temporary file and linked into place, so it
 * is never seen half-written); a stale one is removed under a take-over guard (removeStaleLock), so of several windows
 * taking over one stale lock at the same moment exactly one holds it and the others are told it is busy.
 */
export async function withDownloadLock<T>(lockFile: string, repo: string, fn: () => Promise<T>, staleAfterMs = 24 * 3600_000): Promise<T> {
  const key = path.resolve(lockFile);
  const owner: LockOwner = { pid: process.pid, host: os.hostname(), repo, startedAt: new Date().toISOString() };
  const mine = JSON.stringify({ ...owner, id: randomUUID() });
  if (heldHere.has(key)) throw busyError(key, repo, 'this window');
  fs.mkdirSync(path.dirname(key), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    if (createExclusive(key, mine)) break;
    const seen = readText(key);
    if (seen === undefined) {
      // released meanwhile (try again) — or something there that is no lock file: a folder, an unreadable file
      const stat = fs.lstatSync(key, { throwIfNoEntry: false });
      if (stat !== undefined && (!stat.isFile() || attempt >= MAX_TRIES)) {
        throw new HubError('busy', `the download lock ${key} is ${stat.isFile() ? 'a file this user cannot read' : 'not a file'}; `
          + 'remove it if no download is running, and try again');
      }
      if (attempt >= MAX_TRIES) throw busyError(key, repo, 'another window taking over its lock');
      continue;
    }
    const other = readOwner(key, seen);
    const age = Date.now() - (fs.statSync(key, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    const busy = heldHere.has(key) || (other !== undefined && other.pid !== process.pid
      && (other.host === owner.host ? isAlive(other.pid) : age < staleAfterMs));
    if (busy || attempt >= MAX_TRIES) {
      const who = heldHere.has(key) ? 'this window' : other ? `process ${other.pid} on ${other.host}, since ${other.startedAt}` : 'another window taking over its lock';
      throw busyError(key, repo, who);
    }
    if (!removeStaleLock(key, seen, mine)) await new Promise((resolve) => setTimeout(resolve, GUARD_WAIT_MS));
  }
  heldHere.add(key);
  try {
    return await fn();
  } finally {
    heldHere.delete(key);
    // release only our own lock
    if (readText(key) === mine) fs.rmSync(key, { force: true });
  }
}

/** Creates `key` holding `content` only if no file is there; false when one is. */
function createExclusive(key: string, content: string): boolean {
  const tmp = `${key}.new-${process.pid}-${randomUUID()}`;
  fs.writeFileSync(tmp, content);
  try {
    fs.linkSync(tmp, key);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw e;
    // a file system without hard links: create it exclusively in place (a reader may see it empty for a moment)
    try {
      fs.writeFileSync(key, content, { flag: 'wx' });
      return true;
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw again;
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
