/**
 * Just enough of ZIP (PKWARE APPNOTE 6.3) to take files out of a NuGet package: the central directory (zip64
 * included), stored and deflated entries streamed to disk with their size, CRC-32 and sha256 checked. No `vscode`.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import * as zlib from 'node:zlib';

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly crc32: number;
  readonly localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX32 = 0xffffffff;

async function readAt(fh: fsp.FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

function bad(file: string, what: string): Error {
  return new Error(`${file} is not a readable ZIP archive: ${what} (a truncated or corrupted download?)`);
}

/** The archive's entries, from its central directory. */
export async function readZipEntries(file: string): Promise<ZipEntry[]> {
  const fh = await fsp.open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const tailLength = Math.min(size, 22 + 0xffff);
    const tail = await readAt(fh, size - tailLength, tailLength);
    let at = -1;
    for (let i = tail.length - 22; i >= 0; i--) if (tail.readUInt32LE(i) === EOCD) { at = i; break; }
    if (at < 0) throw bad(file, 'no end of central directory record');
    let count = tail.readUInt16LE(at + 10);
    let cdSize = tail.readUInt32LE(at + 12);
    let cdOffset = tail.readUInt32LE(at + 16);
    if (cdOffset === MAX32 || cdSize === MAX32 || count === 0xffff) {
      const locator = await readAt(fh, size - tailLength + at - 20, 20);
      if (locator.readUInt32LE(0) !== ZIP64_LOCATOR) throw bad(file, 'zip64 fields without a zip64 locator');
      const z = await readAt(fh, Number(locator.readBigUInt64LE(8)), 56);
      if (z.readUInt32LE(0) !== ZIP64_EOCD) throw bad(file, 'no zip64 end of central directory record');
      count = Number(z.readBigUInt64LE(32));
      cdSize = Number(z.readBigUInt64LE(40));
      cdOffset = Number(z.readBigUInt64LE(48));
    }
    const cd = await readAt(fh, cdOffset, cdSize);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) throw bad(file, `central directory entry ${n} is damaged`);
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      let compressedSize = cd.readUInt32LE(p + 20);
      let uncompressed = cd.readUInt32LE(p + 24);
      let offset = cd.readUInt32LE(p + 42);
      const extra = cd.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength);
      for (let e = 0; e + 4 <= extra.length;) {
        const id = extra.readUInt16LE(e);
        const len = extra.readUInt16LE(e + 2);
        if (id === 0x0001) { // zip64: the 32-bit fields that are MAX32, in this order
          let q = e + 4;
          if (uncompressed === MAX32) { uncompressed = Number(extra.readBigUInt64LE(q)); q += 8; }
          if (compressedSize === MAX32) { compressedSize = Number(extra.readBigUInt64LE(q)); q += 8; }
          if (offset === MAX32) offset = Number(extra.readBigUInt64LE(q));
        }
        e += 4 + len;
      }
      entries.push({
        name: cd.toString('utf8', p + 46, p + 46 + nameLength), method: cd.readUInt16LE(p + 10),
        compressedSize, size: uncompressed, crc32: cd.readUInt32LE(p + 16), localHeaderOffset: offset,
      });
      p += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/**
 * Writes one entry to `dest` (through `dest`.partial, renamed when size and CRC-32 match); returns its sha256.
 * Never writes more than the entry's declared size.
 */
export async function extractZipEntry(file: string, entry: ZipEntry, dest: string): Promise<string> {
  if (entry.method !== 0 && entry.method !== 8) throw new Error(`${file}: ${entry.name} uses compression method ${entry.method}; only stored (0) and deflate (8) are supported`);
  const fh = await fsp.open(file, 'r');
  let dataStart: number;
  try {
    const local = await readAt(fh, entry.localHeaderOffset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL) throw bad(file, `the local header of ${entry.name} is damaged`);
    dataStart = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  } finally {
    await fh.close();
  }
  const partial = `${dest}.partial`;
  const sha = createHash('sha256');
  let crc = 0;
  let written = 0;
  const check = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (written + chunk.length > entry.size) {
        // stop at the declared size: a damaged or hostile entry must not fill the disk before it is caught
        done(new Error(`${file}: ${entry.name} inflates to more than the ${entry.size} bytes the archive declares (damaged or not a real package); nothing was installed`));
        return;
      }
      sha.update(chunk);
      crc = zlib.crc32(chunk, crc);
      written += chunk.length;
      done(null, chunk);
    },
  });
  const source = entry.compressedSize === 0
    ? Readable.from([])
    : fs.createReadStream(file, { start: dataStart, end: dataStart + entry.compressedSize - 1 });
  try {
    if (entry.method === 8 && entry.compressedSize > 0) await pipeline(source, zlib.createInflateRaw(), check, fs.createWriteStream(partial));
    else await pipeline(source, check, fs.createWriteStream(partial));
    if (written !== entry.size || (crc >>> 0) !== (entry.crc32 >>> 0)) {
      throw new Error(`${file}: ${entry.name} came out as ${written} bytes with CRC-32 ${(crc >>> 0).toString(16)}; `
        + `the archive says ${entry.size} bytes, ${(entry.crc32 >>> 0).toString(16)}`);
    }
    await fsp.rename(partial, dest);
  } catch (e) {
    await fsp.rm(partial, { force: true });
    throw e;
  }
  return sha.digest('hex');
}
