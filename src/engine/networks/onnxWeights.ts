/**
 * The weights of an exported torch module inside an ONNX graph, found by the module's name: torch's exporter keeps
 * the names of weights it passes as they are (convolutions: `unet.down_blocks.0.resnets.0.conv1.weight`, Gemm
 * linears: `…linear_1.weight`, torch layout out × in) and writes the weight of a Linear it turns into a MatMul as a
 * transposed copy named `onnx::MatMul_…` (in × out), whose consumer node carries the module's scope in its name
 * (`/unet/down_blocks.0/attentions.0/transformer_blocks.0/attn1/to_q/MatMul`). Where each initializer's bytes lie
 * (inline `raw_data` in the model file or `external_data` in another file) is read from the protobuf
 * (onnx/onnx.proto3: GraphProto.node 1, initializer 5; TensorProto.dims 1, data_type 2, float_data 4, name 8,
 * raw_data 9, external_data 13, data_location 14; NodeProto.input 1, name 3, op_type 4, attribute 5;
 * AttributeProto.name 1, i 3).
 */
import { fields, readVarint, stringEntry, text, type Field } from '../model';

/** ONNX TensorProto data types the patcher changes. */
export const ONNX_FLOAT = 1;
export const ONNX_FLOAT16 = 10;

/** Where an initializer's bytes are. */
export type DataPlace =
  | { readonly kind: 'inline'; readonly offset: number; readonly length: number }
  | { readonly kind: 'external'; readonly location: string; readonly offset: number; readonly length: number }
  | { readonly kind: 'typed-field' };

export interface InitializerInfo {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  readonly place: DataPlace;
  /** The whole TensorProto field in the model file (for a rewrite that replaces it). */
  readonly field: Field;
}

interface NodeInfo { readonly name: string; readonly opType: string; readonly inputs: readonly string[]; readonly transB: number }

/** A module's weight: its initializer and how it is laid out against torch's [out, in, …]. */
export interface ModuleWeight {
  readonly init: InitializerInfo;
  /** 'torch': as torch holds it ([out, in] or [out, in, kh, kw]); 'transposed': [in, out] (a MatMul's B). */
  readonly layout: 'torch' | 'transposed';
  /** Module scopes of every node reading this initializer (more than one: a weight shared by modules). */
  readonly sharedWith: readonly string[];
}

export interface GraphWeights {
  readonly graph: Field;
  readonly initializers: ReadonlyMap<string, InitializerInfo>;
  /** By the module's path with every `.` and `/` as `_` (kohya's spelling), prefixes dropped (see moduleKey). */
  readonly modules: ReadonlyMap<string, ModuleWeight>;
}

function readInitializer(buf: Uint8Array, f: Field): InitializerInfo {
  let name = '';
  let dataType = 0;
  const dims: number[] = [];
  let raw: Field | undefined;
  let location: string | undefined;
  let offset = 0;
  let length = -1;
  let external = false;
  let typed = false;
  for (const g of fields(buf, f.dataStart, f.end)) {
    if (g.num === 1) {
      if (g.wire === 0) dims.push(readVarint(buf, g.start + 1)[0]);
      else if (g.wire === 2) for (let p = g.dataStart; p < g.end;) { const [v, n] = readVarint(buf, p); dims.push(v); p = n; }
    } else if (g.num === 2 && g.wire === 0) dataType = readVarint(buf, g.start + 1)[0];
    else if (g.num === 8 && g.wire === 2) name = text(buf, g);
    else if (g.num === 9 && g.wire === 2) raw = g;
    else if (g.num === 14 && g.wire === 0) external = readVarint(buf, g.start + 1)[0] === 1;
    else if (g.num === 13 && g.wire === 2) {
      const [key, value] = stringEntry(buf, g);
      if (key === 'location') location = value;
      else if (key === 'offset') offset = Number(value);
      else if (key === 'length') length = Number(value);
    } else if ((g.num >= 4 && g.num <= 7) || g.num === 10 || g.num === 11) typed = true;
  }
  let place: DataPlace;
  if (external && location !== undefined) {
    const elements = dims.reduce((a, b) => a * b, 1);
    const size = dataType === ONNX_FLOAT16 ? 2 : 4;
    place = { kind: 'external', location, offset, length: length >= 0 ? length : elements * size };
  } else if (raw !== undefined) place = { kind: 'inline', offset: raw.dataStart, length: raw.end - raw.dataStart };
  else place = { kind: typed ? 'typed-field' : 'typed-field' };
  return { name, dims, dataType, place, field: f };
}

function readNode(buf: Uint8Array, f: Field): NodeInfo {
  let name = '';
  let opType = '';
  let transB = 0;
  const inputs: string[] = [];
  for (const g of fields(buf, f.dataStart, f.end)) {
    if (g.num === 1 && g.wire === 2) inputs.push(text(buf, g));
    else if (g.num === 3 && g.wire === 2) name = text(buf, g);
    else if (g.num === 4 && g.wire === 2) opType = text(buf, g);
    else if (g.num === 5 && g.wire === 2) {
      let attr = '';
      let i = 0;
      for (const h of fields(buf, g.dataStart, g.end)) {
        if (h.num === 1 && h.wire === 2) attr = text(buf, h);
        else if (h.num === 3 && h.wire === 0) i = readVarint(buf, h.start + 1)[0];
      }
      if (attr === 'transB') transB = i;
    }
  }
  return { name, opType, inputs, transB };
}

/** Wrapper scopes exporters put before the module path (Optimum: `unet.`, `model.`, `model.text_model.`). */
const PREFIXES = ['unet.', 'model.text_model.', 'model.', 'text_model.'];

/**
 * A module path as the key LoRA layers are matched by: wrapper prefixes dropped, `text_model.` kept for text
 * encoders (their LoRA names have it), every `.` as `_` (kohya's spelling, as A1111 matches them).
 */
