/**
 * A patched copy of one ONNX component (unet, text_encoder, text_encoder_2): W′ = W + Σ weight · (alpha/rank) · up·down
 * over the LoRA layers that name its modules, and, for text encoders, the token-embedding table with rows appended
 * (textual-inversion vectors). The user's files are never opened for writing: the model file and its external-data
 * files are copied into `dest` (a reflink where the file system has them), and the copies' bytes are changed in place
 * (fp16 weights are read, added to in float32 and written back in fp16). A table that grows needs the model file
 * rewritten (its TensorProto changes length): then the model file is rebuilt in memory with the table inline.
 */
import { constants } from 'node:fs';
import { copyFile, link, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { concat, encodeVarint, fields, lengthDelimited } from '../model';
import { float16ToFloat32, float32ToFloat16 } from '../onnx';
import type { LoraLayer } from './loraFile';
import { LowRankProduct } from './lowRankProduct';
import { indexGraphWeights, ONNX_FLOAT, ONNX_FLOAT16, tokenEmbedding, type GraphWeights, type InitializerInfo, type ModuleWeight } from './onnxWeights';

/** One LoRA layer with the weight it is applied at. */
export interface WeightedLayer { readonly layer: LoraLayer; readonly weight: number; readonly network: string }

export interface LayerReport {
  readonly network: string;
  readonly applied: number;
  /** Layers not applied, each with why. */
  readonly skipped: string[];
}

/** The delta of one layer in torch layout [out, in·k·k] (row-major), times scale · weight. */
function layerDelta(l: LoraLayer, factor: number): { delta: Float32Array; out: number; inner: number } {
  const rank = l.downShape[0];
  const out = l.upShape[0];
  const inner = l.down.length / rank;
  const delta = new Float32Array(out * inner);
  for (let o = 0; o < out; o++) {
    const row = o * inner;
    for (let r = 0; r < rank; r++) {
      const u = l.up[o * rank + r] * factor;
      if (u === 0) continue;
      const d = r * inner;
      for (let i = 0; i < inner; i++) delta[row + i] += u * l.down[d + i];
    }
  }
  return { delta, out, inner };
}

/** [rows, cols] → [cols, rows]. */
function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}

/** Why a layer cannot patch this weight, or undefined. */
function misfit(l: LoraLayer, target: ModuleWeight): string | undefined {
  const dims = target.init.dims;
  const torchDims = target.layout === 'transposed' ? [dims[1], dims[0]] : [...dims];
  const out = l.upShape[0];
  const inner = l.down.length / l.downShape[0];
  const want = torchDims.slice(1).reduce((a, b) => a * b, 1);
  if (torchDims[0] !== out || want !== inner) {
    return `shapes do not fit: the LoRA makes [${out}, ${l.downShape.slice(1).join('×')}], the model's weight is [${torchDims.join(', ')}]`;
  }
  if (target.init.dataType !== ONNX_FLOAT && target.init.dataType !== ONNX_FLOAT16) return `the weight is ONNX data type ${target.init.dataType}, not float32/float16`;
  if (target.init.place.kind === 'typed-field') return 'the weight is stored in a typed field, not raw bytes';
  if (target.sharedWith.length > 1) return `the weight is shared by ${target.sharedWith.join(', ')}`;
  return undefined;
}

/** The summed deltas per initializer (in the initializer's own layout) and what was applied. */
export async function planPatches(weights: GraphWeights, layers: readonly WeightedLayer[], component: string, gemm?: LowRankProduct):
    Promise<{ patches: Map<string, Float32Array>; reports: Map<string, LayerReport> }> {
  const patches = new Map<string, Float32Array>();
  const reports = new Map<string, LayerReport>();
  for (const { layer, weight, network } of layers) {
    let report = reports.get(network);
    if (report === undefined) {
      report = { network, applied: 0, skipped: [] };
      reports.set(network, report);
    }
    const target = weights.modules.get(layer.key);
    if (target === undefined) {
      (report.skipped).push(`${layer.name}: no module ${layer.key} in ${component}`);
      continue;
    }
    const why = misfit(layer, target);
    if (why !== undefined) {
      report.skipped.push(`${layer.name}: ${why}`);
      continue;
    }
    (report as { applied: number }).applied++;
    if (weight === 0) continue;
    const transposed = target.layout === 'transposed';
    let delta: Float32Array;
    if (gemm !== undefined) {
      const rank = layer.downShape[0];
      const factor = weight * layer.scale;
      const up = layer.up.map((v) => v * factor);
      delta = await gemm.product(up, layer.down, layer.upShape[0], rank, layer.down.length / rank, transposed);
    } else {
      const d = layerDelta(layer, weight * layer.scale);
      delta = transposed ? transpose(d.delta, d.out, d.inner) : d.delta;
    }
    const acc = patches.get(target.init.name);
    if (acc === undefined) patches.set(target.init.name, delta.slice());
    else for (let i = 0; i < acc.length; i++) acc[i] += delta[i];
  }
  return { patches, reports };
}

