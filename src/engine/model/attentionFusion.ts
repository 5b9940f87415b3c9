/**
 * Attention without its score matrix (issue 15's memory goal): torch's exporter writes scaled_dot_product_attention
 * as MatMul(Q·√s, Kᵀ·√s) → Softmax → MatMul(·, V), which ONNX Runtime runs as written — at 512² SD 1.5's first
 * self-attention holds two 2×8×4096×4096 float32 matrices (scores and softmax, 1 GiB each), 2.2 GiB of the UNet's
 * working memory. This rewrites each such subgraph, in memory, into one com.microsoft MultiHeadAttention node, whose
 * CPU kernel (MLAS flash attention) never materialises the matrix: measured on full-size SD 1.5 fp32 at 512²
 * (README "Benchmarks"), the bare UNet's peak fell from 5.54 to 4.05 GiB, outputs equal to float32 rounding.
 *
 * Only the exact pattern is fused (anything else is left as it is): per attention,
 *   q, k, v = the projections (B×S×N·H), Reshape(x, [B, -1, N, H]) each (N a Constant), Transpose 0213 (q, v) and
 *   0231 (k), Mul(q′, c) and Mul(k′, c) by the same c = Sqrt(Cast(Div(Constant 1, Sqrt(…)))) — the default scale
 *   1/√H —, MatMul → Softmax(axis −1) → MatMul with v′ → Transpose 0213 → Reshape to B×S×N·H,
 * every intermediate read by nothing else. The fused node reads q, k, v and writes the last Reshape's output.
 * Protobuf field numbers (onnx/onnx.proto3): ModelProto.graph 7, opset_import 8; GraphProto.node 1; NodeProto.input 1,
 * output 2, name 3, op_type 4, attribute 5, domain 7; AttributeProto.name 1, i 3, t 5, ints 8, type 20;
 * TensorProto.dims 1, data_type 2, float_data 4, int32_data 5, int64_data 7, raw_data 9, double_data 10;
 * OperatorSetIdProto.domain 1, version 2.
 */
import { readFileSync, statSync } from 'node:fs';
import { concat, encodeVarint, type Field, fields, lengthDelimited, readVarint, text } from './protobuf';

interface GraphNode {
  readonly field: Field;
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Attributes by name: the field of each AttributeProto. */
  readonly attributes: ReadonlyMap<string, Field>;
}

/** What fuseAttention did: the model's new bytes (the input itself when nothing was fused) and how many it fused. */
export interface FusedAttention { readonly bytes: Uint8Array; readonly fused: number }

const MS_DOMAIN = 'com.microsoft';

function parseNode(buf: Uint8Array, f: Field): GraphNode {
  let name = '';
  let opType = '';
  let domain = '';
  const inputs: string[] = [];
  const outputs: string[] = [];
  const attributes = new Map<string, Field>();
  for (const g of fields(buf, f.dataStart, f.end)) {
    if (g.wire !== 2) continue;
    if (g.num === 1) inputs.push(text(buf, g));
    else if (g.num === 2) outputs.push(text(buf, g));
    else if (g.num === 3) name = text(buf, g);
    else if (g.num === 4) opType = text(buf, g);
    else if (g.num === 7) domain = text(buf, g);
    else if (g.num === 5) {
      for (const a of fields(buf, g.dataStart, g.end)) {
        if (a.num === 1 && a.wire === 2) attributes.set(text(buf, a), g);
      }
    }
  }
  return { field: f, name, opType, domain, inputs, outputs, attributes };
}

/** An attribute's integer list (`ints`, packed or not), or its single `i`. */
function intsOf(buf: Uint8Array, attribute: Field | undefined): number[] | undefined {
  if (attribute === undefined) return undefined;
  const out: number[] = [];
  let single: number | undefined;
  for (const a of fields(buf, attribute.dataStart, attribute.end)) {
    if (a.num === 3 && a.wire === 0) single = readInt64(buf, a.dataStart)[0];
    else if (a.num === 8 && a.wire === 0) out.push(readInt64(buf, a.dataStart)[0]);
    else if (a.num === 8 && a.wire === 2) {
      for (let p = a.dataStart; p < a.end;) {
        const [v, next] = readInt64(buf, p);
        out.push(v);
        p = next;
      }
    }
  }
  return out.length > 0 ? out : single !== undefined ? [single] : undefined;
}

