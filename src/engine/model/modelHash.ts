/**
 * A1111's "Model hash" for an ONNX model folder: the first 10 hex chars of the sha256 of unet/model.onnx
 * (REFERENCE.md "PNG `parameters`"), computed streaming, cached in memory and in a small JSON file keyed by
 * path + size + mtime so a 1.7 GB UNet is hashed once per version of the file.
 */
import { type Stats, createReadStream, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ModelError } from './modelError';

const CACHE_FILE_NAME = 'inline-diffusion-model-hashes.json';
const memory = new Map<string, string>();

function cacheKey(file: string, st: Stats): string {
  return `${file}|${st.size}|${Math.round(st.mtimeMs)}`;
}

const HASH_RE = /^[0-9a-f]{10}$/;

function readCacheObject(cacheFile: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(readFileSync(cacheFile, 'utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : {};
  } catch {
    return {};
  }
}

/** The valid entries of the cache file (what writeCache keeps). */
function readCache(cacheFile: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, h] of Object.entries(readCacheObject(cacheFile))) if (typeof h === 'string' && HASH_RE.test(h)) out[k] = h;
  return out;
}

/** One entry of the cache file, if it is valid: only this one is checked (the file holds up to 200). */
function readCacheEntry(cacheFile: string, key: string): string | undefined {
  const v = readCacheObject(cacheFile);
  const h = Object.hasOwn(v, key) ? v[key] : undefined;
  return typeof h === 'string' && HASH_RE.test(h) ? h : undefined;
}

function writeCache(cacheFile: string, key: string, hash: string): void {
  try {
    const entries = readCache(cacheFile);
    entries[key] = hash;
    // Keep the file small: the 200 most recent entries (insertion order).
    const kept = Object.fromEntries(Object.entries(entries).slice(-200));
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    mkdirSync(dirname(cacheFile), { recursive: true });
    writeFileSync(tmp, JSON.stringify(kept));
    renameSync(tmp, cacheFile);
  } catch {
    // A cache that cannot be written only costs a re-hash next time.
  }
}

async function sha256File(file: string): Promise<string> {
  // Required on a cache miss only: node:crypto adds ~5 ms to every CLI start that would not hash.
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  const hash = createHash('sha256');
  const stream = createReadStream(file, { highWaterMark: 4 << 20 });
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * First 10 hex chars of sha256(dir/unet/model.onnx). `cacheDir` holds the cache file (default tmpdir()).
 */
export async function modelHash(dir: string, cacheDir: string = tmpdir()): Promise<string> {
  const file = resolve(dir, 'unet', 'model.onnx');
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    throw new ModelError('missing-file', file, `Missing ${file}: cannot compute the model hash`, { cause: e });
  }
  const key = cacheKey(file, st);
  const inMemory = memory.get(key);
  if (inMemory !== undefined) return inMemory;
  const cacheFile = join(cacheDir, CACHE_FILE_NAME);
  const cached = readCacheEntry(cacheFile, key);
  if (cached !== undefined) {
    memory.set(key, cached);
    return cached;
  }
  const hash = (await sha256File(file)).slice(0, 10);
  memory.set(key, hash);
  writeCache(cacheFile, key, hash);
  return hash;
}
