/**
 * fp32 copies of fp16 model components for the CPU provider (fp32Copy.ts), kept in a cache folder beside the LoRA
 * cache (~/.cache/inline-diffusion/fp32): one entry per source file (keyed by its path), made once, reused while the
 * source's folder is unchanged (sizes and mtimes), rebuilt when it changed or when the copy is truncated or its graph
 * altered, the least recently used entries evicted past a size limit (networkSet.ts's evict). A large fp32 source
 * (weights inside the graph file, VERDICT_MIN_BYTES and up) is remembered as such (a manifest without files), so it is
 * read once, not at every load; smaller graphs are read and checked each time (no entry for them). The user's files
 * are only read.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, statfs, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { writeFp32Copy, isFp16Graph } from './fp32Copy';
import { evict } from './networkSet';

/** Default size limit of the fp32-copy cache: an SDXL's UNet and text encoders in fp32 (≈ 13 GB) and an SD 1.5. */
export const DEFAULT_FP32_CACHE_LIMIT = 20 * 1024 ** 3;

/** The copies are made for the CPU provider only: CUDA, DirectML and CoreML have fp16 kernels, the fp16 graph is theirs. */
export function wantsFp32Copy(executionProvider: string): boolean {
  return executionProvider === 'cpu';
}

export interface Fp32CopyRequest {
  /** The component's model file (its external data beside it). */
  readonly source: string;
  readonly cacheDir: string;
  readonly cacheLimitBytes?: number;
  readonly log?: (message: string) => void;
}

export type Fp32CopyResult =
  | { readonly kind: 'fp32-source' }
  | {
    readonly kind: 'copy';
    /** The copy's graph file, its weights in `file` + '.data'. */
    readonly file: string;
    /** Graph and data bytes of the copy. */
    readonly bytes: number;
    /** True when this call wrote it (the first load); false when it came from the cache. */
    readonly built: boolean;
    readonly ms: number;
  };

interface Manifest {
  readonly v: 1;
  readonly source: string;
  readonly stamp: string;
  readonly fp16: boolean;
  readonly graphBytes?: number;
  readonly dataBytes?: number;
  /** sha256 of the copy's graph file (small: the weights are in the data file). */
  readonly graphSha?: string;
}

/** fp32 graph files from this size up get an entry saying so (reading them whole at every load would cost). */
const VERDICT_MIN_BYTES = 64 * 1024 ** 2;

const GRAPH = 'model.onnx';
const DATA = `${GRAPH}.data`;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Sizes and mtimes of the files in the source's folder (the graph and its external data). */
async function folderStamp(source: string): Promise<string> {
  const dir = dirname(source);
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name).sort();
  const parts: string[] = [];
  for (const name of names) {
    const s = await stat(join(dir, name));
    parts.push(`${name}:${s.size}:${s.mtimeMs}`);
  }
  return parts.join('|');
}

