/**
 * An fp32 copy of an fp16 ONNX graph, for the CPU provider (issue 15): ONNX Runtime has few fp16 CPU kernels and
 * runs the rest in fp32 with Cast copies around them — measured on full-size SD 1.5, the fp16 UNet held 6.31 GiB at
 * 5.2–5.5 s a step, the same weights in fp32 4.05 GiB at 4.4–4.6 s (its attention then fuses). The copy changes
 * nothing but the float type: every FLOAT16 TensorProto becomes FLOAT (initializers in raw_data, int32_data or
 * external data; Constant / ConstantOfShape `t` attributes; tensors in subgraphs), Cast `to` and RandomNormal(Like)/RandomUniform(Like)/EyeLike
 * `dtype` 10 → 1, and graph inputs, outputs and value_info elem_type 10 → 1 (CastLike follows its now-fp32 input).
 * Values convert exactly (fp16 ⊂ fp32). The copy keeps its weights in ONE external data file beside a small graph, so
 * openFusedAttention (onnx/onnxModel.ts) fuses its attention in memory. The source files are only read.
 * Protobuf field numbers (onnx/onnx.proto3): ModelProto.graph 7; GraphProto.node 1, initializer 5, input 11,
 * output 12, value_info 13; NodeProto.op_type 4, attribute 5; AttributeProto.name 1, i 3, t 5, g 6, tensors 10,
 * graphs 11; TensorProto.dims 1, data_type 2, int32_data 5, name 8, raw_data 9, external_data 13, data_location 14;
 * TypeProto.tensor_type 1, sequence_type 4, optional_type 9; TypeProto.Tensor.elem_type 1.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { concat, encodeVarint, fields, lengthDelimited, readVarint, stringEntry, text, type Field } from '../model';
import { float16ToFloat32 } from '../onnx';
import { ONNX_FLOAT, ONNX_FLOAT16 } from './onnxWeights';

/** Tensors of at least this many bytes go to the external data file (onnx's own size_threshold); smaller stay inline. */
const EXTERNAL_THRESHOLD = 1024;
/** External tensors start at multiples of this (onnx's align_offset: page-aligned, so ONNX Runtime may map them). */
const ALIGN = 4096;

/** Nodes whose `dtype` attribute names their output's type. */
const DTYPE_OPS = new Set(['RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike', 'EyeLike', 'Multinomial', 'Bernoulli']);

const varintField = (num: number, value: number): Uint8Array => new Uint8Array([...encodeVarint(num * 8), ...encodeVarint(value)]);
const stringField = (num: number, s: string): Uint8Array => lengthDelimited(num, new TextEncoder().encode(s));

export interface Fp32CopyStats {
  /** FLOAT16 tensors converted (initializers and attribute tensors). */
  readonly tensors: number;
  /** Cast / dtype attributes and declared types changed. */
  readonly types: number;
  /** Bytes written to the external data file. */
  readonly dataBytes: number;
  /** Bytes of the graph file. */
  readonly graphBytes: number;
}

interface Ctx {
  readonly srcDir: string;
  readonly inputs: Map<string, FileHandle>;
  readonly out: FileHandle;
  readonly dataName: string;
  offset: number;
  tensors: number;
  types: number;
}

/** Whether the graph declares fp16 anywhere a copy would change: an initializer or a graph input/output of FLOAT16. */
export function isFp16Graph(model: Uint8Array): boolean {
  const graph = [...fields(model, 0, model.length)].find((f) => f.num === 7 && f.wire === 2);
  if (graph === undefined) return false;
  for (const f of fields(model, graph.dataStart, graph.end)) {
    if (f.wire !== 2) continue;
    if (f.num === 5 && tensorType(model, f) === ONNX_FLOAT16) return true;
    if ((f.num === 11 || f.num === 12) && valueInfoFp16(model, f)) return true;
  }
  return false;
}