/** An int64 varint at `pos` with its sign (negative values are ten-byte two's complement, past a double's precision). */
function readInt64(buf: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0n;
  for (let k = 0; k < 10; k++) {
    if (pos >= buf.length) throw new Error('truncated protobuf varint');
    const byte = buf[pos++];
    value |= BigInt(byte & 0x7f) << BigInt(7 * k);
    if ((byte & 0x80) === 0) return [Number(BigInt.asIntN(64, value)), pos];
  }
  throw new Error('malformed protobuf varint');
}

/** The single value of a Constant node's one-element `value` tensor (float, float16, double, int32, int64). */
function constantScalar(buf: Uint8Array, node: GraphNode | undefined): number | undefined {
  if (node === undefined || node.opType !== 'Constant' || node.domain !== '') return undefined;
  const value = node.attributes.get('value');
  if (value === undefined) return undefined;
  const tensor = [...fields(buf, value.dataStart, value.end)].find((a) => a.num === 5 && a.wire === 2);
  if (tensor === undefined) return undefined;
  let type = 0;
  let count = 1;
  let raw: Uint8Array | undefined;
  const typed: number[] = [];
  for (const t of fields(buf, tensor.dataStart, tensor.end)) {
    if (t.num === 1 && t.wire === 0) count *= readVarint(buf, t.dataStart)[0];
    else if (t.num === 1 && t.wire === 2) {
      for (let p = t.dataStart; p < t.end;) {
        const [v, next] = readVarint(buf, p);
        count *= v;
        p = next;
      }
    } else if (t.num === 2 && t.wire === 0) type = readVarint(buf, t.dataStart)[0];
    else if (t.num === 9 && t.wire === 2) raw = buf.subarray(t.dataStart, t.end);
    else if ((t.num === 5 || t.num === 7) && t.wire === 2) {
      for (let p = t.dataStart; p < t.end;) {
        const [v, next] = readInt64(buf, p);
        typed.push(v);
        p = next;
      }
    } else if ((t.num === 5 || t.num === 7) && t.wire === 0) typed.push(readInt64(buf, t.dataStart)[0]);
    else if (t.num === 4 && t.wire === 2 && t.end - t.dataStart >= 4) typed.push(view(buf, t.dataStart).getFloat32(0, true));
    else if (t.num === 4 && t.wire === 5) typed.push(view(buf, t.dataStart).getFloat32(0, true));
    else if (t.num === 10 && t.wire === 2 && t.end - t.dataStart >= 8) typed.push(view(buf, t.dataStart).getFloat64(0, true));
    else if (t.num === 10 && t.wire === 1) typed.push(view(buf, t.dataStart).getFloat64(0, true));
  }
  if (count !== 1) return undefined;
  if (raw === undefined) return typed.length === 1 ? typed[0] : undefined;
  const d = view(raw, 0);
  switch (type) {
    case 1: return raw.length === 4 ? d.getFloat32(0, true) : undefined;
    case 10: return raw.length === 2 ? half(d.getUint16(0, true)) : undefined;
    case 11: return raw.length === 8 ? d.getFloat64(0, true) : undefined;
    case 6: return raw.length === 4 ? d.getInt32(0, true) : undefined;
    case 7: return raw.length === 8 ? Number(d.getBigInt64(0, true)) : undefined;
    default: return undefined;
  }
}

