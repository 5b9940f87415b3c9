/**
 * The guidance-scale embedding LCM UNets take as `timestep_cond` (Latent Consistency Models, Luo et al. 2023;
 * diffusers' `get_guidance_scale_embedding`, after VDM's sinusoidal embedding): w' = 1000·w with w = cfg − 1,
 * e_k = exp(−k·ln(10000)/(half − 1)) for k < half = ⌊dim/2⌋, embedding = [sin(w'·e), cos(w'·e)] (zero-padded
 * when dim is odd). Computed in float32 steps as torch does.
 */
export function guidanceScaleEmbedding(guidanceScale: number, dim: number): Float32Array {
  const f = Math.fround;
  const w = f(f(guidanceScale - 1) * 1000);
  const half = Math.floor(dim / 2);
  const step = f(f(Math.log(10000)) / (half - 1));
  const out = new Float32Array(dim);
  for (let k = 0; k < half; k++) {
    const arg = f(w * f(Math.exp(f(k * -step))));
    out[k] = Math.sin(arg);
    out[half + k] = Math.cos(arg);
  }
  return out;
}
