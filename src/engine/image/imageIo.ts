/**
 * Decodes an init image file (PNG via fast-png, JPEG via jpeg-js) to 8-bit RGB, the way A1111 prepares one
 * (`images.fix_image` + `flatten`): EXIF orientation applied, transparency composited onto white. The size limits
 * are checked from the header before anything is inflated. An animated PNG gives its default image (the first frame,
 * as PIL opens it); 16-bit samples keep their high byte (PIL clips a 16-bit grey PNG to white instead: we keep the
 * picture).
 */
import { readFileSync } from 'node:fs';
import { decode as decodePngPixels, type DecodedPng } from 'fast-png';
import { decode as decodeJpegPixels } from 'jpeg-js';
import type { RgbImage } from '../../protocol/engineMessages';
import { crc32Table, hasPngSignature } from './png';

export type ImageFormat = 'png' | 'jpeg' | 'bmp' | 'webp' | 'gif' | 'tiff' | 'heif' | 'unknown';

/** The largest image we decode, in megapixels (jpeg-js' own guard; also applied to PNG). */
export const MAX_MEGAPIXELS = 100;
/** The longest side we decode: the engine's LIMITS.initImageSideMax (src/engine/request.ts; a test keeps them equal). */
export const MAX_SIDE = 16_384;
/** A1111's img2img_background_color default, "#ffffff". */
const BACKGROUND = 255;

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  return prefix.every((b, i) => bytes[at + i] === b);
}

function ascii(text: string): number[] {
  return Array.from(text, (c) => c.charCodeAt(0));
}

/** The container format named by the file's first bytes. */
export function detectImageFormat(bytes: Uint8Array): ImageFormat {
  if (hasPngSignature(bytes)) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, ascii('BM'))) return 'bmp';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(bytes, ascii('GIF8'))) return 'gif';
  if (startsWith(bytes, ascii('II*\0')) || startsWith(bytes, ascii('MM\0*'))) return 'tiff';
  if (startsWith(bytes, ascii('ftyp'), 4)) return 'heif';
  return 'unknown';
}

const FORMAT_NAMES: Record<Exclude<ImageFormat, 'png' | 'jpeg'>, string> = {
  bmp: 'a BMP image', webp: 'a WebP image', gif: 'a GIF image', tiff: 'a TIFF image',
  heif: 'an HEIF/AVIF image', unknown: 'not a PNG or JPEG image',
};

/**
 * PNG or JPEG bytes → 8-bit RGB. `source` (a path or a name) prefixes errors.
 * Other formats are refused with what they are and what to convert to.
 */
export function decodeImage(bytes: Uint8Array, source = 'image'): RgbImage {
  const format = detectImageFormat(bytes);
  if (format === 'png') return decodePng(bytes, source);
  if (format === 'jpeg') return decodeJpeg(bytes, source);
  return unsupported(bytes, format, source);
}

