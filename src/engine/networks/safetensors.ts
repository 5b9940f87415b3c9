/**
 * A careful reader of `.safetensors` files (huggingface/safetensors' format: an 8-byte little-endian header length,
 * a JSON header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`, then the
 * tensors' bytes). Everything the header says is checked before a byte is used: the header fits the file, every
 * dtype is known, every shape × element size is its byte length, the offsets lie inside the data and the tensors
 * neither overlap nor leave gaps (as the safetensors library itself requires). No npm library reads this format
 * without native code; the format is small enough to read here.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { float16ToFloat32 } from '../onnx';

/** A file that is not a valid safetensors file, or a tensor that cannot be used; the message names the file. */
export class SafetensorsError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${basename(file)}: ${message}`);
    this.name = 'SafetensorsError';
  }
}

/** Element sizes of the dtypes safetensors writes. */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

/** The safetensors header's own limit (100 MB), as the Rust reader enforces it. */
const MAX_HEADER = 100_000_000;

export interface SafetensorsTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** The tensor's bytes (a view into the file's buffer). */
  readonly bytes: Uint8Array;
}

export interface SafetensorsFile {
  readonly file: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: ReadonlyMap<string, SafetensorsTensor>;
  /** Where the tensor data starts (8 + header length): kohya's "addnet" hash reads from here. */
  readonly dataStart: number;
  readonly bytes: Uint8Array;
}

const isNonNegativeInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Parses and validates safetensors bytes; throws SafetensorsError naming `file` and what is wrong. */
export function parseSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  const fail = (m: string): never => { throw new SafetensorsError(file, m); };
  if (bytes.length < 8) fail(`not a safetensors file: ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength < 2 || headerLength > MAX_HEADER) {
    fail(`not a safetensors file (its first 8 bytes give a header of ${headerLength} bytes)`);
  }
  if (8 + headerLength > bytes.length) {
    fail(`truncated: the header says ${headerLength} bytes but the file has ${bytes.length - 8} after its length`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    fail(`not a safetensors file: its header is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('not a safetensors file: the header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsTensor>();
  const spans: Array<[number, number, string]> = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('"__metadata__" is not an object');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`"__metadata__.${k}" is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    if (typeof value !== 'object' || value === null) fail(`tensor "${name}": its header entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) fail(`tensor "${name}": unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) fail(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of sizes`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInt)) {
      fail(`tensor "${name}": data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength) {
      fail(`tensor "${name}": data_offsets [${begin}, ${end}] lie outside the ${dataLength} bytes of data (truncated file?)`);
    }
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    const expected = elements * DTYPE_BYTES[dtype as string];
    if (expected !== end - begin) {
      fail(`tensor "${name}": shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${expected} bytes, its offsets give ${end - begin}`);
    }
    spans.push([begin, end, name]);
    tensors.set(name, { name, dtype: dtype as string, shape: shape as number[], bytes: bytes.subarray(dataStart + begin, dataStart + end) });
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let covered = 0;
  for (const [begin, end, name] of spans) {
    if (begin < covered) fail(`tensor "${name}" overlaps the tensor before it (offsets [${begin}, ${end}])`);
    if (begin > covered) fail(`tensor "${name}" starts at ${begin}, leaving a gap after byte ${covered} of the data`);
    covered = end;
  }
  if (covered !== dataLength) fail(`${dataLength - covered} bytes after the last tensor are not described by the header`);
  return { file, metadata, tensors, dataStart, bytes };
}

/** Reads and validates a safetensors file. */
export async function readSafetensors(file: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    throw new SafetensorsError(file, `cannot be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseSafetensors(bytes, file);
}

/** A float tensor as float32 (F16, BF16, F32, F64); NaN or ±Inf in it is refused (a broken training run). */
export function tensorFloat32(st: SafetensorsFile, t: SafetensorsTensor): Float32Array {
  const aligned = (size: number): Uint8Array => (t.bytes.byteOffset % size === 0 ? t.bytes : t.bytes.slice());
  let out: Float32Array;
  if (t.dtype === 'F32') {
    const b = aligned(4);
    out = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  } else if (t.dtype === 'F16') {
    const b = aligned(2);
    out = float16ToFloat32(new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2));
  } else if (t.dtype === 'BF16') {
    const b = aligned(2);
    const src = new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2);
    out = new Float32Array(src.length);
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  } else if (t.dtype === 'F64') {
    const b = aligned(8);
    out = Float32Array.from(new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8));
  } else {
    throw new SafetensorsError(st.file, `tensor "${t.name}" is ${t.dtype}, not a float tensor`);
  }
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) {
      throw new SafetensorsError(st.file, `tensor "${t.name}" holds ${Number.isNaN(out[i]) ? 'NaN' : 'an infinite value'} (element ${i}): the file is broken`);
    }
  }
  return out;
}
