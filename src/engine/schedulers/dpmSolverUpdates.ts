/**
 * The multistep update formulas of DPM-Solver (Lu et al. 2022, "DPM-Solver", eqs. 3.7–3.9 with multistep
 * differences) and DPM-Solver++ (Lu et al. 2022, "DPM-Solver++", Algorithms 1–2), with their SDE variants, as
 * diffusers' DPMSolverMultistepScheduler writes them. Symbols: `lambda*` λ = log α − log σ, `h` = λₜ − λₛ₀,
 * `r0`/`r1` ratios of the previous step sizes to h, `D0`/`D1`/`D2` the 0th/1st/2nd divided differences of the
 * model outputs m. Every scalar is a float32 0-dim tensor in diffusers, so each operation is rounded with `f32`.
 */
import { f32 } from './common';
import { levelOf } from './sigmas';

export type DpmAlgorithm = 'dpmsolver++' | 'dpmsolver' | 'sde-dpmsolver++' | 'sde-dpmsolver';
export type DpmSolverType = 'midpoint' | 'heun';

/** Σ cⱼ·vⱼ left to right, each product and partial sum rounded to float32 (torch's order of operations). */
function combine(terms: ReadonlyArray<readonly [number, Float32Array]>): Float32Array {
  const out = new Float32Array(terms[0][1].length);
  const [c0, v0] = terms[0];
  for (let k = 0; k < out.length; k++) out[k] = c0 * v0[k];
  for (let j = 1; j < terms.length; j++) {
    const [c, v] = terms[j];
    for (let k = 0; k < out.length; k++) out[k] = out[k] + f32(c * v[k]);
  }
  return out;
}

/** (1/r)·(a − b), float32. */
function divided(a: Float32Array, b: Float32Array, r: number): Float32Array {
  const inv = f32(1 / r);
  return a.map((x, k) => inv * f32(x - b[k]));
}

/**
 * One multistep update from σ list [σₜ, σₛ₀, σₛ₁, σₛ₂] (target first, then current and earlier) using the
 * newest `order` model outputs `m` (newest last). `noise` is required by the SDE variants.
 */
export function dpmSolverUpdate(
  algorithm: DpmAlgorithm, solverType: DpmSolverType, order: 1 | 2 | 3,
  sigmas: readonly number[], m: readonly Float32Array[], sample: Float32Array, noise: Float32Array | null,
): Float32Array {
  const t = levelOf(sigmas[0]);
  const s0 = levelOf(sigmas[1]);
  const h = f32(t.lambda - s0.lambda);
  const m0 = m[m.length - 1];
  const sde = algorithm === 'sde-dpmsolver++' || algorithm === 'sde-dpmsolver';
  if (sde && noise === null) throw new Error(`algorithm_type ${algorithm} needs noise: pass opts.generator`);
  const eMinusH = f32(Math.exp(-h));
  const eH = f32(Math.exp(h));
  const e2 = f32(Math.exp(f32(-2 * h)));
  // x-coefficient and the σₜ·√(…)·z noise term of each family
  const cx = algorithm === 'dpmsolver++' ? f32(t.sigma / s0.sigma)
    : algorithm === 'sde-dpmsolver++' ? f32(f32(t.sigma / s0.sigma) * eMinusH) : f32(t.alpha / s0.alpha);
  const noiseTerm = (): Array<readonly [number, Float32Array]> => {
    if (!sde || noise === null) return [];
    const std = algorithm === 'sde-dpmsolver++' ? f32(Math.sqrt(f32(1 - e2))) : f32(Math.sqrt(f32(f32(Math.exp(f32(2 * h))) - 1)));
    return [[f32(t.sigma * std), noise]];
  };
  // the φ₁ coefficient of D0 (sign folded in)
  const c0 = algorithm === 'dpmsolver++' ? -f32(t.alpha * f32(eMinusH - 1))
    : algorithm === 'dpmsolver' ? -f32(t.sigma * f32(eH - 1))
      : algorithm === 'sde-dpmsolver++' ? f32(t.alpha * f32(1 - e2)) : -f32(2 * f32(t.sigma * f32(eH - 1)));
  if (order === 1) return combine([[cx, sample], [c0, m0], ...noiseTerm()]);

  const s1 = levelOf(sigmas[2]);
  const m1 = m[m.length - 2];
  const h0 = f32(s0.lambda - s1.lambda);
  const r0 = f32(h0 / h);
  if (order === 2) {
    const d1 = divided(m0, m1, r0);
    let c1: number;
    if (solverType === 'midpoint') {
      // ½·(the D0 coefficient), except SDE-DPM-Solver whose D0 coefficient carries a factor 2
      c1 = algorithm === 'sde-dpmsolver' ? -f32(t.sigma * f32(eH - 1)) : f32(0.5 * c0);
    } else {
      c1 = algorithm === 'dpmsolver++' ? f32(t.alpha * f32(f32(f32(eMinusH - 1) / h) + 1))
        : algorithm === 'dpmsolver' ? -f32(t.sigma * f32(f32(f32(eH - 1) / h) - 1))
          : algorithm === 'sde-dpmsolver++' ? f32(t.alpha * f32(f32(f32(1 - e2) / f32(-2 * h)) + 1))
            : -f32(2 * f32(t.sigma * f32(f32(f32(eH - 1) / h) - 1)));
    }
    return combine([[cx, sample], [c0, m0], [c1, d1], ...noiseTerm()]);
  }

  if (algorithm === 'sde-dpmsolver') throw new Error('algorithm_type "sde-dpmsolver" has no third-order update');
  const s2 = levelOf(sigmas[3]);
  const m2 = m[m.length - 3];
  const h1 = f32(s1.lambda - s2.lambda);
  const r1 = f32(h1 / h);
  const d10 = divided(m0, m1, r0);
  const d11 = divided(m1, m2, r1);
  const r01 = f32(r0 + r1);
  const diff = d10.map((x, k) => x - d11[k]);
  const w = f32(r0 / r01);
  const d1 = d10.map((x, k) => x + f32(w * diff[k]));
  const inv = f32(1 / r01);
  const d2 = diff.map((x) => inv * x);
  const h2 = f32(h * h);
  let c1: number;
  let c2: number;
  if (algorithm === 'dpmsolver++') {
    c1 = f32(t.alpha * f32(f32(f32(eMinusH - 1) / h) + 1));
    c2 = -f32(t.alpha * f32(f32(f32(f32(eMinusH - 1) + h) / h2) - 0.5));
  } else if (algorithm === 'dpmsolver') {
    c1 = -f32(t.sigma * f32(f32(f32(eH - 1) / h) - 1));
    c2 = -f32(t.sigma * f32(f32(f32(f32(eH - 1) - h) / h2) - 0.5));
  } else {
    const twoH = f32(2 * h);
    c1 = f32(t.alpha * f32(f32(f32(1 - e2) / f32(-2 * h)) + 1));
    c2 = f32(t.alpha * f32(f32(f32(f32(1 - e2) - twoH) / f32(twoH * twoH)) - 0.5));
  }
  return combine([[cx, sample], [c0, m0], [c1, d1], [c2, d2], ...noiseTerm()]);
}