async function readManifest(file: string): Promise<Manifest | undefined> {
  try {
    const m = JSON.parse(await readFile(file, 'utf8')) as Manifest;
    return m.v === 1 && typeof m.stamp === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the entry's copy is whole: data file of the recorded size, graph file with the recorded hash. */
async function copyIntact(dir: string, m: Manifest): Promise<boolean> {
  try {
    if ((await stat(join(dir, DATA))).size !== m.dataBytes) return false;
    const graph = new Uint8Array(await readFile(join(dir, GRAPH)));
    return graph.length === m.graphBytes && sha256(graph) === m.graphSha;
  } catch {
    return false;
  }
}

/** Writes an entry into a fresh folder and moves it into place (a crash leaves no half-written entry in use). */
async function writeEntry(cacheDir: string, dir: string, fill: (tmp: string) => Promise<Manifest>): Promise<Manifest> {
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${dir}.partial-${process.pid}-${Date.now()}`;
  try {
    await mkdir(tmp, { recursive: true });
    const manifest = await fill(tmp);
    await writeFile(join(tmp, 'manifest.json'), JSON.stringify(manifest));
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    return manifest;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * The fp32 copy of `source` when it is an fp16 graph (from the cache, or made now), or 'fp32-source'. Throws a plain
 * Error saying why when no copy can be made (not enough disk, an unreadable graph): the caller loads the fp16 graph.
 */
/**
 * Graphs this process found to be fp32, by path, with their folder's stamp: a generation does not read and parse them
 * again (each generation asks for every component; a small fp32 graph has no cache entry to say so).
 */
const fp32Sources = new Map<string, string>();

function knownFp32(source: string, stamp: string): Fp32CopyResult {
  if (fp32Sources.size > 1000) fp32Sources.clear();
  fp32Sources.set(source, stamp);
  return { kind: 'fp32-source' };
}

export async function fp32CopyOf(req: Fp32CopyRequest): Promise<Fp32CopyResult> {
  const started = performance.now();
  const source = resolve(req.source);
  const key = sha256(new TextEncoder().encode(source)).slice(0, 32);
  const dir = join(req.cacheDir, key);
  const manifestFile = join(dir, 'manifest.json');
  const stamp = await folderStamp(source);
  if (fp32Sources.get(source) === stamp) return { kind: 'fp32-source' };
  const known = await readManifest(manifestFile);
  if (known !== undefined && known.source === source && known.stamp === stamp) {
    if (!known.fp16) return knownFp32(source, stamp);
    if (await copyIntact(dir, known)) {
      const now = new Date();
      await utimes(manifestFile, now, now).catch(() => undefined);
      return { kind: 'copy', file: join(dir, GRAPH), bytes: known.graphBytes! + known.dataBytes!, built: false, ms: performance.now() - started };
    }
    req.log?.(`fp32 copy of ${source} in ${dir} is incomplete or changed: making it again`);
  } else if (known !== undefined) req.log?.(`${source} changed since its fp32 copy was made: making it again`);
  const model = new Uint8Array(await readFile(source));
  if (!isFp16Graph(model)) {
    if (model.length >= VERDICT_MIN_BYTES) await writeEntry(req.cacheDir, dir, async () => ({ v: 1, source, stamp, fp16: false }));
    else if (known !== undefined) await rm(dir, { recursive: true, force: true }); // a copy of what is now an fp32 graph
    return knownFp32(source, stamp);
  }
  await rm(dir, { recursive: true, force: true }); // the old copy's disk is needed for the new one
  await checkDisk(req.cacheDir, source);
  const manifest = await writeEntry(req.cacheDir, dir, async (tmp) => {
    const stats = await writeFp32Copy(model, source, join(tmp, GRAPH));
    const graph = new Uint8Array(await readFile(join(tmp, GRAPH)));
    return { v: 1, source, stamp, fp16: true, graphBytes: stats.graphBytes, dataBytes: stats.dataBytes, graphSha: sha256(graph) };
  });
  await evict(req.cacheDir, key, req.cacheLimitBytes ?? DEFAULT_FP32_CACHE_LIMIT, req.log, 'fp32 cache');
  return { kind: 'copy', file: join(dir, GRAPH), bytes: manifest.graphBytes! + manifest.dataBytes!, built: true, ms: performance.now() - started };
}

/** Throws when the cache's disk has less free space than the copy needs (twice the fp16 source, plus a margin). */
async function checkDisk(cacheDir: string, source: string): Promise<void> {
  const dir = dirname(source);
  let sourceBytes = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) if (e.isFile()) sourceBytes += (await stat(join(dir, e.name))).size;
  await mkdir(cacheDir, { recursive: true });
  const fs = await statfs(cacheDir);
  const free = fs.bavail * fs.bsize;
  const need = 2 * sourceBytes + 256 * 1024 ** 2;
  if (free < need) {
    throw new Error(`not enough disk space for the fp32 copy in ${cacheDir}: ${(need / 1024 ** 3).toFixed(1)} GiB needed, `
      + `${(free / 1024 ** 3).toFixed(1)} GiB free`);
  }
}