export function moduleKey(path: string, textEncoder: boolean): string {
  let p = path;
  for (const prefix of PREFIXES) {
    if (p.startsWith(prefix)) {
      p = p.slice(prefix.length);
      break;
    }
  }
  if (textEncoder && !p.startsWith('text_model.')) p = `text_model.${p}`;
  return p.replace(/[./]/g, '_');
}

/** The module scope of a node name: `/unet/down_blocks.0/…/to_q/MatMul` → `unet.down_blocks.0.….to_q`. */
function nodeScope(name: string): string | undefined {
  const parts = name.split('/').filter((s) => s !== '');
  if (parts.length < 2) return undefined;
  return parts.slice(0, -1).join('.');
}

/** Reads the graph's initializers and nodes and indexes the weights of Linear and Conv modules by moduleKey. */
export function indexGraphWeights(model: Uint8Array, file: string, textEncoder: boolean): GraphWeights {
  const graph = [...fields(model, 0, model.length)].find((f) => f.num === 7 && f.wire === 2);
  if (graph === undefined) throw new Error(`${file} is not an ONNX model (no graph)`);
  const initializers = new Map<string, InitializerInfo>();
  const nodes: NodeInfo[] = [];
  for (const f of fields(model, graph.dataStart, graph.end)) {
    if (f.num === 5 && f.wire === 2) {
      const init = readInitializer(model, f);
      initializers.set(init.name, init);
    } else if (f.num === 1 && f.wire === 2) nodes.push(readNode(model, f));
  }
  const readers = new Map<string, Array<{ node: NodeInfo; index: number }>>();
  for (const node of nodes) {
    node.inputs.forEach((input, index) => {
      if (!initializers.has(input)) return;
      const list = readers.get(input) ?? [];
      list.push({ node, index });
      readers.set(input, list);
    });
  }
  const modules = new Map<string, ModuleWeight>();
  for (const init of initializers.values()) {
    if (init.dims.length !== 2 && init.dims.length !== 4) continue;
    const users = readers.get(init.name) ?? [];
    const scopes = [...new Set(users.map((u) => nodeScope(u.node.name) ?? u.node.name))];
    if (init.name.endsWith('.weight') && !init.name.startsWith('onnx::')) {
      // A weight under its torch name: Conv, Gemm (transB 1 keeps torch's layout), or a MatMul reading it as B.
      const matmul = users.find((u) => (u.node.opType === 'MatMul' && u.index === 1) || (u.node.opType === 'Gemm' && u.index === 1 && u.node.transB === 0));
      const layout = matmul !== undefined && init.dims.length === 2 ? 'transposed' : 'torch';
      if (users.length > 0 && !users.some((u) => ['Conv', 'Gemm', 'MatMul'].includes(u.node.opType))) continue;
      modules.set(moduleKey(init.name.slice(0, -'.weight'.length), textEncoder), { init, layout, sharedWith: scopes });
      continue;
    }
    if (init.dims.length !== 2) continue;
    for (const { node, index } of users) {
      if (index !== 1 || !(node.opType === 'MatMul' || node.opType === 'Gemm')) continue;
      const scope = nodeScope(node.name);
      if (scope === undefined) continue;
      const layout = node.opType === 'Gemm' && node.transB === 1 ? 'torch' : 'transposed';
      const key = moduleKey(scope, textEncoder);
      if (!modules.has(key)) modules.set(key, { init, layout, sharedWith: scopes });
    }
  }
  return { graph, initializers, modules };
}

/** The initializer holding the token-embedding table (`…embeddings.token_embedding.weight`), if any. */
export function tokenEmbedding(weights: GraphWeights): InitializerInfo | undefined {
  return [...weights.initializers.values()].find((i) => i.name.endsWith('token_embedding.weight') && i.dims.length === 2);
}

/** Nodes that pass a tensor's values on unchanged (poolsAtArgmaxOfIds). */
const VALUE_KEEPING = new Set(['Cast', 'Reshape', 'Identity', 'Flatten', 'Squeeze', 'Unsqueeze']);

/**
 * Whether the graph pools its text embeds at `argmax(input_ids)` (transformers' CLIP text model when its config's
 * eos_token_id is 2, as SDXL's text_encoder_2 exports are): an ArgMax node whose input is the graph input `input_ids`
 * through nodes that keep its values (Cast, Reshape: transformers' `input_ids.view(-1, n)`). Graphs that find the
 * end by `input_ids == eos_token_id` (an Equal on the way) answer false.
 */
export function poolsAtArgmaxOfIds(model: Uint8Array): boolean {
  const graph = [...fields(model, 0, model.length)].find((f) => f.num === 7 && f.wire === 2);
  if (graph === undefined) return false;
  const producer = new Map<string, NodeInfo>();
  const nodes: Array<{ node: NodeInfo; outputs: string[] }> = [];
  for (const f of fields(model, graph.dataStart, graph.end)) {
    if (f.num !== 1 || f.wire !== 2) continue;
    const outputs: string[] = [];
    for (const g of fields(model, f.dataStart, f.end)) if (g.num === 2 && g.wire === 2) outputs.push(text(model, g));
    const node = readNode(model, f);
    nodes.push({ node, outputs });
    for (const o of outputs) producer.set(o, node);
  }
  return nodes.some(({ node }) => {
    if (node.opType !== 'ArgMax') return false;
    let name = node.inputs[0];
    for (let hops = 0; hops < 8; hops++) {
      if (name === 'input_ids') return true;
      const from = producer.get(name);
      if (from === undefined || !VALUE_KEEPING.has(from.opType)) return false;
      name = from.inputs[0];
    }
    return false;
  });
}
