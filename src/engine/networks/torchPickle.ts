/**
 * torch.save files (a zip holding `<name>/data.pkl` and one `<name>/data/<key>` file per storage) read WITHOUT running
 * pickle code: the pickle's opcodes are interpreted here, and the only callables it may name are the few torch.save
 * writes for tensors and dicts (torch._utils._rebuild_tensor_v2 / _rebuild_parameter, collections.OrderedDict, the
 * typed storages), each rebuilt by this code. Anything else (another global, an object's state) is refused — so a
 * malicious file can at most fail to load. Legacy (pre-1.6, non-zip) torch files are refused too.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { float16ToFloat32 } from '../onnx';

export class TorchFileError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${basename(file)}: ${message}`);
    this.name = 'TorchFileError';
  }
}

export interface TorchTensor { readonly kind: 'tensor'; readonly shape: number[]; readonly data: Float32Array }
export type TorchValue = null | boolean | number | bigint | string | Uint8Array | TorchTensor | TorchValue[] | Map<string, TorchValue>
  | { readonly kind: 'global'; readonly name: string } | { readonly kind: 'storage'; readonly dtype: string; readonly key: string }
  | { readonly kind: 'tuple'; readonly items: TorchValue[] };

export const isTorchTensor = (v: unknown): v is TorchTensor => typeof v === 'object' && v !== null && (v as { kind?: string }).kind === 'tensor';

/** The files of a zip archive (stored or deflated; no zip64). */
export function readZip(buf: Uint8Array, file: string): Map<string, Uint8Array> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let eocd = -1;
  for (let p = buf.length - 22; p >= Math.max(0, buf.length - 22 - 65535); p--) {
    if (view.getUint32(p, true) === 0x06054b50) { eocd = p; break; }
  }
  if (eocd < 0) throw new TorchFileError(file, 'is not a zip archive (a torch file from before torch 1.6, or not a torch file)');
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  const out = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || view.getUint32(p, true) !== 0x02014b50) throw new TorchFileError(file, 'has a broken zip directory');
    const method = view.getUint16(p + 10, true);
    const size = view.getUint32(p + 20, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    const name = new TextDecoder().decode(buf.subarray(p + 46, p + 46 + nameLen));
    if (size === 0xffffffff || local === 0xffffffff) throw new TorchFileError(file, 'is a zip64 archive (too large for an embedding)');
    if (local + 30 > buf.length || view.getUint32(local, true) !== 0x04034b50) throw new TorchFileError(file, `zip entry ${name} is broken`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + size > buf.length) throw new TorchFileError(file, `zip entry ${name} is truncated`);
    const data = buf.subarray(start, start + size);
    if (method === 0) out.set(name, data);
    else if (method === 8) out.set(name, new Uint8Array(inflateRawSync(data)));
    else throw new TorchFileError(file, `zip entry ${name} uses compression method ${method}`);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

const STORAGES: Readonly<Record<string, string>> = {
  'torch.FloatStorage': 'float32', 'torch.HalfStorage': 'float16', 'torch.BFloat16Storage': 'bfloat16', 'torch.DoubleStorage': 'float64',
  'torch.LongStorage': 'int64', 'torch.IntStorage': 'int32',
};
const ALLOWED = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter', ...Object.keys(STORAGES)]);

function storageFloats(bytes: Uint8Array, dtype: string): Float32Array {
  const copy = bytes.slice();
  switch (dtype) {
    case 'float32': return new Float32Array(copy.buffer);
    case 'float16': return float16ToFloat32(new Uint16Array(copy.buffer));
    case 'bfloat16': {
      const src = new Uint16Array(copy.buffer);
      const out = new Float32Array(src.length);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
      return out;
    }
    case 'float64': return Float32Array.from(new Float64Array(copy.buffer));
    default: return new Float32Array(0);
  }
}

/** Interprets a pickle (protocol ≤ 5) over the allowed globals; storages are read from `storage(key)`. */
export function unpickle(data: Uint8Array, file: string, storage: (key: string) => Uint8Array | undefined): TorchValue {
  const fail = (m: string): never => { throw new TorchFileError(file, m); };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: TorchValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, TorchValue>();
  let p = 0;
  const need = (n: number): void => { if (p + n > data.length) fail('its pickle is truncated'); };
  const u8 = (): number => { need(1); return data[p++]; };
  const u16 = (): number => { need(2); const v = view.getUint16(p, true); p += 2; return v; };
  const u32 = (): number => { need(4); const v = view.getUint32(p, true); p += 4; return v; };
  const bytes = (n: number): Uint8Array => { need(n); const b = data.subarray(p, p + n); p += n; return b; };
  const str = (n: number): string => new TextDecoder().decode(bytes(n));
  const line = (): string => { const end = data.indexOf(10, p); if (end < 0) fail('its pickle is truncated'); const s = new TextDecoder().decode(data.subarray(p, end)); p = end + 1; return s; };
  const pop = (): TorchValue => (stack.length === 0 ? fail('its pickle pops an empty stack') : stack.pop()!);
  const popMark = (): TorchValue[] => { const m = marks.pop(); if (m === undefined) fail('its pickle has no mark'); return stack.splice(m!); };
  const global = (name: string): TorchValue => (ALLOWED.has(name) ? { kind: 'global', name }
    : fail(`refers to ${name}, which this reader does not run (only tensors and dicts are read from pickles)`));
  const setItems = (target: TorchValue, items: TorchValue[]): void => {
    if (!(target instanceof Map)) fail('its pickle sets items on something that is not a dict');
    for (let i = 0; i + 1 < items.length; i += 2) (target as Map<string, TorchValue>).set(String(items[i]), items[i + 1]);
  };
  const call = (fn: TorchValue, args: TorchValue): TorchValue => {
    const name = typeof fn === 'object' && fn !== null && 'kind' in fn && fn.kind === 'global' ? fn.name : fail('its pickle calls something that is not a known function');
    const a = typeof args === 'object' && args !== null && 'kind' in args && args.kind === 'tuple' ? args.items : fail('its pickle calls with arguments that are not a tuple');
    if (name === 'collections.OrderedDict') return new Map<string, TorchValue>();
    if (name === 'torch._utils._rebuild_parameter') return a[0];
    if (name === 'torch._utils._rebuild_tensor_v2') {
      const [st, offset, size, stride] = a as [TorchValue, number, { items: number[] }, { items: number[] }];
      if (typeof st !== 'object' || st === null || !('kind' in st) || st.kind !== 'storage') fail('a tensor without its storage');
      const s = st as { dtype: string; key: string };
      const raw = storage(s.key) ?? fail(`its storage ${s.key} is missing from the archive`);
      const all = storageFloats(raw, s.dtype);
      if (all.length === 0) fail(`holds a ${s.dtype} tensor, not a float one`);
      const shape = size.items.map(Number);
      const strides = stride.items.map(Number);
      const n = shape.reduce((x, y) => x * y, 1);
      const out = new Float32Array(n);
      const idx = new Array<number>(shape.length).fill(0);
      for (let k = 0; k < n; k++) {
        let at = Number(offset);
        for (let d = 0; d < shape.length; d++) at += idx[d] * strides[d];
        if (at >= all.length) fail('a tensor reaches past its storage');
        out[k] = all[at];
        for (let d = shape.length - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
      }
      return { kind: 'tensor', shape, data: out };
    }
    return fail(`its pickle calls ${name}`);
  };
  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: bytes(8); break; // FRAME
      case 0x2e: return pop(); // STOP
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push({ kind: 'tuple', items: [] }); break; // EMPTY_TUPLE
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x58: stack.push(str(u32())); break; // BINUNICODE
      case 0x8c: stack.push(str(u8())); break; // SHORT_BINUNICODE
      case 0x8d: { const lo = u32(); const hi = u32(); if (hi !== 0) fail('a string too long'); stack.push(str(lo)); break; }
      case 0x55: stack.push(str(u8())); break; // SHORT_BINSTRING
      case 0x54: stack.push(str(u32())); break; // BINSTRING
      case 0x43: stack.push(bytes(u8()).slice()); break; // SHORT_BINBYTES
      case 0x42: stack.push(bytes(u32()).slice()); break; // BINBYTES
      case 0x4a: { need(4); stack.push(view.getInt32(p, true)); p += 4; break; } // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: { // LONG1
        const n = u8();
        const b = bytes(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (n > 0 && (b[n - 1] & 0x80) !== 0) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: { need(8); stack.push(view.getFloat64(p, false)); p += 8; break; } // BINFLOAT
      case 0x4e: stack.push(null); break;
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x74: stack.push({ kind: 'tuple', items: popMark() }); break; // TUPLE
      case 0x85: stack.push({ kind: 'tuple', items: [pop()] }); break;
      case 0x86: { const b = pop(); const a = pop(); stack.push({ kind: 'tuple', items: [a, b] }); break; }
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push({ kind: 'tuple', items: [a, b, c] }); break; }
      case 0x73: { const v = pop(); const k = pop(); setItems(stack[stack.length - 1], [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(stack[stack.length - 1], items); break; } // SETITEMS
      case 0x61: { const v = pop(); const l = stack[stack.length - 1]; if (!Array.isArray(l)) fail('append to a non-list'); (l as TorchValue[]).push(v); break; }
      case 0x65: { const items = popMark(); const l = stack[stack.length - 1]; if (!Array.isArray(l)) fail('append to a non-list'); (l as TorchValue[]).push(...items); break; }
      case 0x71: memo.set(u8(), stack[stack.length - 1]); break; // BINPUT
      case 0x72: memo.set(u32(), stack[stack.length - 1]); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, stack[stack.length - 1]); break; // MEMOIZE
      case 0x68: { const k = u8(); if (!memo.has(k)) fail('its pickle reads an unknown memo'); stack.push(memo.get(k)!); break; }
      case 0x6a: { const k = u32(); if (!memo.has(k)) fail('its pickle reads an unknown memo'); stack.push(memo.get(k)!); break; }
      case 0x63: { const module = line(); const name = line(); stack.push(global(`${module}.${name}`)); break; } // GLOBAL
      case 0x93: { const name = pop(); const module = pop(); stack.push(global(`${String(module)}.${String(name)}`)); break; }
      case 0x52: { const args = pop(); const fn = pop(); stack.push(call(fn, args)); break; } // REDUCE
      case 0x51: { // BINPERSID: ('storage', type, key, location, numel)
        const pid = pop();
        const items = typeof pid === 'object' && pid !== null && 'kind' in pid && pid.kind === 'tuple' ? pid.items : fail('a persistent id that is not a tuple');
        const type = items[1];
        const typeName = typeof type === 'object' && type !== null && 'kind' in type && type.kind === 'global' ? type.name : '';
        const dtype = STORAGES[typeName] ?? fail(`a storage of type ${typeName || 'unknown'}`);
        stack.push({ kind: 'storage', dtype, key: String(items[2]) });
        break;
      }
      case 0x62: { pop(); break; } // BUILD: state on an OrderedDict / parameter; ignored (no code runs)
      default: fail(`its pickle uses opcode 0x${op.toString(16)}, which this reader does not interpret`);
    }
  }
}

/** Reads a torch.save zip (tensors and dicts only). */
export async function readTorchFile(file: string): Promise<TorchValue> {
  let buf: Uint8Array;
  try {
    buf = new Uint8Array(await readFile(file));
  } catch (e) {
    throw new TorchFileError(file, `cannot be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  const entries = readZip(buf, file);
  const pkl = [...entries.keys()].find((k) => k.endsWith('/data.pkl') || k === 'data.pkl');
  if (pkl === undefined) throw new TorchFileError(file, 'is a zip without data.pkl (not a torch file)');
  const root = pkl.slice(0, -'data.pkl'.length);
  return unpickle(entries.get(pkl)!, file, (key) => entries.get(`${root}data/${key}`));
}
