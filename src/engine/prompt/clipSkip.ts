/**
 * Clip skip (A1111's "Clip skip: N", CLIP_stop_at_last_layers): the hidden states N − 1 layers before the last,
 * through the text encoder's final layer norm — hidden_states[-N] then final_layer_norm, as sd_hijack_clip does.
 * From an export's `hidden_states.0 … hidden_states.L` outputs: the final norm's γ and β are recovered from the
 * model's own pair (hidden_states.L → last_hidden_state) by least squares per channel, so no weights are read from
 * the file.
 */

/** A LayerNorm's per-channel scale and shift. */
export interface LayerNormParams { readonly gamma: Float64Array; readonly beta: Float64Array; readonly eps: number }

/** (x − mean) / sqrt(var + eps) per row of `width`, in double. */
function normalizeRows(x: Float32Array, width: number, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / width; r++) {
    let mean = 0;
    for (let c = 0; c < width; c++) mean += x[r * width + c];
    mean /= width;
    let variance = 0;
    for (let c = 0; c < width; c++) variance += (x[r * width + c] - mean) ** 2;
    const inv = 1 / Math.sqrt(variance / width + eps);
    for (let c = 0; c < width; c++) out[r * width + c] = (x[r * width + c] - mean) * inv;
  }
  return out;
}

/** γ and β of y = LayerNorm(x), fitted per channel over all rows (x: the last layer's hidden states, y: last_hidden_state). */
export function fitFinalLayerNorm(x: Float32Array, y: Float32Array, width: number, eps = 1e-5): LayerNormParams {
  const n = normalizeRows(x, width, eps);
  const rows = x.length / width;
  const gamma = new Float64Array(width);
  const beta = new Float64Array(width);
  for (let c = 0; c < width; c++) {
    let sn = 0, sy = 0, snn = 0, sny = 0;
    for (let r = 0; r < rows; r++) {
      const a = n[r * width + c];
      const b = y[r * width + c];
      sn += a; sy += b; snn += a * a; sny += a * b;
    }
    const denominator = rows * snn - sn * sn;
    gamma[c] = denominator === 0 ? 0 : (rows * sny - sn * sy) / denominator;
    beta[c] = (sy - gamma[c] * sn) / rows;
  }
  return { gamma, beta, eps };
}

/** LayerNorm(x) per row of `width` with the given parameters, rounded to float32. */
export function applyLayerNorm(x: Float32Array, width: number, p: LayerNormParams): Float32Array {
  const n = normalizeRows(x, width, p.eps);
  const out = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) out[k] = n[k] * p.gamma[k % width] + p.beta[k % width];
  return out;
}

/**
 * The output name clip skip reads among an export's `hidden_states.*` outputs: hidden_states[-clipSkip] of
 * hidden_states.0 … hidden_states.L is hidden_states.{L + 1 − clipSkip}; undefined where the export has none.
 */
export function clipSkipOutput(outputNames: readonly string[], clipSkip: number): { name: string; last: string } | undefined {
  const layers = outputNames.map((n) => /^hidden_states\.(\d+)$/.exec(n)).filter((m) => m !== null).map((m) => Number(m![1]));
  if (layers.length === 0) return undefined;
  const last = Math.max(...layers);
  const index = last + 1 - clipSkip;
  if (index < 0 || !layers.includes(index)) return undefined;
  return { name: `hidden_states.${index}`, last: `hidden_states.${last}` };
}