function tensorType(buf: Uint8Array, f: Field): number {
  for (const g of fields(buf, f.dataStart, f.end)) if (g.num === 2 && g.wire === 0) return readVarint(buf, g.dataStart)[0];
  return 0;
}

function valueInfoFp16(buf: Uint8Array, f: Field): boolean {
  for (const g of fields(buf, f.dataStart, f.end)) {
    if (g.num !== 2 || g.wire !== 2) continue;
    for (const t of fields(buf, g.dataStart, g.end)) {
      if (t.num !== 1 || t.wire !== 2) continue;
      for (const e of fields(buf, t.dataStart, t.end)) if (e.num === 1 && e.wire === 0 && readVarint(buf, e.dataStart)[0] === ONNX_FLOAT16) return true;
    }
  }
  return false;
}

/**
 * Writes the fp32 copy of the ONNX graph `model` (read from `source`, whose external data lies beside it) to
 * `destFile`, its weights in `destFile` + '.data' beside it. Throws (a plain Error saying what) on a graph it cannot read.
 */
export async function writeFp32Copy(model: Uint8Array, source: string, destFile: string): Promise<Fp32CopyStats> {
  const dataName = `${basename(destFile)}.data`;
  const out = await open(join(dirname(destFile), dataName), 'w');
  const ctx: Ctx = { srcDir: dirname(source), inputs: new Map(), out, dataName, offset: 0, tensors: 0, types: 0 };
  let graphBytes: Uint8Array;
  try {
    const parts: Uint8Array[] = [];
    let graphs = 0;
    for (const f of fields(model, 0, model.length)) {
      if (f.num === 7 && f.wire === 2) {
        parts.push(lengthDelimited(7, await rewriteGraph(model, f, ctx)));
        graphs++;
      } else parts.push(model.subarray(f.start, f.end));
    }
    if (graphs === 0) throw new Error(`${source} is not an ONNX model (no graph)`);
    graphBytes = concat(parts);
  } finally {
    await out.close();
    await Promise.all([...ctx.inputs.values()].map((h) => h.close()));
  }
  const graph = await open(destFile, 'w');
  try {
    await graph.write(graphBytes);
  } finally {
    await graph.close();
  }
  return { tensors: ctx.tensors, types: ctx.types, dataBytes: ctx.offset, graphBytes: graphBytes.length };
}

async function rewriteGraph(buf: Uint8Array, f: Field, ctx: Ctx): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (const g of fields(buf, f.dataStart, f.end)) {
    if (g.wire === 2 && g.num === 1) parts.push(lengthDelimited(1, await rewriteNode(buf, g, ctx)));
    else if (g.wire === 2 && g.num === 5) parts.push(lengthDelimited(5, await rewriteTensor(buf, g, ctx, true)));
    else if (g.wire === 2 && (g.num === 11 || g.num === 12 || g.num === 13)) parts.push(lengthDelimited(g.num, rewriteValueInfo(buf, g, ctx)));
    else parts.push(buf.subarray(g.start, g.end));
  }
  return concat(parts);
}

async function rewriteNode(buf: Uint8Array, f: Field, ctx: Ctx): Promise<Uint8Array> {
  let opType = '';
  let domain = '';
  for (const g of fields(buf, f.dataStart, f.end)) {
    if (g.num === 4 && g.wire === 2) opType = text(buf, g);
    else if (g.num === 7 && g.wire === 2) domain = text(buf, g);
  }
  const parts: Uint8Array[] = [];
  for (const g of fields(buf, f.dataStart, f.end)) {
    if (g.num === 5 && g.wire === 2) parts.push(lengthDelimited(5, await rewriteAttribute(buf, g, domain === '' || domain === 'ai.onnx' ? opType : '', ctx)));
    else parts.push(buf.subarray(g.start, g.end));
  }
  return concat(parts);
}

