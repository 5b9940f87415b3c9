/**
 * A quick PNG → RGB decoder for thumbnails: the common case only (8-bit grey, grey+alpha, RGB or RGBA, not
 * interlaced), inflated by Node's native zlib and unfiltered row by row (PNG spec §9). Anything else returns
 * undefined and the caller uses the engine's full decoder. Transparency is composited onto white, as the engine's
 * decoder does. No `vscode` import.
 */
import { inflateSync } from 'node:zlib';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
/** Channels per colour type this decoder takes. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

export interface RgbPicture {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
}

export function decodePngRgbQuick(png: Uint8Array): RgbPicture | undefined {
  if (png.length < 33 || SIGNATURE.some((b, i) => png[i] !== b)) return undefined;
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = png[24];
  const colourType = png[25];
  const interlace = png[28];
  const channels = CHANNELS[colourType];
  if (depth !== 8 || channels === undefined || interlace !== 0 || width === 0 || height === 0 || width * height > 64e6) return undefined;
  const parts: Uint8Array[] = [];
  for (let offset = 8; offset + 8 <= png.length;) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(png[offset + 4], png[offset + 5], png[offset + 6], png[offset + 7]);
    if (offset + 12 + length > png.length) return undefined;
    if (type === 'IDAT') parts.push(png.subarray(offset + 8, offset + 8 + length));
    if (type === 'IEND') break;
    offset += 12 + length;
  }
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(parts));
  } catch {
    return undefined;
  }
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) return undefined;
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
