import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { withDownloadLock } from '../../src/hub/downloadLock';
import { HubError } from '../../src/hub/hubError';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'download-lock-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('the lock is held while fn runs and released after it resolves or throws', async () => {
  const file = path.join(root, 'a', 'x.lock');
  const seen = await withDownloadLock(file, 'o/x', async () => JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number; repo: string });
  assert.deepEqual([seen.pid, seen.repo], [process.pid, 'o/x']);
  assert.equal(fs.existsSync(file), false);
  await assert.rejects(withDownloadLock(file, 'o/x', async () => { throw new Error('boom'); }), /boom/);
  assert.equal(fs.existsSync(file), false);
});

test('a lock left by a process that is gone is taken over; one of a live process on this host is respected', async () => {
  const file = path.join(root, 'b.lock');
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 1000)']);
  const pid = child.pid as number;
  await new Promise((resolve) => child.once('exit', resolve));
  fs.writeFileSync(file, JSON.stringify({ pid, host: os.hostname(), repo: 'o/b', startedAt: 'then' }));
  assert.equal(await withDownloadLock(file, 'o/b', async () => 'ran'), 'ran');

  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  try {
    fs.writeFileSync(file, JSON.stringify({ pid: live.pid, host: os.hostname(), repo: 'o/b', startedAt: '2026-11-25T18:00:00Z' }));
    await assert.rejects(withDownloadLock(file, 'o/b', async () => 'ran'), (e: unknown) => {
      assert.ok(e instanceof HubError && e.kind === 'busy');
      assert.match(e.message, new RegExp(`by process ${live.pid} on ${os.hostname()}, since 2026-11-25T18:00:00Z`));
      return true;
    });
    assert.ok(fs.existsSync(file), 'another owner\'s lock is left alone');
  } finally {
    live.kill();
  }
});

test('a lock from another host is respected until it is a day old', async () => {
  const file = path.join(root, 'c.lock');
  fs.writeFileSync(file, JSON.stringify({ pid: 1, host: 'elsewhere', repo: 'o/c', startedAt: 'now' }));
  await assert.rejects(withDownloadLock(file, 'o/c', async () => 'ran'), /by process 1 on elsewhere/);
  const old = new Date(Date.now() - 25 * 3600_000);
  fs.utimesSync(file, old, old);
  assert.equal(await withDownloadLock(file, 'o/c', async () => 'ran'), 'ran');
});

test('a stale lock is taken over only under the take-over guard: a fresh guard makes the taker wait, one its taker left behind is cleared', async () => {
  const file = path.join(root, 'g.lock');
  const guard = `${file}.takeover`;
  const stale = JSON.stringify({ pid: 4_194_305, host: os.hostname(), repo: 'o/g', startedAt: 'then' });
  // another taker is in the middle of its take-over: this one is told busy rather than removing the lock itself
  fs.writeFileSync(file, stale);
  fs.writeFileSync(guard, 'another taker');
  await assert.rejects(withDownloadLock(file, 'o/g', async () => 'ran'), (e: unknown) => e instanceof HubError && e.kind === 'busy');
  assert.equal(fs.readFileSync(file, 'utf8'), stale, 'the lock is left to the guard\'s holder');
  // a guard whose taker died (older than 10 s) is cleared, and the stale lock is taken over
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(guard, old, old);
  assert.equal(await withDownloadLock(file, 'o/g', async () => 'ran'), 'ran');
  assert.deepEqual([fs.existsSync(file), fs.existsSync(guard)], [false, false]);
});

test('a folder where the lock file goes is reported in one line, not retried forever', async () => {
  // before: createExclusive kept finding something there and the read kept failing: a synchronous endless loop
  const file = path.join(root, 'd.lock');
  fs.mkdirSync(file);
  await assert.rejects(withDownloadLock(file, 'o/d', async () => 'ran'), (e: unknown) => {
    assert.ok(e instanceof HubError && e.kind === 'busy');
    assert.match(e.message, /download lock .*d\.lock is not a file; remove it if no download is running/);
    return true;
  });
  assert.deepEqual(fs.readdirSync(root).filter((f) => f.startsWith('d.lock.new-')), [], 'no temporary file left behind');
});
