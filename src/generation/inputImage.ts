/**
 * The panel's input image for image to image (issue 17): a file, a pasted or dropped picture, or a result, read
 * into memory once — the original file is never written — checked from its header before any pixel is decoded
 * (format, size, animation), decoded as A1111's img2img prepares one (EXIF orientation applied, transparency
 * composited onto white) and shrunk to a preview for the webview. No `vscode` import: node tests load it.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RgbImage } from '../protocol/engineMessages';
import type { InputImageInfo } from '../protocol/webviewMessages';
import { decodeImage, encodePng, MAX_MEGAPIXELS, MAX_SIDE, readImageHeader } from '../engine/image';
import { shrinkToFit } from '../common/shrinkToFit';

/** The largest file (or pasted picture) read as an input image. */
export const INPUT_IMAGE_MAX_BYTES = 64 * 1024 * 1024;
/** The longest side of the preview the panel shows (and a mask editor paints over). */
export const INPUT_PREVIEW_SIZE = 512;

export interface InputImage {
  /** What the panel shows and sends back with Generate. */
  readonly info: InputImageInfo;
  /** The decoded picture the engine starts from. */
  readonly image: RgbImage;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 2 : 0)} MB`;
}

/**
 * An input image from a file's (or a paste's) bytes, or a one-line error naming `name`: not a PNG/JPEG, too large
 * (bytes, then the header's size — before decoding), unreadable. `notes` say what was converted.
 */
export function inputImageFromBytes(bytes: Uint8Array, name: string, source: InputImageInfo['source']): InputImage {
  if (bytes.length > INPUT_IMAGE_MAX_BYTES) {
    throw new Error(`${name}: ${megabytes(bytes.length)} is over the ${megabytes(INPUT_IMAGE_MAX_BYTES)} limit for input images`);
  }
  const header = readImageHeader(bytes, name);
  if (header.width * header.height > MAX_MEGAPIXELS * 1e6 || header.width > MAX_SIDE || header.height > MAX_SIDE) {
    throw new Error(`${name}: ${header.width}×${header.height} is too large for an input image (at most ${MAX_SIDE} pixels a side and ${MAX_MEGAPIXELS} megapixels)`);
  }
  const notes: string[] = [];
  if (header.frames > 1) notes.push(`an animated PNG of ${header.frames} frames: its first frame is used (as A1111 does)`);
  if (header.bitDepth === 16) notes.push('16 bits a sample, read as 8');
  if (header.color === 'rgba' || header.color === 'grey+alpha' || (header.format === 'png' && hasTransparencyChunk(bytes))) {
    notes.push('transparent parts filled with white (A1111\'s img2img background)');
  }
  if (header.orientation > 1) notes.push('turned upright by its EXIF orientation');
  if (header.color === 'cmyk') notes.push('a CMYK JPEG');
  const image = decodeImage(bytes, name);
  const small = shrinkToFit(image, INPUT_PREVIEW_SIZE);
  const preview = `data:image/png;base64,${Buffer.from(encodePng(small.rgb, small.width, small.height)).toString('base64')}`;
  const id = crypto.createHash('sha1').update(bytes).digest('hex').slice(0, 16);
  return { info: { id, name, width: image.width, height: image.height, preview, source, notes }, image };
}

/** A PNG's tRNS chunk before its image data (palette or colour-key transparency). */
function hasTransparencyChunk(png: Uint8Array): boolean {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let at = 8; at + 8 <= png.length;) {
    const type = String.fromCharCode(png[at + 4], png[at + 5], png[at + 6], png[at + 7]);
    if (type === 'tRNS') return true;
    if (type === 'IDAT' || type === 'IEND') return false;
    at += 12 + view.getUint32(at);
  }
  return false;
}

/** An input image from a file: its size checked before it is read (a copy is kept in memory; the file is only read). */
export async function inputImageFromFile(file: string): Promise<InputImage> {
  const name = path.basename(file);
  let size: number;
  try {
    const st = await fs.promises.stat(file);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch (err) {
    throw new Error(`cannot read ${name}: ${(err as Error).message.replace(/^[A-Z]+: /, '')}`);
  }
  if (size > INPUT_IMAGE_MAX_BYTES) {
    throw new Error(`${name}: ${megabytes(size)} is over the ${megabytes(INPUT_IMAGE_MAX_BYTES)} limit for input images`);
  }
  return inputImageFromBytes(await fs.promises.readFile(file), name, 'file');
}

/** The input images the panel may refer to, newest last; a few at most (each holds its decoded pixels). */
export class InputImageStore {
  private readonly images: InputImage[] = [];

  constructor(private readonly keep = 2) {}

  add(image: InputImage): InputImage {
    const at = this.images.findIndex((i) => i.info.id === image.info.id);
    if (at >= 0) this.images.splice(at, 1);
    this.images.push(image);
    while (this.images.length > this.keep) this.images.shift();
    return image;
  }

  get(id: string): InputImage | undefined {
    return this.images.find((i) => i.info.id === id);
  }

  get latest(): InputImage | undefined {
    return this.images[this.images.length - 1];
  }
}