/** W + delta over raw initializer bytes (float32 or float16 little-endian), returned as new bytes. */
function addDelta(bytes: Uint8Array, dataType: number, delta: Float32Array, name: string): Uint8Array {
  if (dataType === ONNX_FLOAT) {
    const w = new Float32Array(bytes.slice().buffer);
    if (w.length !== delta.length) throw new Error(`${name}: ${w.length} values, the patch has ${delta.length}`);
    for (let i = 0; i < w.length; i++) w[i] += delta[i];
    return new Uint8Array(w.buffer);
  }
  const h = new Uint16Array(bytes.slice().buffer);
  if (h.length !== delta.length) throw new Error(`${name}: ${h.length} values, the patch has ${delta.length}`);
  const w = float16ToFloat32(h);
  for (let i = 0; i < w.length; i++) w[i] += delta[i];
  return new Uint8Array(float32ToFloat16(w).buffer);
}

/** Copies a file, as a reflink where the file system can (no extra disk), else byte for byte. */
async function copy(src: string, dst: string): Promise<void> {
  await copyFile(src, dst, constants.COPYFILE_FICLONE);
}

/** External-data files an initializer list names. */
function externalFiles(weights: GraphWeights): Set<string> {
  const files = new Set<string>();
  for (const i of weights.initializers.values()) if (i.place.kind === 'external') files.add(i.place.location);
  return files;
}

export interface ComponentPatch {
  /** The component's model file, e.g. <model>/unet/model.onnx. */
  readonly source: string;
  /** The folder its patched copy goes into (created). */
  readonly dest: string;
  readonly layers: readonly WeightedLayer[];
  /** Rows to append to the token-embedding table (text encoders; float32, `width` each). */
  readonly extraRows?: Float32Array;
  /** A row of the table appended once more after `extraRows` (SDXL's end-of-text: A1111's pooled output, networkSet.ts). */
  readonly copyRow?: number;
  readonly textEncoder: boolean;
  readonly component: string;
  /** The model file's bytes when the caller has read them already (they are changed in place). */
  readonly model?: Uint8Array;
}

export interface PatchResult {
  readonly file: string;
  readonly reports: Map<string, LayerReport>;
  readonly patchedWeights: number;
  /** The table's row count before the appended rows (the first new token id). */
  readonly vocabSize?: number;
  /** The token id of the copied row (`copyRow`), the table's last. */
  readonly copiedRowId?: number;
}

/** A TensorProto for a float table [rows, width] with inline raw data, named `name`. */
function tableProto(name: string, rows: number, width: number, dataType: number, raw: Uint8Array): Uint8Array {
  const dims = [...encodeVarint(1 * 8 + 0), ...encodeVarint(rows), ...encodeVarint(1 * 8 + 0), ...encodeVarint(width)];
  const type = [...encodeVarint(2 * 8 + 0), ...encodeVarint(dataType)];
  return concat([new Uint8Array([...dims, ...type]), lengthDelimited(8, new TextEncoder().encode(name)), lengthDelimited(9, raw)]);
}

