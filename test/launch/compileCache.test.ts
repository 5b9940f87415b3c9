import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cacheFileFor, compileCacheDir, isOwnFolder, pruneStale, readCacheFile, runBundle, STALE_AFTER_MS } from '../../src/launch/compileCache';
import { COMPILE_CACHE_WARM_EVENT, signalWarm } from '../../src/launch/warmEvent';

const posixOnly = { skip: typeof process.getuid !== 'function' ? 'POSIX ownership and modes' : false };

/** A temporary folder, removed when the test `t` ends. */
function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inline-diffusion-cc-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A bundle that records what it ran with in a global, and requires a sibling file relative to itself. */
function writeBundle(dir: string, marker: string): string {
  fs.writeFileSync(path.join(dir, 'helper.js'), 'module.exports = 40;\n');
  const file = path.join(dir, 'bundle-main.js');
  fs.writeFileSync(file, [
    '"use strict";',
    'function answer() { return require("./helper") + 2; }',
    `globalThis.__ccTest = { marker: "${marker}", answer: answer(), dirname: __dirname, filename: __filename, exportsIsThis: this === module.exports };`,
    'module.exports.ok = true;',
    '',
  ].join('\n'));
  return file;
}

function ran(): { marker: string; answer: number; dirname: string; filename: string; exportsIsThis: boolean } {
  return (globalThis as unknown as { __ccTest: ReturnType<typeof ran> }).__ccTest;
}

test('the cache folder: the user\'s cache folder per platform, or INLINE_DIFFUSION_COMPILE_CACHE (0 / off: none)', () => {
  assert.equal(compileCacheDir({}, 'linux', '/home/u'), '/home/u/.cache/inline-diffusion/compile-cache');
  assert.equal(compileCacheDir({ XDG_CACHE_HOME: '/x/cache' }, 'linux', '/home/u'), '/x/cache/inline-diffusion/compile-cache');
  assert.equal(compileCacheDir({ XDG_CACHE_HOME: 'relative' }, 'linux', '/home/u'), '/home/u/.cache/inline-diffusion/compile-cache');
  assert.equal(compileCacheDir({}, 'darwin', '/Users/u'), '/Users/u/Library/Caches/inline-diffusion/compile-cache');
  assert.equal(compileCacheDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32', 'C:\\Users\\u'),
    path.join('C:\\Users\\u\\AppData\\Local', 'inline-diffusion', 'compile-cache'));
  assert.equal(compileCacheDir({ INLINE_DIFFUSION_COMPILE_CACHE: '/tmp/cc' }, 'linux', '/home/u'), '/tmp/cc');
  assert.equal(compileCacheDir({ INLINE_DIFFUSION_COMPILE_CACHE: '0' }, 'linux', '/home/u'), undefined);
  assert.equal(compileCacheDir({ INLINE_DIFFUSION_COMPILE_CACHE: 'OFF' }, 'linux', '/home/u'), undefined);
});

