/**
 * Gallery thumbnails, made on demand and cached in the extension's storage: the image decoded (pngDecodeRgb.ts for
 * common PNGs, else the engine's decodeImage: other PNGs and JPEG), box-filtered down to fit THUMB_SIZE, encoded as a small PNG under a name derived from the file's
 * path, size and mtime (a changed file gets a new thumbnail; old ones are pruned by count). No `vscode` import.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeImage, encodePng } from '../engine/image';
import { checkPngForThumbnail, decodePngRgbQuick } from './pngDecodeRgb';
import { shrinkToFit } from '../common/shrinkToFit';

export const THUMB_SIZE = 192;
/** Files bigger than this are not decoded for a thumbnail. */
export const THUMB_MAX_FILE_BYTES = 64 * 1024 * 1024;
/** Thumbnails kept in the cache folder; the oldest go first. */
const MAX_CACHED = 20_000;

export class ThumbnailCache {
  private made = 0;

  constructor(private readonly dir: string, private readonly size = THUMB_SIZE) {}

  /** The thumbnail PNG of an image file (from the cache when it is there), or throws a one-line reason. */
  thumbnail(file: string): Uint8Array {
    const st = fs.statSync(file);
    const key = crypto.createHash('sha1').update(`${file}\n${st.size}\n${st.mtimeMs}\n${this.size}`).digest('hex');
    const cached = path.join(this.dir, `${key}.png`);
    try {
      return fs.readFileSync(cached);
    } catch {
      // not made yet
    }
    if (st.size > THUMB_MAX_FILE_BYTES) throw new Error(`${path.basename(file)} is larger than ${THUMB_MAX_FILE_BYTES / 1024 / 1024} MB`);
    const bytes = fs.readFileSync(file);
    let picture;
    try {
      picture = decodePngRgbQuick(bytes);
      if (!picture) checkPngForThumbnail(bytes); // the engine's decoder inflates without a bound: check first
    } catch (err) {
      throw new Error(`${path.basename(file)}: ${(err as Error).message}`);
    }
    const small = shrinkToFit(picture ?? decodeImage(bytes, path.basename(file)), this.size);
    const png = encodePng(small.rgb, small.width, small.height);
    fs.mkdirSync(this.dir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, png);
    fs.renameSync(tmp, cached);
    if (++this.made % 500 === 0) this.prune();
    return png;
  }

  /** Keeps the newest MAX_CACHED thumbnails. */
  prune(max = MAX_CACHED): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir).filter((n) => n.endsWith('.png'));
    } catch {
      return;
    }
    if (names.length <= max) return;
    const dated = names.map((n) => ({ n, t: fs.statSync(path.join(this.dir, n)).mtimeMs })).sort((a, b) => a.t - b.t);
    for (const { n } of dated.slice(0, dated.length - max)) fs.rmSync(path.join(this.dir, n), { force: true });
  }
}
