import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { uniquePath, writeFileAtomic } from '../../../src/engine/image/outputFiles';
import { describeFailure } from '../../../src/cli/failure';

// Issue 12 row 7: the disk filling up while an image is saved. Before the fix the hidden temporary file stayed in
// the output folder (.cat.png.<pid>.<time>.tmp, measured on a full 64 KiB tmpfs), the folder was never fsynced and
// the CLI printed a stack trace.
const realFs = createRequire(__filename)('node:fs') as typeof fs;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disk-full-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

for (const overwrite of [true, false]) {
  test(`a write that fails with ENOSPC leaves no temporary file behind (overwrite ${overwrite})`, (t) => {
    const dir = tempDir(t);
    t.mock.method(realFs, 'writeSync', () => { throw enospc(); });
    assert.throws(() => writeFileAtomic(path.join(dir, 'cat.png'), new Uint8Array(1000), overwrite), /ENOSPC/);
    t.mock.restoreAll();
    assert.deepEqual(fs.readdirSync(dir), []);
  });
}

test('an fsync that fails (a full disk found late) leaves no temporary file behind either', (t) => {
  const dir = tempDir(t);
  t.mock.method(realFs, 'fsyncSync', () => { throw enospc(); });
  assert.throws(() => writeFileAtomic(path.join(dir, 'cat.png'), new Uint8Array(10), false), /ENOSPC/);
  t.mock.restoreAll();
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('after the rename or link, the folder itself is fsynced', (t) => {
  const dir = tempDir(t);
  const opened = new Map<number, string>();
  const open = realFs.openSync;
  t.mock.method(realFs, 'openSync', (p: fs.PathLike, ...rest: unknown[]) => {
    const fd = (open as (...a: unknown[]) => number)(p, ...rest);
    opened.set(fd, String(p));
    return fd;
  });
  const synced: string[] = [];
  const fsync = realFs.fsyncSync;
  t.mock.method(realFs, 'fsyncSync', (fd: number) => { synced.push(opened.get(fd) ?? '?'); fsync(fd); });
  writeFileAtomic(path.join(dir, 'a.png'), new Uint8Array(10), true);
  writeFileAtomic(path.join(dir, 'b.png'), new Uint8Array(10), false);
  t.mock.restoreAll();
  assert.equal(synced.filter((p) => p === dir).length, 2, synced.join(', '));
  assert.deepEqual(fs.readdirSync(dir).sort(), ['a.png', 'b.png']);
});

test('the CLI says "disk full" in one line, naming the file, without a stack trace', () => {
  const failure = describeFailure(Object.assign(enospc(), { path: '/out/cat.png' }));
  assert.equal(failure.exitCode, 1);
  assert.doesNotMatch(failure.text, /\n/);
  assert.match(failure.text, /^inline-diffusion: disk full: could not write \/out\/cat\.png \(ENOSPC\)/);
});

test('a dangling symlink counts as a taken name', (t) => {
  const dir = tempDir(t);
  fs.symlinkSync(path.join(dir, 'nowhere', 'x.png'), path.join(dir, 'cat.png'));
  assert.equal(path.basename(uniquePath(dir, 'cat.png')), 'cat-1.png');
});
