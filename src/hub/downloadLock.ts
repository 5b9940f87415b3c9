/**
 * One download per repo and destination at a time, across VS Code windows and CLI runs: two writers resuming the
 * same .partial / .incomplete files would corrupt each other. The lock is a file created exclusively ('wx') that
 * names its owner (pid, host); a lock whose process is gone (or from this process's earlier, crashed run) is taken over.
 */
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

function readOwner(file: string): LockOwner | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockOwner>;
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

/**
 * Runs `fn` holding `lockFile`; throws HubError('busy') naming the owner when another live download holds it.
 * A lock on another host (a shared network folder) is respected as long as it is younger than `staleAfterMs`.
 */
export async function withDownloadLock<T>(lockFile: string, repo: string, fn: () => Promise<T>, staleAfterMs = 24 * 3600_000): Promise<T> {
  const key = path.resolve(lockFile);
  const owner: LockOwner = { pid: process.pid, host: os.hostname(), repo, startedAt: new Date().toISOString() };
  fs.mkdirSync(path.dirname(key), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(key, JSON.stringify(owner), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
      const other = readOwner(key);
      const age = Date.now() - (fs.statSync(key, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      const busy = heldHere.has(key) || (other !== undefined && other.pid !== process.pid
        && (other.host === owner.host ? isAlive(other.pid) : age < staleAfterMs));
      if (busy) {
        const who = heldHere.has(key) ? 'this window' : `process ${other?.pid} on ${other?.host}, since ${other?.startedAt}`;
        throw new HubError('busy', `${repo} is already being downloaded into ${path.dirname(key)} by ${who}; `
          + 'wait for that download to finish (or cancel it) and try again');
      }
      fs.rmSync(key, { force: true }); // its owner is gone: the partial files it left are resumed
    }
  }
  heldHere.add(key);
  try {
    return await fn();
  } finally {
    heldHere.delete(key);
    fs.rmSync(key, { force: true });
  }
}