/** Writes the patched copy of one component into `dest` and returns the model file to load. */
export async function patchComponent(p: ComponentPatch): Promise<PatchResult> {
  const model = p.model ?? new Uint8Array(await readFile(p.source));
  const weights = indexGraphWeights(model, p.source, p.textEncoder);
  const gemm = new LowRankProduct();
  let planned;
  try {
    planned = await planPatches(weights, p.layers, p.component, gemm);
  } finally {
    await gemm.release();
  }
  const { patches, reports } = planned;
  await mkdir(p.dest, { recursive: true });
  const srcDir = dirname(p.source);
  const outFile = join(p.dest, basename(p.source));
  const patchedExternal = new Set<string>();
  for (const name of patches.keys()) {
    const place = weights.initializers.get(name)!.place;
    if (place.kind === 'external') patchedExternal.add(place.location);
  }
  for (const location of externalFiles(weights)) {
    const from = join(srcDir, location);
    const to = join(p.dest, location);
    await mkdir(dirname(to), { recursive: true });
    if (patchedExternal.has(location)) await copy(from, to);
    else {
      try {
        await link(from, to); // unchanged weights: a hard link costs no disk (a real file, which ONNX Runtime accepts)
      } catch {
        await copy(from, to);
      }
    }
  }
  // external tensors: patched in the copies, in place
  for (const [name, delta] of patches) {
    const init = weights.initializers.get(name)!;
    if (init.place.kind !== 'external') continue;
    const handle = await open(join(p.dest, init.place.location), 'r+');
    try {
      const bytes = new Uint8Array(init.place.length);
      await handle.read(bytes, 0, bytes.length, init.place.offset);
      await handle.write(addDelta(bytes, init.dataType, delta, name), 0, bytes.length, init.place.offset);
    } finally {
      await handle.close();
    }
  }
  // inline tensors: patched in the model's bytes
  for (const [name, delta] of patches) {
    const init = weights.initializers.get(name)!;
    if (init.place.kind !== 'inline') continue;
    model.set(addDelta(model.subarray(init.place.offset, init.place.offset + init.place.length), init.dataType, delta, name), init.place.offset);
  }
  let vocabSize: number | undefined;
  let copiedRowId: number | undefined;
  let out: Uint8Array = model;
  if (p.extraRows !== undefined && p.extraRows.length > 0) {
    const table = tokenEmbedding(weights);
    if (table === undefined) throw new Error(`${p.source}: no token_embedding.weight initializer to extend with embeddings`);
    out = await extendTable(model, weights, table, p.extraRows, srcDir, p.copyRow);
    vocabSize = table.dims[0];
    if (p.copyRow !== undefined) copiedRowId = vocabSize + p.extraRows.length / table.dims[1];
  }
  await writeFile(outFile, out);
  return { file: outFile, reports, patchedWeights: patches.size, vocabSize, ...(copiedRowId === undefined ? {} : { copiedRowId }) };
}

/** The model bytes with `table` replaced by an inline one holding its rows and `extra` appended (then row `copyRow` again). */
async function extendTable(model: Uint8Array, weights: GraphWeights, table: InitializerInfo, extra: Float32Array, srcDir: string,
    copyRow?: number): Promise<Uint8Array> {
  const [rows, width] = table.dims;
  if (extra.length % width !== 0) throw new Error(`embedding vectors of ${extra.length} values do not split into rows of ${width}`);
  let old: Uint8Array;
  if (table.place.kind === 'inline') old = model.subarray(table.place.offset, table.place.offset + table.place.length);
  else if (table.place.kind === 'external') {
    const handle = await open(join(srcDir, table.place.location), 'r');
    try {
      old = new Uint8Array(table.place.length);
      await handle.read(old, 0, old.length, table.place.offset);
    } finally {
      await handle.close();
    }
  } else throw new Error(`${table.name} is stored in a typed field; it cannot be extended`);
  const added = table.dataType === ONNX_FLOAT16 ? new Uint8Array(float32ToFloat16(extra).buffer) : new Uint8Array(extra.buffer, extra.byteOffset, extra.byteLength);
  const rowBytes = old.length / rows;
  if (copyRow !== undefined && !(Number.isInteger(copyRow) && copyRow >= 0 && copyRow < rows)) throw new Error(`${table.name}: no row ${copyRow} to copy`);
  const copied = copyRow === undefined ? new Uint8Array(0) : old.slice(copyRow * rowBytes, (copyRow + 1) * rowBytes);
  const proto = tableProto(table.name, rows + extra.length / width + (copyRow === undefined ? 0 : 1), width, table.dataType, concat([old, added, copied]));
  const graph = weights.graph;
  const parts: Uint8Array[] = [];
  for (const f of fields(model, graph.dataStart, graph.end)) {
    parts.push(f === table.field || (f.start === table.field.start) ? lengthDelimited(5, proto) : model.subarray(f.start, f.end));
  }
  return concat([model.subarray(0, graph.start), lengthDelimited(7, concat(parts)), model.subarray(graph.end)]);
}
