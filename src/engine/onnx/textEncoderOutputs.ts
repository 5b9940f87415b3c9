/**
 * Text encoder outputs for model.ts: which output is the penultimate layer (SDXL reads hidden_states[-2]), per-chunk
 * results joined back into one batch, and two encoders' hidden states side by side.
 */
import { concat, fail } from './modelFeeds';
import type { OnnxSession } from './session';

/**
 * The name of the penultimate layer's hidden states: exports with output_hidden_states declare
 * `hidden_states.0` (the embeddings) … `hidden_states.N` (the last layer), so diffusers' hidden_states[-2] is
 * `hidden_states.{N-1}` (Optimum's pipeline takes the second-to-last output, the same tensor).
 */
export function penultimateHiddenState(session: OnnxSession): string {
  const layers = session.outputs
    .map((o) => /^hidden_states\.(\d+)$/.exec(o.name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  const last = Math.max(-1, ...layers);
  if (last < 1 || !layers.includes(last - 1)) {
    fail(session, `SDXL reads the penultimate layer's hidden states: expected outputs hidden_states.0 … hidden_states.N `
      + `(exported with output_hidden_states), found ${session.outputs.map((o) => o.name).join(', ') || 'none'}`);
  }
  return `hidden_states.${last - 1}`;
}

/** Joins per-chunk outputs (static-batch exports run in chunks) into one batch-major tensor each. */
export function outputsOf(parts: ReadonlyMap<string, { parts: Float32Array[]; dims: readonly number[] }>, batch: number):
    Record<string, { data: Float32Array; dims: number[] }> {
  const out: Record<string, { data: Float32Array; dims: number[] }> = {};
  for (const [name, entry] of parts) {
    out[name] = { data: entry.parts.length === 1 ? entry.parts[0] : concat(entry.parts), dims: [batch, ...entry.dims.slice(1)] };
  }
  return out;
}

/** [B, S, D1] and [B, S, D2] → [B, S, D1 + D2] (torch.concat(..., dim=-1)). */
export function concatLastDim(a: { data: Float32Array; dims: number[] }, b: { data: Float32Array; dims: number[] },
  onMismatch: (message: string) => never): { data: Float32Array; dims: number[] } {
  const lead = a.dims.slice(0, -1);
  if (a.dims.length !== b.dims.length || lead.some((d, i) => d !== b.dims[i])) {
    onMismatch(`the two text encoders' hidden states do not line up: [${a.dims.join(', ')}] and [${b.dims.join(', ')}]`);
  }
  const d1 = a.dims[a.dims.length - 1];
  const d2 = b.dims[b.dims.length - 1];
  const rows = a.data.length / d1;
  const data = new Float32Array(rows * (d1 + d2));
  for (let r = 0; r < rows; r++) {
    data.set(a.data.subarray(r * d1, (r + 1) * d1), r * (d1 + d2));
    data.set(b.data.subarray(r * d2, (r + 1) * d2), r * (d1 + d2) + d1);
  }
  return { data, dims: [...lead, d1 + d2] };
}