async function rewriteAttribute(buf: Uint8Array, f: Field, opType: string, ctx: Ctx): Promise<Uint8Array> {
  let name = '';
  for (const g of fields(buf, f.dataStart, f.end)) if (g.num === 1 && g.wire === 2) name = text(buf, g);
  const typeAttribute = (opType === 'Cast' && name === 'to') || (DTYPE_OPS.has(opType) && name === 'dtype');
  const parts: Uint8Array[] = [];
  for (const g of fields(buf, f.dataStart, f.end)) {
    if (g.num === 3 && g.wire === 0 && typeAttribute && readVarint(buf, g.dataStart)[0] === ONNX_FLOAT16) {
      parts.push(varintField(3, ONNX_FLOAT));
      ctx.types++;
    } else if ((g.num === 5 || g.num === 10) && g.wire === 2) parts.push(lengthDelimited(g.num, await rewriteTensor(buf, g, ctx, false)));
    else if ((g.num === 6 || g.num === 11) && g.wire === 2) parts.push(lengthDelimited(g.num, await rewriteGraph(buf, g, ctx)));
    else parts.push(buf.subarray(g.start, g.end));
  }
  return concat(parts);
}

function rewriteValueInfo(buf: Uint8Array, f: Field, ctx: Ctx): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const g of fields(buf, f.dataStart, f.end)) {
    parts.push(g.num === 2 && g.wire === 2 ? lengthDelimited(2, rewriteType(buf, g, ctx)) : buf.subarray(g.start, g.end));
  }
  return concat(parts);
}

/** A TypeProto: tensor elem_type 10 → 1, through sequence and optional types. */
function rewriteType(buf: Uint8Array, f: Field, ctx: Ctx): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const g of fields(buf, f.dataStart, f.end)) {
    if (g.num === 1 && g.wire === 2) {
      const inner: Uint8Array[] = [];
      for (const e of fields(buf, g.dataStart, g.end)) {
        if (e.num === 1 && e.wire === 0 && readVarint(buf, e.dataStart)[0] === ONNX_FLOAT16) {
          inner.push(varintField(1, ONNX_FLOAT));
          ctx.types++;
        } else inner.push(buf.subarray(e.start, e.end));
      }
      parts.push(lengthDelimited(1, concat(inner)));
    } else if ((g.num === 4 || g.num === 9) && g.wire === 2) {
      // Sequence / Optional: field 1 is the element TypeProto
      const inner: Uint8Array[] = [];
      for (const e of fields(buf, g.dataStart, g.end)) inner.push(e.num === 1 && e.wire === 2 ? lengthDelimited(1, rewriteType(buf, e, ctx)) : buf.subarray(e.start, e.end));
      parts.push(lengthDelimited(g.num, concat(inner)));
    } else parts.push(buf.subarray(g.start, g.end));
  }
  return concat(parts);
}

/** Bytes of an external tensor, read from its file beside the source graph. */
async function readExternal(ctx: Ctx, location: string, offset: number, length: number, name: string): Promise<Uint8Array> {
  if (isAbsolute(location) || normalize(location).startsWith('..')) throw new Error(`${name}: external data "${location}" lies outside the model's folder`);
  let handle = ctx.inputs.get(location);
  if (handle === undefined) {
    handle = await open(join(ctx.srcDir, location), 'r');
    ctx.inputs.set(location, handle);
  }
  const bytes = new Uint8Array(length);
  const { bytesRead } = await handle.read(bytes, 0, length, offset);
  if (bytesRead !== length) throw new Error(`${name}: external data "${location}" ends before byte ${offset + length} (truncated?)`);
  return bytes;
}

/**
 * A TensorProto with FLOAT16 data as FLOAT; external data (any type) moved into the copy's one data file, and with
 * `toExternal` inline raw data of EXTERNAL_THRESHOLD bytes and up too (initializers); typed fields of other types kept.
 */
