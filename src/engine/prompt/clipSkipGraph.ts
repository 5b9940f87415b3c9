/**
 * Clip skip on text encoders exported without `hidden_states.*` outputs (SD 1.x Optimum / diffusers exports give
 * only last_hidden_state and pooler_output): the model's bytes with two more graph outputs — the input of encoder
 * layer L + 1 − N (hidden_states[-N]) and the input of the final layer norm (hidden_states[-1]) — added in memory.
 * The file is not touched; the copy is loaded from memory. The tensors are found by the module scopes that torch's
 * exporter writes into node names (`…/encoder/layers.{i}/layer_norm1/…`, `…/final_layer_norm/…`).
 * Protobuf field numbers (read with src/engine/model/protobuf.ts) from onnx/onnx.proto3: ModelProto.graph 7; GraphProto.node 1, output 12;
 * NodeProto.input 1, output 2, name 3, op_type 4; ValueInfoProto.name 1, type 2.
 */

import { concat, fields, lengthDelimited, text } from '../model';

interface NodeInfo { readonly name: string; readonly opType: string; readonly inputs: string[] }

/** The input tensor of a LayerNorm whose nodes carry `scope` in their names (one LayerNormalization, or its decomposition). */
function layerNormInput(nodes: readonly NodeInfo[], scope: RegExp): string | undefined {
  const group = nodes.filter((n) => scope.test(n.name));
  const node = group.find((n) => n.opType === 'LayerNormalization') ?? group.find((n) => n.opType === 'ReduceMean');
  return node?.inputs[0];
}

/** What addClipSkipOutputs added: the hidden state clip skip reads, and the final norm's input it is fitted from. */
export interface ClipSkipGraph { readonly bytes: Uint8Array; readonly name: string; readonly last: string }

/**
 * The model with graph outputs for hidden_states[-clipSkip] and hidden_states[-1]; throws with a clear message where
 * the graph's node names do not show the encoder layers (then clip skip cannot be found in it).
 */
export function addClipSkipOutputs(model: Uint8Array, clipSkip: number, file = 'text_encoder/model.onnx'): ClipSkipGraph {
  const graph = [...fields(model, 0, model.length)].find((f) => f.num === 7 && f.wire === 2);
  if (graph === undefined) throw new Error(`${file} has no graph`);
  const nodes: NodeInfo[] = [];
  const outputs = new Map<string, Uint8Array | undefined>();
  for (const f of fields(model, graph.dataStart, graph.end)) {
    if (f.num === 1 && f.wire === 2) {
      let name = '';
      let opType = '';
      const inputs: string[] = [];
      for (const g of fields(model, f.dataStart, f.end)) {
        if (g.num === 1 && g.wire === 2) inputs.push(text(model, g));
        else if (g.num === 3 && g.wire === 2) name = text(model, g);
        else if (g.num === 4 && g.wire === 2) opType = text(model, g);
      }
      nodes.push({ name, opType, inputs });
    } else if (f.num === 12 && f.wire === 2) {
      let name = '';
      let type: Uint8Array | undefined;
      for (const g of fields(model, f.dataStart, f.end)) {
        if (g.num === 1 && g.wire === 2) name = text(model, g);
        else if (g.num === 2 && g.wire === 2) type = model.subarray(g.dataStart, g.end);
      }
      outputs.set(name, type);
    }
  }
  const layers = new Set<number>();
  for (const n of nodes) {
    const m = /\/encoder\/layers\.(\d+)\/layer_norm1\//.exec(n.name);
    if (m !== null) layers.add(Number(m[1]));
  }
  const layerCount = layers.size === 0 ? 0 : Math.max(...layers) + 1;
  const index = layerCount + 1 - clipSkip;
  const name = index >= 1 && index < layerCount ? layerNormInput(nodes, new RegExp(`/encoder/layers\\.${index}/layer_norm1/`)) : undefined;
  const last = layerNormInput(nodes, /\/final_layer_norm\//);
  const type = outputs.get('last_hidden_state');
  if (layerCount === 0 || name === undefined || last === undefined || type === undefined) {
    throw new Error(`clip skip ${clipSkip} cannot be found in ${file}: it needs the encoder layers' hidden states `
      + `(outputs hidden_states.0 … hidden_states.N, or node names …/encoder/layers.N/layer_norm1/… and …/final_layer_norm/… `
      + `with a last_hidden_state output)${layerCount > 0 ? `; the encoder has ${layerCount} layers` : ''}`);
  }
  const added = [name, last].filter((n, k, all) => !outputs.has(n) && all.indexOf(n) === k).map((n) =>
    lengthDelimited(12, concat([lengthDelimited(1, new TextEncoder().encode(n)), lengthDelimited(2, type)])));
  const newGraph = concat([model.subarray(graph.dataStart, graph.end), ...added]);
  const bytes = concat([model.subarray(0, graph.start), lengthDelimited(7, newGraph), model.subarray(graph.end)]);
  return { bytes, name, last };
}
