/**
 * Composable diffusion (Liu et al. 2022, "Compositional Visual Generation with Composable Diffusion Models") as
 * AUTOMATIC1111's CFGDenoiser.combine_denoised does it for AND: one UNet batch with every sub-prompt and the
 * unconditional, combined as u + Σⱼ (cⱼ − u) · (wⱼ · cfg). A1111 combines the denoised x₀; ε (or v) is affine in
 * x₀ with the same coefficients for every row, so combining model outputs is the same sum.
 */

/** One image's guided output from its unconditional output and its sub-prompts' outputs, in float32 as torch. */
export function combineComposable(uncond: Float32Array, conds: readonly Float32Array[], weights: readonly number[],
    cfgScale: number): Float32Array {
  const out = Float32Array.from(uncond);
  conds.forEach((cond, j) => {
    const scale = Math.fround(weights[j] * cfgScale);
    for (let k = 0; k < out.length; k++) out[k] = out[k] + Math.fround(Math.fround(cond[k] - uncond[k]) * scale);
  });
  return out;
}
