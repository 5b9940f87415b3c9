/**
 * Reads what a PNG says about itself (size and text chunks) from the start of the file only: at most `maxBytes` are
 * read, the chunks before the first IDAT are kept, and the engine's readPngText checks them (signature, layout, every
 * CRC) on a copy closed with IEND. Text chunks after the image data are not seen (ours and AUTOMATIC1111's come
 * before it). Hovers and the gallery read arbitrary files on mouse-over and on scan: this bounds the work. No `vscode`.
 */
import * as fs from 'node:fs';
import { hasPngSignature, readPngText } from '../engine/image';

/** Read at most this much of a file by default: our text chunk is a few hundred bytes, an A1111 one a few KB. */
export const PNG_HEAD_BYTES = 256 * 1024;

export interface PngHead {
  readonly width: number;
  readonly height: number;
  readonly text: Record<string, string>;
}

/** The IEND chunk: length 0, type, CRC. */
const IEND = [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];

/** The head of a PNG from bytes (the file's first bytes, or all of it). Throws a one-line reason when it is no PNG. */
export function parsePngHead(bytes: Uint8Array): PngHead {
  if (!hasPngSignature(bytes)) throw new Error('not a PNG (no PNG signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  for (;;) {
    if (offset + 8 > bytes.length) throw new Error(`its text chunks do not end within the first ${bytes.length} bytes`);
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    if (type === 'IDAT' || type === 'IEND') break;
    const next = offset + 12 + length;
    if (length > 0x7fffffff || next > bytes.length) throw new Error(`its text chunks do not end within the first ${bytes.length} bytes`);
    offset = next;
  }
  const head = new Uint8Array(offset + IEND.length);
  head.set(bytes.subarray(0, offset));
  head.set(IEND, offset);
  const text = readPngText(head);
  return { width: view.getUint32(16), height: view.getUint32(20), text };
}

/** A first read this big holds the text chunks of nearly every file; a longer head is read again up to the cap. */
const FIRST_READ_BYTES = 16 * 1024;

function parseOrAskMore(bytes: Uint8Array, asked: number, maxBytes: number): PngHead | number {
  try {
    return parsePngHead(bytes);
  } catch (err) {
    // the file went on past what was read: read more, up to the cap
    if (bytes.length === asked && asked < maxBytes && /do not end within/.test((err as Error).message)) return Math.min(maxBytes, asked * 16);
    throw err;
  }
}

/** Reads a file's PNG head, at most `maxBytes` of it. */
export async function readPngHead(file: string, maxBytes = PNG_HEAD_BYTES): Promise<PngHead> {
  const handle = await fs.promises.open(file, 'r');
  try {
    for (let asked = Math.min(FIRST_READ_BYTES, maxBytes); ;) {
      const buffer = Buffer.alloc(asked);
      const { bytesRead } = await handle.read(buffer, 0, asked, 0);
      const result = parseOrAskMore(new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead), asked, maxBytes);
      if (typeof result !== 'number') return result;
      asked = result;
    }
  } finally {
    await handle.close();
  }
}