test('a bundle runs as require would; the warm event saves the cache and the next run uses it', (t) => {
  const dir = tempDir(t);
  const cacheDir = path.join(dir, 'cache', 'nested');
  const bundle = writeBundle(dir, 'first');
  assert.equal(runBundle(bundle, cacheDir), 'none');
  assert.deepEqual(ran(), { marker: 'first', answer: 42, dirname: dir, filename: bundle, exportsIsThis: true });
  assert.equal(fs.existsSync(cacheFileFor(bundle, cacheDir)), false, 'nothing is written before the bundle says it is warm');

  signalWarm();
  const cacheFile = cacheFileFor(bundle, cacheDir);
  assert.ok(fs.existsSync(cacheFile), 'the warm event writes the cache at once');
  if (typeof process.getuid === 'function') {
    assert.equal(fs.statSync(cacheDir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(cacheFile).mode & 0o777, 0o600);
  }
  assert.deepEqual(fs.readdirSync(cacheDir), [path.basename(cacheFile)], 'no temporary file is left behind');
  assert.equal(process.listenerCount(COMPILE_CACHE_WARM_EVENT), 0, 'the listener is gone once it has saved');

  (globalThis as { __ccTest?: unknown }).__ccTest = undefined;
  assert.equal(runBundle(bundle, cacheDir), 'used');
  assert.equal(ran().answer, 42);
  assert.equal(process.listenerCount(COMPILE_CACHE_WARM_EVENT), 0, 'a run from the cache does not save again');
});

test('a changed bundle of the same length runs its own code, never the cached one, and replaces the cache', (t) => {
  const dir = tempDir(t);
  const cacheDir = path.join(dir, 'cache');
  const bundle = writeBundle(dir, 'AAAA');
  runBundle(bundle, cacheDir);
  signalWarm();
  const before = fs.readFileSync(cacheFileFor(bundle, cacheDir));
  writeBundle(dir, 'BBBB'); // V8 alone would only compare the source's length
  assert.equal(runBundle(bundle, cacheDir), 'none');
  assert.equal(ran().marker, 'BBBB');
  signalWarm();
  assert.notDeepEqual(fs.readFileSync(cacheFileFor(bundle, cacheDir)), before);
  assert.equal(runBundle(bundle, cacheDir), 'used');
  assert.equal(ran().marker, 'BBBB');
});

test('a damaged or truncated cache file is ignored, and so is one that is not a cache file', (t) => {
  const dir = tempDir(t);
  const cacheDir = path.join(dir, 'cache');
  const bundle = writeBundle(dir, 'damage');
  runBundle(bundle, cacheDir);
  signalWarm();
  const cacheFile = cacheFileFor(bundle, cacheDir);
  const good = fs.readFileSync(cacheFile);
  const crc = good.readUInt32LE(4);
  assert.ok(readCacheFile(cacheFile, crc) !== undefined);

  const flipped = Buffer.from(good);
  flipped[flipped.length - 5] ^= 0x40;
  fs.writeFileSync(cacheFile, flipped);
  assert.equal(readCacheFile(cacheFile, crc), undefined, 'a flipped bit in the data');
  assert.equal(runBundle(bundle, cacheDir), 'none');
  assert.equal(ran().marker, 'damage');
  process.removeAllListeners(COMPILE_CACHE_WARM_EVENT);

  fs.writeFileSync(cacheFile, good.subarray(0, good.length - 100));
  assert.equal(readCacheFile(cacheFile, crc), undefined, 'truncated');
  fs.writeFileSync(cacheFile, 'not a cache');
  assert.equal(readCacheFile(cacheFile, crc), undefined, 'another file');
  assert.equal(readCacheFile(path.join(dir, 'missing.cache'), crc), undefined, 'missing');
  assert.equal(runBundle(bundle, cacheDir), 'none');
  process.removeAllListeners(COMPILE_CACHE_WARM_EVENT);
});

test('no cache is read from or written to a folder others may write into', posixOnly, (t) => {
  const dir = tempDir(t);
  const cacheDir = path.join(dir, 'shared');
  const bundle = writeBundle(dir, 'shared');
  runBundle(bundle, cacheDir);
  signalWarm();
  assert.ok(fs.existsSync(cacheFileFor(bundle, cacheDir)));
  fs.chmodSync(cacheDir, 0o777);
  assert.equal(isOwnFolder(cacheDir, false), false);
  assert.equal(runBundle(bundle, cacheDir), 'none', 'a world-writable folder\'s cache is not trusted');
  fs.rmSync(cacheFileFor(bundle, cacheDir));
  signalWarm();
  assert.equal(fs.existsSync(cacheFileFor(bundle, cacheDir)), false, 'nor written into');
  fs.chmodSync(cacheDir, 0o700);
  assert.equal(isOwnFolder(cacheDir, false), true);
  assert.equal(isOwnFolder(path.join(dir, 'bundle-main.js'), false), false, 'a file is not a folder');
});

test('without a cache folder the bundle just runs; a folder that cannot be made costs nothing but the cache', (t) => {
  const dir = tempDir(t);
  const bundle = writeBundle(dir, 'plain');
  assert.equal(runBundle(bundle, null), 'off');
  assert.equal(ran().marker, 'plain');
  assert.equal(process.listenerCount(COMPILE_CACHE_WARM_EVENT), 0);

  const blocked = path.join(dir, 'a-file');
  fs.writeFileSync(blocked, '');
  assert.equal(runBundle(bundle, path.join(blocked, 'cache')), 'none');
  assert.doesNotThrow(() => signalWarm());
  assert.equal(ran().marker, 'plain');
});

test('saving a cache removes the folder\'s cache files untouched for 30 days, and nothing else', (t) => {
  const dir = tempDir(t);
  const cacheDir = path.join(dir, 'cache');
  fs.mkdirSync(cacheDir, { mode: 0o700 });
  const old = (name: string): string => {
    const file = path.join(cacheDir, name);
    fs.writeFileSync(file, 'x');
    const when = (Date.now() - STALE_AFTER_MS - 86_400_000) / 1000;
    fs.utimesSync(file, when, when);
    return file;
  };
  const stale = old('cli-main.js-00000000.cache');
  const leftover = old('cli-main.js-00000000.cache.123.tmp');
  const notOurs = old('notes.txt');
  const fresh = path.join(cacheDir, 'engine-main.js-11111111.cache');
  fs.writeFileSync(fresh, 'x');
  const bundle = writeBundle(dir, 'prune');
  runBundle(bundle, cacheDir);
  signalWarm();
  assert.deepEqual(fs.readdirSync(cacheDir).sort(), [path.basename(cacheFileFor(bundle, cacheDir)), 'engine-main.js-11111111.cache', 'notes.txt'].sort());
  assert.ok(!fs.existsSync(stale) && !fs.existsSync(leftover) && fs.existsSync(notOurs) && fs.existsSync(fresh));
  // The file being kept is never removed, however old its time stamp.
  const kept = old('kept.cache');
  pruneStale(cacheDir, kept);
  assert.ok(fs.existsSync(kept));
});
