/**
 * The gallery's list of images: every PNG in the output folders (and their sub-folders, two levels down), newest
 * first, each with what its `parameters` text says (prompt, model, sampler, seed) read from the file's head only.
 * What was read is cached by path, size and mtime (in memory, and in a JSON file in the extension's storage for the
 * next window), so a rescan after a change reads only new or changed files. Asynchronous throughout: the extension
 * host keeps answering while thousands of files are read. No `vscode` import.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseInfotext } from '../engine/infotext';
import { oneLine, samplerLabel } from '../common/infotextSummary';
import type { GalleryItem } from '../protocol/galleryMessages';
import { readPngHead } from '../markdown/pngHead';

/** How deep below an output folder PNGs are looked for. */
const MAX_DEPTH = 2;
/** The most images listed (the newest); a folder with more is still fast, the rest is left out with a notice. */
export const MAX_ITEMS = 50_000;
/** The head of each file read for its parameters. */
const HEAD_BYTES = 64 * 1024;
/** The cache file's format; 2: samplers summed up by src/common/infotextSummary.ts ("DPM++ 2M (Karras)"). */
const CACHE_VERSION = 2;
/** Files stat'ed or read per turn of the event loop. */
const YIELD_EVERY = 100;

interface CachedHead {
  readonly size: number;
  readonly mtimeMs: number;
  readonly width: number;
  readonly height: number;
  readonly prompt: string;
  readonly model: string;
  readonly sampler: string;
  readonly seed: string;
}

export interface ScanResult {
  readonly items: GalleryItem[];
  /** Files read this scan (not served from the cache). */
  readonly read: number;
  /** Images past MAX_ITEMS left out. */
  readonly leftOut: number;
}

export class GalleryIndex {
  private cache = new Map<string, CachedHead>();
  private cacheLoaded = false;

  /** `cacheFile`: where the heads read are kept between windows (undefined: memory only). */
  constructor(private readonly cacheFile: string | undefined, private readonly label: (file: string) => string = (f) => f) {}

  /**
   * Lists the PNGs of `folders`, newest first, without blocking the extension host: the folders are read with
   * fs.promises, a batch of YIELD_EVERY files at a time, returning to the event loop between batches. `onFirstPage`
   * gets the newest `firstPage` items as soon as their heads are read (the first screen need not wait for thousands
   * of older files), and the scan returns to the event loop right after it, so the webview's thumbnail requests are
   * answered while the older files are read. `pause`, when given, is awaited between batches after the first page
   * (the panel holds the scan there while it makes the thumbnails on screen).
   */
  async scan(folders: readonly string[], onFirstPage?: (items: GalleryItem[]) => void, firstPage = 120, pause?: () => Promise<void>): Promise<ScanResult> {
    await this.loadCache();
    const files: Array<{ file: string; size: number; mtimeMs: number }> = [];
    const seen = new Set<string>();
    const walk = async (dir: string, depth: number): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fs.promises.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      const pngs: string[] = [];
      for (const entry of entries) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (depth < MAX_DEPTH && !entry.name.startsWith('.')) await walk(file, depth + 1);
        } else if (entry.isFile() && /\.png$/i.test(entry.name) && !seen.has(file)) {
          seen.add(file);
          pngs.push(file);
        }
      }
      for (let i = 0; i < pngs.length; i += YIELD_EVERY) {
        const stats = await Promise.all(pngs.slice(i, i + YIELD_EVERY).map((file) => fs.promises.stat(file).then(
          (st) => ({ file, size: st.size, mtimeMs: st.mtimeMs }), () => undefined))); // undefined: gone meanwhile
        for (const st of stats) if (st) files.push(st);
      }
    };
    for (const folder of folders) await walk(folder, 0);
    files.sort((a, b) => b.mtimeMs - a.mtimeMs || (a.file < b.file ? -1 : 1));
    const kept = files.slice(0, MAX_ITEMS);
    let read = 0;
    const next = new Map<string, CachedHead>();
    const items: GalleryItem[] = [];
    const headOf = async ({ file, size, mtimeMs }: { file: string; size: number; mtimeMs: number }): Promise<CachedHead> => {
      const cached = this.cache.get(file);
      if (cached && cached.size === size && cached.mtimeMs === mtimeMs) return cached;
      read++;
      return readHead(file, size, mtimeMs);
    };
    // the first page alone, then the rest in batches: each batch's heads are read concurrently
    for (let i = 0; i < kept.length;) {
      const batch = kept.slice(i, i + (i < firstPage ? firstPage - i : YIELD_EVERY));
      const heads = await Promise.all(batch.map(headOf));
      batch.forEach(({ file, mtimeMs }, j) => {
        const head = heads[j];
        next.set(file, head);
        items.push({ path: file, label: this.label(file), mtimeMs, width: head.width, height: head.height, prompt: head.prompt, model: head.model, sampler: head.sampler, seed: head.seed });
      });
      i += batch.length;
      if (items.length === firstPage && kept.length > firstPage) onFirstPage?.([...items]);
      await yieldToEventLoop();
      if (pause) await pause();
    }
    const changed = read > 0 || next.size !== this.cache.size;
    this.cache = next;
    if (changed) await this.saveCache();
    return { items, read, leftOut: files.length - kept.length };
  }

  private async loadCache(): Promise<void> {
    if (this.cacheLoaded || this.cacheFile === undefined) return;
    this.cacheLoaded = true;
    try {
      const raw = JSON.parse(await fs.promises.readFile(this.cacheFile, 'utf8')) as { version?: unknown; entries?: unknown } | null;
      if (raw?.version !== CACHE_VERSION || !Array.isArray(raw.entries)) return; // another version's summaries: read again
      for (const entry of raw.entries as unknown[]) {
        if (Array.isArray(entry) && typeof entry[0] === 'string' && isHead(entry[1])) this.cache.set(entry[0], entry[1]);
      }
    } catch {
      // no cache yet, or unreadable: read the files
    }
  }

  private async saveCache(): Promise<void> {
    if (this.cacheFile === undefined) return;
    try {
      await fs.promises.mkdir(path.dirname(this.cacheFile), { recursive: true });
      const tmp = `${this.cacheFile}.${process.pid}.${++saveCount}.tmp`;
      await fs.promises.writeFile(tmp, JSON.stringify({ version: CACHE_VERSION, entries: [...this.cache] }));
      await fs.promises.rename(tmp, this.cacheFile);
    } catch {
      // a cache that cannot be written only costs a slower next scan
    }
  }
}

let saveCount = 0;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function readHead(file: string, size: number, mtimeMs: number): Promise<CachedHead> {
  try {
    const head = await readPngHead(file, HEAD_BYTES);
    const infotext = head.text.parameters;
    if (infotext === undefined) return { size, mtimeMs, width: head.width, height: head.height, prompt: '', model: '', sampler: '', seed: '' };
    const { prompt, params } = parseInfotext(infotext);
    return { size, mtimeMs, width: head.width, height: head.height, prompt: oneLine(prompt), model: params.Model ?? '', sampler: samplerLabel(params), seed: params.Seed ?? '' };
  } catch {
    return { size, mtimeMs, width: 0, height: 0, prompt: '', model: '', sampler: '', seed: '' };
  }
}

function isHead(v: unknown): v is CachedHead {
  if (typeof v !== 'object' || v === null) return false;
  const h = v as Record<string, unknown>;
  return typeof h.size === 'number' && typeof h.mtimeMs === 'number' && typeof h.width === 'number' && typeof h.height === 'number'
    && typeof h.prompt === 'string' && typeof h.model === 'string' && typeof h.sampler === 'string' && typeof h.seed === 'string';
}
