/**
 * Runs a CommonJS bundle (dist/cli-main.js, dist/engine-main.js) through V8's code cache, as Node 22's
 * module.enableCompileCache() does for every module (Node 20 has no such switch). The first run compiles the
 * bundle as `require` would and, when its entry says so, saves V8's cache of everything compiled by then (the
 * top level and every function that ran); later runs deserialize that instead of parsing ~270 KB and compiling
 * each function on its first call — about 10 ms of a 0.3 s CLI generation on the embedded model.
 *
 * A cache file is used only when it is whole and belongs to exactly this source: its header carries the CRC-32
 * of the bundle's bytes and of the cached data (V8 checks its own version and flags, but only the source's
 * length, and no checksum in release builds). Without crc32 (Node < 20.15), without a writable directory
 * of the user's own, or with INLINE_DIFFUSION_COMPILE_CACHE=0, the bundle is compiled as usual. Nothing here
 * ever fails a run: a cache that cannot be read or written only costs the compile.
 */
import { isAscii } from 'node:buffer';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { Script } from 'node:vm';
import { crc32 } from 'node:zlib';
import { COMPILE_CACHE_WARM_EVENT } from './warmEvent';

/** 'IDC1': Inline Diffusion compile cache, header version 1. */
const MAGIC = 0x49444331;
/** magic, CRC-32 of the source bytes, CRC-32 of the cached data, its length: four uint32 LE. */
const HEADER_BYTES = 16;

export interface CompileCacheEnv {
  readonly INLINE_DIFFUSION_COMPILE_CACHE?: string;
  readonly XDG_CACHE_HOME?: string;
  readonly LOCALAPPDATA?: string;
}

/**
 * Where cache files go: INLINE_DIFFUSION_COMPILE_CACHE (a folder; '0' or 'off' turns the cache off), else the
 * user's cache folder: $XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows.
 */
export function compileCacheDir(env: CompileCacheEnv = process.env, platform: NodeJS.Platform = process.platform,
  home: string = homedir()): string | undefined {
  const chosen = env.INLINE_DIFFUSION_COMPILE_CACHE;
  if (chosen !== undefined && chosen !== '') return chosen === '0' || chosen.toLowerCase() === 'off' ? undefined : chosen;
  let base: string;
  if (platform === 'win32') base = env.LOCALAPPDATA || join(home, 'AppData', 'Local');
  else if (platform === 'darwin') base = join(home, 'Library', 'Caches');
  else base = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(home, '.cache');
  return join(base, 'inline-diffusion', 'compile-cache');
}

/** 32-bit FNV-1a of a string, as 8 hex digits: names the cache file of one bundle path under one Node. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** The cache file of `bundle` under this Node (V8 refuses data from another version or other flags anyway). */
export function cacheFileFor(bundle: string, dir: string): string {
  return join(dir, `${basename(bundle)}-${fnv1a(`${bundle}\0${process.version}\0${process.arch}`)}.cache`);
}

/** The cached data in `file` if its header says it is whole and made from a source with CRC `sourceCrc`. */
export function readCacheFile(file: string, sourceCrc: number): Buffer | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return undefined;
  }
  if (buf.length <= HEADER_BYTES || buf.readUInt32LE(0) !== MAGIC || buf.readUInt32LE(4) !== sourceCrc) return undefined;
  const data = buf.subarray(HEADER_BYTES);
  if (buf.readUInt32LE(12) !== data.length || crc32(data) !== buf.readUInt32LE(8)) return undefined;
  return data;
}

/** Writes header + data to `file` atomically (a temporary file renamed over it). */
export function writeCacheFile(file: string, sourceCrc: number, data: Buffer): void {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(sourceCrc, 4);
  header.writeUInt32LE(crc32(data), 8);
  header.writeUInt32LE(data.length, 12);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, Buffer.concat([header, data]), { mode: 0o600 });
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never written
    }
    throw err;
  }
}

/** Cache files (and leftovers of interrupted writes) untouched this long are removed when a new cache is saved. */
export const STALE_AFTER_MS = 30 * 24 * 3600 * 1000;

/**
 * Removes the folder's cache files older than STALE_AFTER_MS but `keep`: every install, update or Node version
 * makes a file of its own (~250 KB), and nothing else would ever remove the old ones. One in use that is removed
 * costs one compile: it is written again after the next generation.
 */
export function pruneStale(dir: string, keep: string, now = Date.now()): void {
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.cache') && !name.endsWith('.tmp')) continue;
    const file = join(dir, name);
    try {
      if (file !== keep && now - statSync(file).mtimeMs > STALE_AFTER_MS) unlinkSync(file);
    } catch {
      // gone already, or not ours to remove
    }
  }
}

/**
 * Whether `dir` is a folder only this user can write (made first, mode 0700, when `create`). Code from a cache file
 * runs as this user: never take one from a folder someone else owns or may write into.
 */
export function isOwnFolder(dir: string, create: boolean): boolean {
  try {
    if (create) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    if (!st.isDirectory()) return false;
    if (typeof process.getuid !== 'function') return true; // Windows: the user's own profile folder by default
    return st.uid === process.getuid() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

export type CacheUse = 'used' | 'rejected' | 'none' | 'off';

/**
 * Runs the CommonJS bundle `file` as `require(file)` would, through the compile cache in `cacheDir` (null: none).
 * When this run did not start from a usable cache, the bundle's COMPILE_CACHE_WARM_EVENT (src/launch/warmEvent.ts)
 * saves one then, synchronously (once). Returns how the cache was used.
 */
export function runBundle(file: string, cacheDir: string | null = compileCacheDir() ?? null): CacheUse {
  const bytes = readFileSync(file);
  // crc32 came with Node 20.15 / 22.2; without it there is no safe way to match a cache file to its source.
  const dir = cacheDir !== null && typeof crc32 === 'function' ? cacheDir : undefined;
  const sourceCrc = dir !== undefined ? crc32(bytes) : 0;
  const cacheFile = dir !== undefined ? cacheFileFor(file, dir) : undefined;
  const cachedData = dir !== undefined && cacheFile !== undefined && isOwnFolder(dir, false) ? readCacheFile(cacheFile, sourceCrc) : undefined;
  // esbuild writes ASCII (escapes in strings, no comments when minified): latin1 makes the same one-byte string faster.
  const source = typeof isAscii === 'function' && isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const script = new Script(wrap(source), { filename: file, cachedData });
  const use: CacheUse = cacheFile === undefined ? 'off'
    : cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'used';

  if (use === 'none' || use === 'rejected') {
    process.once(COMPILE_CACHE_WARM_EVENT, () => {
      try {
        if (dir === undefined || cacheFile === undefined || !isOwnFolder(dir, true)) return;
        writeCacheFile(cacheFile, sourceCrc, script.createCachedData());
        pruneStale(dir, cacheFile);
      } catch {
        // only costs the compile next time
      }
    });
  }
  const moduleRequire = createRequire(file);
  const mod = { exports: {} as unknown, filename: file, id: file, path: dirname(file), loaded: false, require: moduleRequire };
  const compiled = script.runInThisContext() as (...args: unknown[]) => void;
  compiled.call(mod.exports, mod.exports, moduleRequire, mod, file, dirname(file));
  mod.loaded = true;
  return use;
}