async function rewriteTensor(buf: Uint8Array, f: Field, ctx: Ctx, toExternal: boolean): Promise<Uint8Array> {
  let dataType = 0;
  let name = '';
  let count = 1;
  let raw: Field | undefined;
  const int32Data: number[] = [];
  let hasInt32 = false;
  let external = false;
  let location: string | undefined;
  let extOffset = 0;
  let extLength = -1;
  const keep: Field[] = []; // dims, name, doc_string, other typed fields …
  for (const g of fields(buf, f.dataStart, f.end)) {
    if (g.num === 1) {
      if (g.wire === 0) count *= readVarint(buf, g.dataStart)[0];
      else if (g.wire === 2) for (let p = g.dataStart; p < g.end;) { const [v, n] = readVarint(buf, p); count *= v; p = n; }
      keep.push(g);
    } else if (g.num === 2 && g.wire === 0) dataType = readVarint(buf, g.dataStart)[0];
    else if (g.num === 9 && g.wire === 2) raw = g;
    else if (g.num === 5) {
      hasInt32 = true;
      if (g.wire === 0) int32Data.push(readVarint(buf, g.dataStart)[0]);
      else if (g.wire === 2) for (let p = g.dataStart; p < g.end;) { const [v, n] = readVarint(buf, p); int32Data.push(v); p = n; }
    } else if (g.num === 14 && g.wire === 0) external = readVarint(buf, g.dataStart)[0] === 1;
    else if (g.num === 13 && g.wire === 2) {
      const [key, value] = stringEntry(buf, g);
      if (key === 'location') location = value;
      else if (key === 'offset') extOffset = Number(value);
      else if (key === 'length') extLength = Number(value);
    } else {
      if (g.num === 8 && g.wire === 2) name = text(buf, g);
      keep.push(g);
    }
  }
  const fp16 = dataType === ONNX_FLOAT16;
  let data: Uint8Array | undefined; // the tensor's bytes in its new type, when they are not in typed fields
  if (external) {
    if (location === undefined) throw new Error(`${name}: external data without a location`);
    const length = extLength >= 0 ? extLength : (fp16 ? count * 2 : -1);
    if (length < 0) throw new Error(`${name}: external data without a length`);
    data = await readExternal(ctx, location, extOffset, length, name);
  } else if (raw !== undefined) data = buf.subarray(raw.dataStart, raw.end);
  if (fp16) {
    let bits: Uint16Array;
    if (data !== undefined) {
      if (data.length !== count * 2) throw new Error(`${name}: ${data.length} bytes of float16 data for ${count} values`);
      bits = new Uint16Array(data.slice().buffer);
    } else if (hasInt32) {
      if (int32Data.length !== count) throw new Error(`${name}: ${int32Data.length} float16 values in int32_data for ${count}`);
      bits = Uint16Array.from(int32Data);
    } else if (count === 0) bits = new Uint16Array(0);
    else throw new Error(`${name}: float16 tensor without data`);
    const values = float16ToFloat32(bits);
    data = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    ctx.tensors++;
  }
  const parts: Uint8Array[] = keep.map((g) => buf.subarray(g.start, g.end));
  parts.push(varintField(2, fp16 ? ONNX_FLOAT : dataType));
  if (data === undefined) {
    // typed fields of a non-fp16 tensor: as they were
    for (const g of fields(buf, f.dataStart, f.end)) if (g.num !== 1 && g.num !== 2 && g.num !== 8 && keep.every((k) => k.start !== g.start)) parts.push(buf.subarray(g.start, g.end));
    return concat(parts);
  }
  if ((toExternal || external) && data.length >= EXTERNAL_THRESHOLD) {
    const at = Math.ceil(ctx.offset / ALIGN) * ALIGN;
    await writeAll(ctx.out, data, at);
    ctx.offset = at + data.length;
    const entry = (k: string, v: string): Uint8Array => lengthDelimited(13, concat([stringField(1, k), stringField(2, v)]));
    parts.push(entry('location', ctx.dataName), entry('offset', String(at)), entry('length', String(data.length)), varintField(14, 1));
  } else parts.push(lengthDelimited(9, data));
  return concat(parts);
}

async function writeAll(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    if (bytesWritten <= 0) throw new Error('could not write the fp32 copy (disk full?)');
    done += bytesWritten;
  }
}
