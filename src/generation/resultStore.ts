/**
 * The host's copy of every result it has not saved into the workspace (auto-save off, no workspace folder, or a
 * save that failed), in the extension's storage: `<id>.png` (the engine's PNG, parameters chunk included) beside
 * `<id>.json` (what the panel needs to act on it). The webview's restored state refers to results by id, so after a
 * window reload Save / Insert / Open still find the image here. Once saved, the PNG copy goes and the JSON keeps
 * the saved file's path (saved results refer to their file). Bounded by count, bytes and age; oldest dropped first.
 * No `vscode` import. All writes go through one chain, so a Save during the first write waits for it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JobSource, PanelParams } from '../protocol/webviewMessages';
import type { FinishedImage } from './generationService';

export interface StoredResult {
  readonly imageId: string;
  readonly jobId: number;
  readonly source: JobSource;
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  readonly infotext: string;
  readonly params: PanelParams;
  /** The saved file (absolute), or null while only this store holds the PNG. */
  readonly savedPath: string | null;
  /** When it was made (ms since the epoch); age limits count from here. */
  readonly createdMs: number;
  /** The PNG's size in bytes (0 once saved: the copy is gone). */
  readonly bytes: number;
}

export interface ResultStoreLimits {
  /** Unsaved results kept (their PNGs). */
  readonly maxUnsaved: number;
  /** Bytes of unsaved PNGs kept. */
  readonly maxUnsavedBytes: number;
  /** Saved results remembered (a small JSON each). */
  readonly maxSaved: number;
  /** Older results are dropped, saved or not. */
  readonly maxAgeMs: number;
}

export const DEFAULT_RESULT_LIMITS: ResultStoreLimits = {
  maxUnsaved: 100, maxUnsavedBytes: 512 * 1024 * 1024, maxSaved: 500, maxAgeMs: 30 * 24 * 3600 * 1000,
};

const ID = /^[A-Za-z0-9-]{1,64}$/;

