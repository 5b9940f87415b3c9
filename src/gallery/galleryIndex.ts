/**
 * The gallery's list of images: every PNG in the output folders (and their sub-folders, two levels down), newest
 * first, each with what its `parameters` text says (prompt, model, sampler, seed) read from the file's head only.
 * What was read is cached by path, size and mtime (in memory, and in a JSON file in the extension's storage for the
 * next window), so a rescan after a change reads only new or changed files. No `vscode` import.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseInfotext } from '../engine/infotext';
import type { GalleryItem } from '../protocol/galleryMessages';
import { readPngHeadSync } from '../markdown/pngHead';

/** How deep below an output folder PNGs are looked for. */
const MAX_DEPTH = 2;
/** The most images listed (the newest); a folder with more is still fast, the rest is left out with a notice. */
export const MAX_ITEMS = 50_000;
/** The head of each file read for its parameters. */
const HEAD_BYTES = 64 * 1024;

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
   * Lists the PNGs of `folders`, newest first. `onFirstPage` gets the newest `firstPage` items as soon as their heads
   * are read (the first screen need not wait for thousands of older files).
   */
  scan(folders: readonly string[], onFirstPage?: (items: GalleryItem[]) => void, firstPage = 120): ScanResult {
    this.loadCache();
    const files: Array<{ file: string; size: number; mtimeMs: number }> = [];
    const seen = new Set<string>();
    const walk = (dir: string, depth: number): void => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (depth < MAX_DEPTH && !entry.name.startsWith('.')) walk(file, depth + 1);
        } else if (entry.isFile() && /\.png$/i.test(entry.name) && !seen.has(file)) {
          seen.add(file);
          try {
            const st = fs.statSync(file);
            files.push({ file, size: st.size, mtimeMs: st.mtimeMs });
          } catch {
            // gone meanwhile
          }
        }
      }
    };
    for (const folder of folders) walk(folder, 0);
    files.sort((a, b) => b.mtimeMs - a.mtimeMs || (a.file < b.file ? -1 : 1));
    const kept = files.slice(0, MAX_ITEMS);
    let read = 0;
    const next = new Map<string, CachedHead>();
    const items: GalleryItem[] = [];
    for (const { file, size, mtimeMs } of kept) {
      let head = this.cache.get(file);
      if (!head || head.size !== size || head.mtimeMs !== mtimeMs) {
        head = readHead(file, size, mtimeMs);
        read++;
      }
      next.set(file, head);
      items.push({ path: file, label: this.label(file), mtimeMs, width: head.width, height: head.height, prompt: head.prompt, model: head.model, sampler: head.sampler, seed: head.seed });
      if (items.length === firstPage && kept.length > firstPage) onFirstPage?.([...items]);
    }
    const changed = read > 0 || next.size !== this.cache.size;
    this.cache = next;
    if (changed) this.saveCache();
    return { items, read, leftOut: files.length - kept.length };
  }

  private loadCache(): void {
    if (this.cacheLoaded || this.cacheFile === undefined) return;
    this.cacheLoaded = true;
    try {
      const raw = JSON.parse(fs.readFileSync(this.cacheFile, 'utf8')) as unknown;
      if (!Array.isArray(raw)) return;
      for (const entry of raw) {
        if (Array.isArray(entry) && typeof entry[0] === 'string' && isHead(entry[1])) this.cache.set(entry[0], entry[1]);
      }
    } catch {
      // no cache yet, or unreadable: read the files
    }
  }

  private saveCache(): void {
    if (this.cacheFile === undefined) return;
    try {
      fs.mkdirSync(path.dirname(this.cacheFile), { recursive: true });
      const tmp = `${this.cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify([...this.cache]));
      fs.renameSync(tmp, this.cacheFile);
    } catch {
      // a cache that cannot be written only costs a slower next scan
    }
  }
}

function readHead(file: string, size: number, mtimeMs: number): CachedHead {
  try {
    const head = readPngHeadSync(file, HEAD_BYTES);
    const infotext = head.text.parameters;
    if (infotext === undefined) return { size, mtimeMs, width: head.width, height: head.height, prompt: '', model: '', sampler: '', seed: '' };
    const { prompt, params } = parseInfotext(infotext);
    const sampler = params.Sampler ? `${params.Sampler}${params['Schedule type'] && params['Schedule type'] !== 'Automatic' ? ` ${params['Schedule type']}` : ''}` : '';
    return { size, mtimeMs, width: head.width, height: head.height, prompt: prompt.replace(/\s+/g, ' ').trim(), model: params.Model ?? '', sampler, seed: params.Seed ?? '' };
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