/** Reads and decodes an image file (see decodeImage); synchronous, as decoding is anyway. */
export function readImageFile(path: string): RgbImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read image file ${path}: ${(err as Error).message}`);
  }
  return decodeImage(bytes, path);
}

function checkSize(width: number, height: number, source: string): void {
  if (width * height > MAX_MEGAPIXELS * 1e6) {
    throw new Error(`${source}: ${width}×${height} is over the ${MAX_MEGAPIXELS} megapixel limit for init images`);
  }
  if (width > MAX_SIDE || height > MAX_SIDE) {
    throw new Error(`${source}: ${width}×${height} has a side over the ${MAX_SIDE} pixel limit for init images`);
  }
}

/** What an image file's header says, read before any pixel is decoded. */
export interface ImageHeader {
  readonly format: 'png' | 'jpeg';
  readonly width: number;
  readonly height: number;
  /** PNG: the bit depth of a sample (1, 2, 4, 8 or 16); JPEG: 8. */
  readonly bitDepth: number;
  /** What its pixels hold: 'grey', 'grey+alpha', 'rgb', 'rgba', 'palette' (PNG), 'grey'/'rgb'/'cmyk' (JPEG by components). */
  readonly color: 'grey' | 'grey+alpha' | 'rgb' | 'rgba' | 'palette' | 'cmyk';
  /** An animated PNG (acTL before the first IDAT): its frame count; 1 for a still image. */
  readonly frames: number;
  /** JPEG's EXIF orientation (1…8; 1 when absent); PNG: 1. */
  readonly orientation: number;
}

const PNG_COLORS: Readonly<Record<number, ImageHeader['color']>> = { 0: 'grey', 2: 'rgb', 3: 'palette', 4: 'grey+alpha', 6: 'rgba' };

/**
 * The header of a PNG or JPEG: format, size, depth, colour, frames, orientation — without decoding pixels, so the
 * size limits apply before any memory is spent. Throws with `source` for other formats and unreadable headers.
 */
export function readImageHeader(bytes: Uint8Array, source = 'image'): ImageHeader {
  const format = detectImageFormat(bytes);
  if (format === 'png') {
    const size = pngHeaderSize(bytes);
    if (!size) throw new Error(`${source}: corrupt or unsupported PNG: no valid IHDR chunk at its start`);
    const color = PNG_COLORS[bytes[25]];
    if (color === undefined) throw new Error(`${source}: corrupt or unsupported PNG: colour type ${bytes[25]}`);
    return { format, ...size, bitDepth: bytes[24], color, frames: pngFrameCount(bytes), orientation: 1 };
  }
  if (format === 'jpeg') {
    const frame = readJpegFrame(bytes);
    if (!frame) throw new Error(`${source}: corrupt or unsupported JPEG: no frame header (SOF) before its image data`);
    const color = frame.components === 1 ? 'grey' : frame.components === 4 ? 'cmyk' : 'rgb';
    return { format, width: frame.width, height: frame.height, bitDepth: frame.precision, color, frames: 1, orientation: readJpegOrientation(bytes) };
  }
  return unsupported(bytes, format, source);
}

/** The frame count of an APNG's acTL chunk when it comes before the first IDAT (an animated PNG), else 1. */
function pngFrameCount(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    if (type === 'IDAT' || type === 'IEND') return 1;
    if (type === 'acTL' && length >= 8 && at + 16 <= bytes.length) return Math.max(1, view.getUint32(at + 8));
    at += 12 + length;
  }
  return 1;
}

/** A JPEG's SOFn segment: precision, size and component count, or undefined when none comes before the scan. */
function readJpegFrame(jpeg: Uint8Array): { precision: number; width: number; height: number; components: number } | undefined {
  const view = new DataView(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength);
  let at = 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
    const marker = jpeg[at + 1];
    if (marker === 0xff) { at++; continue; } // fill byte
    if (marker === 0xda || marker === 0xd9) return undefined;
    const length = view.getUint16(at + 2);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof && at + 10 <= jpeg.length) {
      return { precision: jpeg[at + 4], height: view.getUint16(at + 5), width: view.getUint16(at + 7), components: jpeg[at + 9] };
    }
    at += 2 + length;
  }
  return undefined;
}

function unsupported(bytes: Uint8Array, format: ImageFormat, source: string): never {
  const first = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  const what = format === 'unknown' ? `not a PNG or JPEG image (first bytes: ${first || 'none, the file is empty'})` : `${FORMAT_NAMES[format as Exclude<ImageFormat, 'png' | 'jpeg'>]}, an unsupported format`;
  throw new Error(`${source}: ${what}; use a PNG or JPEG image`);
}

// ---- PNG ----------------------------------------------------------------------------------------------------

/** Sample i of a row-packed low-bit-depth image (1, 2 or 4 bits), MSB first, rows padded to whole bytes. */
function packedSample(data: PngDataView, width: number, depth: number, index: number): number {
  const x = index % width;
  const y = (index - x) / width;
  const rowBytes = Math.ceil((width * depth) / 8);
  const bit = x * depth;
  const byte = data[y * rowBytes + (bit >> 3)];
  return (byte >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
}

type PngDataView = DecodedPng['data'];

/** Composites a sample over the white background: round((c·a + 255·(255 − a)) / 255), as PIL's paste with mask. */
function over(c: number, a: number): number {
  return Math.round((c * a + BACKGROUND * (255 - a)) / 255);
}

/**
 * Width and height from a PNG's IHDR (it must come first), read before anything is inflated; undefined when it
 * is absent or its CRC does not match (the decoder then says what is wrong).
 */
function pngHeaderSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 33 || String.fromCharCode(bytes[12], bytes[13], bytes[14], bytes[15]) !== 'IHDR') return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8) !== 13 || crc32Table(bytes.subarray(12, 29)) !== view.getUint32(29)) return undefined;
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

function decodePng(bytes: Uint8Array, source: string): RgbImage {
  const header = pngHeaderSize(bytes);
  if (header) checkSize(header.width, header.height, source); // before decoding: a small file may declare gigapixels
  let png: DecodedPng;
  try {
    png = decodePngPixels(bytes, { checkCrc: true });
  } catch (err) {
    throw new Error(`${source}: corrupt or unsupported PNG: ${(err as Error).message}`);
  }
  const { width, height, depth, channels, data, palette, transparency } = png;
  checkSize(width, height, source);
  const pixels = width * height;
  const out = new Uint8Array(pixels * 3);
  // 16-bit samples keep their high byte; 1/2/4-bit grey scales to 0..255.
  const sample = (i: number): number => (depth === 16 ? data[i] >> 8 : depth < 8 ? packedSample(data, width, depth, i) : data[i]);

  if (palette) {
    for (let p = 0; p < pixels; p++) {
      const color = palette[sample(p)];
      if (!color) throw new Error(`${source}: PNG pixel ${p} uses palette index ${sample(p)}, but the palette has ${palette.length} colours`);
      const a = color.length === 4 ? color[3] : 255;
      for (let c = 0; c < 3; c++) out[p * 3 + c] = over(color[c], a);
    }
    return { width, height, rgb: out };
  }

  const greyScale = depth < 8 ? 255 / ((1 << depth) - 1) : 1;
  // tRNS colour key (grey or RGB): pixels equal to it are transparent.
  const key = transparency && transparency.length > 0 ? transparency : undefined;
  for (let p = 0; p < pixels; p++) {
    const at = p * channels;
    let isKeyed = key !== undefined;
    if (key) for (let c = 0; c < key.length; c++) isKeyed &&= (depth < 8 ? packedSample(data, width, depth, at + c) : data[at + c]) === key[c];
    if (channels <= 2) {
      const grey = Math.round(sample(at) * greyScale);
      const a = channels === 2 ? sample(at + 1) : isKeyed ? 0 : 255;
      out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = over(grey, a);
    } else {
      const a = channels === 4 ? sample(at + 3) : isKeyed ? 0 : 255;
      for (let c = 0; c < 3; c++) out[p * 3 + c] = over(sample(at + c), a);
    }
  }
  return { width, height, rgb: out };
}

// ---- JPEG ---------------------------------------------------------------------------------------------------

function decodeJpeg(bytes: Uint8Array, source: string): RgbImage {
  const frame = readJpegFrame(bytes);
  if (frame) checkSize(frame.width, frame.height, source); // before decoding, as for PNG
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = decodeJpegPixels(bytes, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: 1024 });
  } catch (err) {
    throw new Error(`${source}: corrupt or unsupported JPEG: ${(err as Error).message}`);
  }
  const image = { width: decoded.width, height: decoded.height, rgb: decoded.data };
  return applyExifOrientation(image, readJpegOrientation(bytes));
}

/** EXIF Orientation (tag 0x0112 of IFD0 in the APP1 "Exif" segment), 1 when absent or unreadable. */
export function readJpegOrientation(jpeg: Uint8Array): number {
  const view = new DataView(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength);
  let at = 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
    const marker = jpeg[at + 1];
    if (marker === 0xda || marker === 0xd9) break; // start of scan / end of image
    const length = view.getUint16(at + 2);
    const body = at + 4;
    if (marker === 0xe1 && startsWith(jpeg, ascii('Exif\0\0'), body)) {
      return readTiffOrientation(view, body + 6, Math.min(jpeg.length, at + 2 + length));
    }
    at += 2 + length;
  }
  return 1;
}

function readTiffOrientation(view: DataView, tiff: number, end: number): number {
  if (tiff + 8 > end) return 1;
  const order = view.getUint16(tiff);
  if (order !== 0x4949 && order !== 0x4d4d) return 1;
  const isLittle = order === 0x4949;
  const ifd = tiff + view.getUint32(tiff + 4, isLittle);
  if (ifd + 2 > end) return 1;
  const count = view.getUint16(ifd, isLittle);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > end) return 1;
    if (view.getUint16(entry, isLittle) === 0x0112) {
      const value = view.getUint16(entry + 8, isLittle);
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}

/**
 * Turns an image stored with EXIF orientation 1..8 upright, as PIL's ImageOps.exif_transpose
 * (2 mirror, 3 rotate 180°, 4 flip, 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise).
 */
export function applyExifOrientation(image: RgbImage, orientation: number): RgbImage {
  if (orientation < 2 || orientation > 8) return image;
  const { width: w, height: h, rgb } = image;
  const isSwapped = orientation >= 5;
  const outW = isSwapped ? h : w;
  const outH = isSwapped ? w : h;
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      let sx: number, sy: number;
      switch (orientation) {
        case 2: sx = w - 1 - x; sy = y; break;
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;
        case 4: sx = x; sy = h - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = h - 1 - x; break;
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;
        default: sx = w - 1 - y; sy = x; break; // 8
      }
      const s = (sy * w + sx) * 3;
      const d = (y * outW + x) * 3;
      out[d] = rgb[s]; out[d + 1] = rgb[s + 1]; out[d + 2] = rgb[s + 2];
    }
  }
  return { width: outW, height: outH, rgb: out };
}