export class ResultStore {
  private index: Map<string, StoredResult> | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly limits: ResultStoreLimits = DEFAULT_RESULT_LIMITS,
    private readonly now: () => number = Date.now,
    private readonly onDropped: (result: StoredResult, why: string) => void = () => undefined,
  ) {}

  /** Keeps an image that is not saved yet (a saved one is remembered by its path only). */
  keep(image: FinishedImage): Promise<void> {
    return this.enqueue(async () => {
      const index = await this.load();
      const entry: StoredResult = {
        imageId: checkId(image.imageId), jobId: image.jobId, source: image.source, seed: image.image.seed,
        width: image.image.width, height: image.image.height, infotext: image.image.infotext, params: image.params,
        savedPath: image.savedPath, createdMs: this.now(), bytes: image.savedPath === null ? image.image.png.byteLength : 0,
      };
      if (entry.savedPath === null) await writeAtomic(this.pngPath(entry.imageId), image.image.png);
      await this.writeMeta(entry);
      index.set(entry.imageId, entry);
      await this.prune(index);
    });
  }

  /** The image was saved at `savedPath`: the PNG copy is removed, the path remembered. Unknown ids are remembered too. */
  markSaved(image: FinishedImage, savedPath: string): Promise<void> {
    return this.enqueue(async () => {
      const index = await this.load();
      const old = index.get(image.imageId);
      const entry: StoredResult = old
        ? { ...old, savedPath, bytes: 0 }
        : {
          imageId: checkId(image.imageId), jobId: image.jobId, source: image.source, seed: image.image.seed,
          width: image.image.width, height: image.image.height, infotext: image.image.infotext, params: image.params,
          savedPath, createdMs: this.now(), bytes: 0,
        };
      await this.writeMeta(entry);
      index.set(entry.imageId, entry);
      await fs.promises.rm(this.pngPath(entry.imageId), { force: true });
      await this.prune(index);
    });
  }

  /** Forgets a result and removes its PNG copy (the user discarded it). */
  discard(imageId: string): Promise<boolean> {
    return this.enqueue(async () => {
      const index = await this.load();
      if (!ID.test(imageId) || !index.has(imageId)) return false;
      await this.remove(index, imageId);
      return true;
    });
  }

  /**
   * The image as the panel needs it: an unsaved one with its PNG bytes from here, a saved one with its path and
   * empty PNG bytes (its file is the copy). Undefined for an id this store does not hold (or no longer).
   */
  find(imageId: string): Promise<FinishedImage | undefined> {
    return this.enqueue(async () => {
      const entry = ID.test(imageId) ? (await this.load()).get(imageId) : undefined;
      if (!entry) return undefined;
      let png = new Uint8Array(0);
      if (entry.savedPath === null) {
        try {
          png = new Uint8Array(await fs.promises.readFile(this.pngPath(imageId)));
        } catch {
          return undefined;
        }
      }
      return {
        imageId: entry.imageId, jobId: entry.jobId, source: entry.source, params: entry.params, savedPath: entry.savedPath,
        image: { seed: entry.seed, width: entry.width, height: entry.height, infotext: entry.infotext, png },
      };
    });
  }

  /** What the store holds, oldest first (tests and diagnostics). */
  list(): Promise<StoredResult[]> {
    return this.enqueue(async () => [...(await this.load()).values()]);
  }

  /** Waits for the writes queued so far. */
  flush(): Promise<void> {
    return this.enqueue(async () => undefined);
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Reads the index once: every readable `<id>.json`; unreadable or orphaned files are removed. */
  private async load(): Promise<Map<string, StoredResult>> {
    if (this.index) return this.index;
    const index = new Map<string, StoredResult>();
    await fs.promises.mkdir(this.dir, { recursive: true });
    const names = await fs.promises.readdir(this.dir);
    const entries: StoredResult[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const entry = parseMeta(await fs.promises.readFile(path.join(this.dir, name), 'utf8').catch(() => ''));
      if (entry && `${entry.imageId}.json` === name) entries.push(entry);
      else await fs.promises.rm(path.join(this.dir, name), { force: true });
    }
    entries.sort((a, b) => a.createdMs - b.createdMs);
    for (const e of entries) index.set(e.imageId, e);
    for (const name of names) {
      const id = name.replace(/\.(png|json)$/, '');
      const orphanPng = name.endsWith('.png') && index.get(id)?.savedPath !== null;
      const leftover = !name.endsWith('.png') && !name.endsWith('.json'); // an interrupted write's temp file
      if (orphanPng || leftover) await fs.promises.rm(path.join(this.dir, name), { force: true });
    }
    this.index = index;
    await this.prune(index);
    return index;
  }

  /** Drops what is too old, then the oldest unsaved past the count/byte limits, then the oldest saved past theirs. */
  private async prune(index: Map<string, StoredResult>): Promise<void> {
    const oldest = this.now() - this.limits.maxAgeMs;
    for (const e of [...index.values()]) {
      if (e.createdMs < oldest) await this.drop(index, e, 'older than the age limit');
    }
    const unsaved = [...index.values()].filter((e) => e.savedPath === null);
    let bytes = unsaved.reduce((sum, e) => sum + e.bytes, 0);
    let count = unsaved.length;
    for (const e of unsaved) {
      if (count <= this.limits.maxUnsaved && bytes <= this.limits.maxUnsavedBytes) break;
      await this.drop(index, e, 'past the limit of unsaved results kept');
      count--;
      bytes -= e.bytes;
    }
    const saved = [...index.values()].filter((e) => e.savedPath !== null);
    for (const e of saved.slice(0, Math.max(0, saved.length - this.limits.maxSaved))) await this.remove(index, e.imageId);
  }

  private async drop(index: Map<string, StoredResult>, entry: StoredResult, why: string): Promise<void> {
    await this.remove(index, entry.imageId);
    if (entry.savedPath === null) this.onDropped(entry, why);
  }

  private async remove(index: Map<string, StoredResult>, imageId: string): Promise<void> {
    index.delete(imageId);
    await fs.promises.rm(this.pngPath(imageId), { force: true });
    await fs.promises.rm(path.join(this.dir, `${imageId}.json`), { force: true });
  }

  private async writeMeta(entry: StoredResult): Promise<void> {
    await writeAtomic(path.join(this.dir, `${entry.imageId}.json`), Buffer.from(JSON.stringify(entry)));
  }

  private pngPath(imageId: string): string {
    return path.join(this.dir, `${checkId(imageId)}.png`);
  }
}

function checkId(imageId: string): string {
  if (!ID.test(imageId)) throw new Error(`expected an image id of letters, digits and '-', got ${JSON.stringify(imageId)}`);
  return imageId;
}

async function writeAtomic(target: string, data: Uint8Array): Promise<void> {
  await fs.promises.mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  await fs.promises.writeFile(tmp, data);
  await fs.promises.rename(tmp, target);
}

function parseMeta(text: string): StoredResult | undefined {
  try {
    const v = JSON.parse(text) as Partial<StoredResult> | null;
    if (!v || typeof v.imageId !== 'string' || !ID.test(v.imageId) || typeof v.createdMs !== 'number'
      || typeof v.seed !== 'number' || typeof v.params !== 'object' || v.params === null
      || !(v.savedPath === null || typeof v.savedPath === 'string')) return undefined;
    return {
      imageId: v.imageId, jobId: typeof v.jobId === 'number' ? v.jobId : 0, source: v.source === 'altText' || v.source === 'document' ? v.source : 'panel',
      seed: v.seed, width: Number(v.width) || 0, height: Number(v.height) || 0, infotext: typeof v.infotext === 'string' ? v.infotext : '',
      params: v.params, savedPath: v.savedPath, createdMs: v.createdMs, bytes: Number(v.bytes) || 0,
    };
  } catch {
    return undefined;
  }
}