/** An IEEE half's value from its bits. */
function half(bits: number): number {
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function view(buf: Uint8Array, offset: number): DataView {
  return new DataView(buf.buffer, buf.byteOffset + offset, buf.length - offset);
}

function attributeInt(name: string, value: number): Uint8Array {
  return concat([
    lengthDelimited(1, new TextEncoder().encode(name)),
    Uint8Array.from([3 * 8, ...encodeVarint(value)]),
    Uint8Array.from([...encodeVarint(20 * 8), 2]), // type INT
  ]);
}

function multiHeadAttentionNode(name: string, inputs: readonly string[], output: string, heads: number): Uint8Array {
  const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
  return lengthDelimited(1, concat([
    ...inputs.map((i) => lengthDelimited(1, utf8(i))),
    lengthDelimited(2, utf8(output)),
    lengthDelimited(3, utf8(name)),
    lengthDelimited(4, utf8('MultiHeadAttention')),
    lengthDelimited(5, attributeInt('num_heads', heads)),
    lengthDelimited(7, utf8(MS_DOMAIN)),
  ]));
}

/** Each scaled-dot-product attention of the pattern above as one MultiHeadAttention node; other models unchanged. */
export function fuseAttention(model: Uint8Array): FusedAttention {
  const graph = [...fields(model, 0, model.length)].find((f) => f.num === 7 && f.wire === 2);
  if (graph === undefined) return { bytes: model, fused: 0 };
  const nodes: GraphNode[] = [];
  for (const f of fields(model, graph.dataStart, graph.end)) if (f.num === 1 && f.wire === 2) nodes.push(parseNode(model, f));
  const producer = new Map<string, GraphNode>();
  const consumers = new Map<string, GraphNode[]>();
  for (const n of nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) {
      if (i === '') continue;
      const list = consumers.get(i) ?? [];
      list.push(n);
      consumers.set(i, list);
    }
  }
  const onlyConsumer = (n: GraphNode | undefined): GraphNode | undefined => {
    const list = n?.outputs.length === 1 ? consumers.get(n.outputs[0]) : undefined;
    return list?.length === 1 ? list[0] : undefined;
  };
  /** The producer of n's k-th input if it is an `op` read by n only (or by others too, when `shared`). */
  const from = (n: GraphNode | undefined, k: number, op: string, shared = false): GraphNode | undefined => {
    const p = n === undefined ? undefined : producer.get(n.inputs[k] ?? '');
    return p?.opType === op && p.domain === '' && (shared || onlyConsumer(p) === n) ? p : undefined;
  };
  const perm = (n: GraphNode | undefined): string => (n === undefined ? '' : (intsOf(model, n.attributes.get('perm')) ?? []).join(''));
  const same = (a: readonly number[]): boolean => a.every((x) => x === a[0]);
  /** N of Reshape(x, Concat(B, −1, N, H)), N a Constant. */
  const headsOf = (reshape: GraphNode): number | undefined => {
    const shape = producer.get(reshape.inputs[1] ?? '');
    if (shape?.opType !== 'Concat' || shape.inputs.length !== 4) return undefined;
    const heads = constantScalar(model, producer.get(shape.inputs[2]));
    return heads !== undefined && Number.isInteger(heads) && heads > 0 ? heads : undefined;
  };
  /** The input of Sqrt(scale) when scale is the default one: Cast(Div(Constant 1, Sqrt(…))) or Div(…). */
  const defaultScaleOf = (name: string): string | undefined => {
    const root = producer.get(name);
    if (root?.opType !== 'Sqrt') return undefined;
    let div = producer.get(root.inputs[0]);
    if (div?.opType === 'Cast') div = producer.get(div.inputs[0]);
    const isDefault = div?.opType === 'Div' && constantScalar(model, producer.get(div.inputs[0])) === 1 && producer.get(div.inputs[1])?.opType === 'Sqrt';
    return isDefault ? root.inputs[0] : undefined;
  };

  const removed = new Set<GraphNode>();
  const replacement = new Map<GraphNode, Uint8Array>();
  for (const softmax of nodes) {
    if (softmax.opType !== 'Softmax' || softmax.domain !== '' || (intsOf(model, softmax.attributes.get('axis')) ?? [-1])[0] !== -1) continue;
    const scores = from(softmax, 0, 'MatMul');
    const mulQ = from(scores, 0, 'Mul');
    const mulK = from(scores, 1, 'Mul');
    // q′ is also read by the Shape that computes the scale from its last axis: it stays when read by anything else.
    const tq = from(mulQ, 0, 'Transpose', true);
    const tk = from(mulK, 0, 'Transpose');
    const rq = from(tq, 0, 'Reshape', true);
    const rk = from(tk, 0, 'Reshape');
    const weighted = onlyConsumer(softmax);
    const tv = weighted?.opType === 'MatMul' && weighted.inputs[0] === softmax.outputs[0] ? from(weighted, 1, 'Transpose') : undefined;
    const rv = from(tv, 0, 'Reshape');
    const to = onlyConsumer(weighted);
    const ro = onlyConsumer(to);
    if (scores === undefined || mulQ === undefined || mulK === undefined || tq === undefined || tk === undefined || rq === undefined
      || rk === undefined || weighted === undefined || tv === undefined || rv === undefined || to?.opType !== 'Transpose'
      || ro?.opType !== 'Reshape' || ro.outputs.length !== 1) continue;
    if (perm(tq) !== '0213' || perm(tk) !== '0231' || perm(tv) !== '0213' || perm(to) !== '0213') continue;
    const scale = defaultScaleOf(mulQ.inputs[1]);
    if (scale === undefined || scale !== defaultScaleOf(mulK.inputs[1])) continue;
    const heads = [rq, rk, rv].map(headsOf);
    if (heads.some((h) => h === undefined) || !same(heads as number[])) continue;
    for (const n of [rk, rv, tk, tv, mulQ, mulK, scores, softmax, weighted, to, ro]) removed.add(n);
    if (onlyConsumer(tq) === mulQ) removed.add(tq);
    if (onlyConsumer(rq) === tq && removed.has(tq)) removed.add(rq);
    replacement.set(ro, multiHeadAttentionNode(`${softmax.name}/MultiHeadAttention`, [rq.inputs[0], rk.inputs[0], rv.inputs[0]],
      ro.outputs[0], heads[0] as number));
  }
  if (replacement.size === 0) return { bytes: model, fused: 0 };

  const graphParts: Uint8Array[] = [];
  const byField = new Map(nodes.map((n) => [n.field.start, n]));
  for (const f of fields(model, graph.dataStart, graph.end)) {
    const node = byField.get(f.start);
    if (node !== undefined && removed.has(node)) {
      const fused = replacement.get(node);
      if (fused !== undefined) graphParts.push(fused);
    } else graphParts.push(model.subarray(f.start, f.end));
  }
  const parts: Uint8Array[] = [];
  let hasMsOpset = false;
  for (const f of fields(model, 0, model.length)) {
    if (f.num === 7 && f.wire === 2) parts.push(lengthDelimited(7, concat(graphParts)));
    else {
      if (f.num === 8 && f.wire === 2) {
        hasMsOpset ||= [...fields(model, f.dataStart, f.end)].some((g) => g.num === 1 && g.wire === 2 && text(model, g) === MS_DOMAIN);
      }
      parts.push(model.subarray(f.start, f.end));
    }
  }
  if (!hasMsOpset) parts.push(lengthDelimited(8, concat([lengthDelimited(1, new TextEncoder().encode(MS_DOMAIN)), Uint8Array.from([2 * 8, 1])])));
  return { bytes: concat(parts), fused: replacement.size };
}

/**
 * Graphs up to this size are read to fuse their attention: the graph of a model that keeps its weights in external
 * data (Optimum's SD UNets: ~1 MB). Larger files hold their weights inline; reading those whole would add their size
 * to the memory of loading them, so they are loaded by path as they are.
 */
export const FUSE_ATTENTION_MAX_BYTES = 64 * 2 ** 20;

/** Whether the engine will run `file`'s attention fused (small enough to read, and the pattern found). */
export function attentionFusable(file: string): boolean {
  try {
    if (statSync(file).size > FUSE_ATTENTION_MAX_BYTES) return false;
    return fuseAttention(new Uint8Array(readFileSync(file))).fused > 0;
  } catch {
    return false;
  }
}
