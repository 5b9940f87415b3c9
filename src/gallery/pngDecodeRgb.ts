/**
 * A quick PNG → RGB decoder for thumbnails: the common case only (8-bit grey, grey+alpha, RGB or RGBA, not
 * interlaced), inflated by Node's native zlib and unfiltered row by row (PNG spec §9). Anything else returns
 * undefined and the caller uses the engine's full decoder. Transparency is composited onto white, as the engine's
 * decoder does. Bounded: at most THUMB_MAX_PIXELS, and inflating stops at the size the header needs. No `vscode` import.
 */
import { inflateSync } from 'node:zlib';
import { hasPngSignature } from '../engine/image';

/** Channels per colour type this decoder takes. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

export interface RgbPicture {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
}

/** The most pixels a thumbnail is made from (a 4096² image; real outputs are far smaller). */
export const THUMB_MAX_PIXELS = 16 * 1024 * 1024;

/** The IDAT data of a PNG, concatenated, or undefined when its chunks run past the end. */
function idatOf(png: Uint8Array, view: DataView): Buffer | undefined {
  const parts: Uint8Array[] = [];
  for (let offset = 8; offset + 8 <= png.length;) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(png[offset + 4], png[offset + 5], png[offset + 6], png[offset + 7]);
    if (offset + 12 + length > png.length) return undefined;
    if (type === 'IDAT') parts.push(png.subarray(offset + 8, offset + 8 + length));
    if (type === 'IEND') break;
    offset += 12 + length;
  }
  return Buffer.concat(parts);
}

/**
 * Checks that a PNG is one a thumbnail may be made from, whatever decodes it: at most THUMB_MAX_PIXELS, and image
 * data that inflates to no more than its declared size needs (a small file must not inflate to gigabytes on the
 * extension host). Throws a one-line reason; does nothing for what is not a PNG.
 */
export function checkPngForThumbnail(png: Uint8Array): void {
  if (png.length < 33 || !hasPngSignature(png)) return;
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width * height > THUMB_MAX_PIXELS) throw new Error(`${width}×${height} is over the ${THUMB_MAX_PIXELS / 1024 / 1024} megapixel limit for thumbnails`);
  const idat = idatOf(png, view);
  if (!idat) return; // truncated: the decoder says so
  // the largest raw size any PNG of this size can have: 8 bytes a pixel (16-bit RGBA), a filter byte a row, and
  // Adam7's seven passes each adding a filter byte a row at most
  const bound = height * (width * 8 + 1) + 7 * height;
  try {
    inflateSync(idat, { maxOutputLength: bound + 1 });
  } catch (err) {
    if (err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new Error(`its image data inflates past the ${width}×${height} it declares`);
    }
    // corrupt data: the decoder says so
  }
}

/**
 * Decodes the common case (see the header), or undefined for what it does not handle. Throws a one-line reason for
 * an image over THUMB_MAX_PIXELS or whose data inflates past what its size needs (inflating stops there).
 */
export function decodePngRgbQuick(png: Uint8Array): RgbPicture | undefined {
  if (png.length < 33 || !hasPngSignature(png)) return undefined;
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = png[24];
  const colourType = png[25];
  const interlace = png[28];
  const channels = CHANNELS[colourType];
  if (width * height > THUMB_MAX_PIXELS) throw new Error(`${width}×${height} is over the ${THUMB_MAX_PIXELS / 1024 / 1024} megapixel limit for thumbnails`);
  if (depth !== 8 || channels === undefined || interlace !== 0 || width === 0 || height === 0) return undefined;
  const idat = idatOf(png, view);
  if (!idat) return undefined;
  const stride = width * channels;
  const needed = height * (stride + 1);
  let raw: Uint8Array;
  try {
    raw = inflateSync(idat, { maxOutputLength: needed });
  } catch (err) {
    if (err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new Error(`its image data inflates past the ${width}×${height} it declares`);
    }
    return undefined;
  }
  if (raw.length < needed) return undefined;
  const rows = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const out = y * stride;
    const prev = out - stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? rows[out + x - channels] : 0;
      const b = y > 0 ? rows[prev + x] : 0;
      const c = x >= channels && y > 0 ? rows[prev + x - channels] : 0;
      let v = raw[src + x];
      switch (filter) {
        case 0: break;
        case 1: v += a; break;
        case 2: v += b; break;
        case 3: v += (a + b) >> 1; break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: return undefined;
      }
      rows[out + x] = v & 255;
    }
  }
  if (channels === 3) return { width, height, rgb: rows };
  const rgb = new Uint8Array(width * height * 3);
  const grey = channels <= 2;
  const alphaAt = channels === 2 ? 1 : channels === 4 ? 3 : -1;
  for (let i = 0, j = 0; i < width * height; i++, j += channels) {
    const alpha = alphaAt < 0 ? 255 : rows[j + alphaAt];
    const onWhite = (v: number): number => Math.round((v * alpha + 255 * (255 - alpha)) / 255);
    rgb[i * 3] = onWhite(rows[j]);
    rgb[i * 3 + 1] = onWhite(grey ? rows[j] : rows[j + 1]);
    rgb[i * 3 + 2] = onWhite(grey ? rows[j] : rows[j + 2]);
  }
  return { width, height, rgb };
}
