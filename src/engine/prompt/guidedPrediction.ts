/**
 * One guided model prediction per sampler call, as AUTOMATIC1111's CFGDenoiser makes it: the conditioning of the
 * call (prompt editing and alternation switch at A1111's step numbering: the n-th model call reads step n, and
 * second-order samplers schedule over steps × 2), every AND sub-prompt and the unconditional in the UNet batch
 * (rows of one token length in one call; a prompt and negative prompt of different lengths run in separate calls,
 * as A1111 does unless told to pad), combined per image as u + Σⱼ (cⱼ − u)·wⱼ·cfg. A prompt of one part with weight
 * 1 is classifier-free guidance exactly as before. Without guidance (cfg ≤ 1 and one part of weight 1, or a UNet
 * that embeds the scale), the prompt's own prediction.
 */
import type { PredictNoiseExtras } from '../model';
import { combineComposable } from './composable';
import { composableAt, conditioningAt, type ComposablePart, type ConditioningSchedule, type TextConditioning } from './conditioning';

/** The text side of a generation: the prompt's AND parts and, with guidance, the negative prompt's schedule. */
export interface PromptPlan {
  readonly parts: readonly ComposablePart[];
  /** undefined without guidance. */
  readonly negative?: ConditioningSchedule;
  /** SDXL with force_zeros_for_empty_prompt and no negative prompt: zeros as the unconditional hidden states and pooled embeds. */
  readonly zeroNegative?: boolean;
}

/** The UNet call the predictor makes (LoadedModel.predictNoise). */
export type PredictNoise = (sample: Float32Array, sampleDims: number[], timestep: number, hiddenStates: Float32Array,
  hiddenDims: number[], opts?: PredictNoiseExtras) => Promise<Float32Array>;

export interface GuidedPredictorInput {
  readonly plan: PromptPlan;
  readonly predictNoise: PredictNoise;
  /** Images in the batch. */
  readonly batch: number;
  readonly cfgScale: number;
  /** LCM UNets: the scale goes to the UNet, no CFG batch. */
  readonly embeddedGuidance: boolean;
  /** SDXL's time_ids for `rows` UNet rows; undefined for other models. */
  readonly timeIds?: (rows: number) => Float32Array;
  /** A UNet whose token axis is fixed (77): only the first chunk is read. */
  readonly fixedTokens?: number;
}

/** scaled latents (B images), the sampler's call index and timestep → the guided prediction for the B images. */
export type GuidedPredictor = (scaled: Float32Array, latentDims: readonly number[], callIndex: number, timestep: number) => Promise<Float32Array>;

interface Row { readonly cond: TextConditioning; readonly zero: boolean }

function firstTokens(c: TextConditioning, tokens: number | undefined): TextConditioning {
  if (tokens === undefined || c.tokens <= tokens) return c;
  return { ...c, hidden: c.hidden.slice(0, tokens * c.width), tokens };
}

/** A predictor that reuses its UNet inputs while the conditioning stays the same. */
export function createGuidedPredictor(input: GuidedPredictorInput): GuidedPredictor {
  const { plan, batch, cfgScale } = input;
  const doGuidance = plan.negative !== undefined && !input.embeddedGuidance;
  let cachedKey: readonly TextConditioning[] = [];
  let groups: Array<{ first: number; count: number; hidden: Float32Array; hiddenDims: number[]; extras: PredictNoiseExtras }> = [];

  const buildGroups = (rows: readonly Row[]): void => {
    groups = [];
    for (let r = 0; r < rows.length;) {
      let end = r + 1;
      while (end < rows.length && rows[end].cond.tokens === rows[r].cond.tokens) end++;
      const { tokens, width } = rows[r].cond;
      const count = (end - r) * batch;
      const hidden = new Float32Array(count * tokens * width);
      const pooledWidth = rows[r].cond.pooled?.length ?? 0;
      const pooled = new Float32Array(count * pooledWidth);
      for (let k = r; k < end; k++) {
        for (let i = 0; i < batch; i++) {
          const at = (k - r) * batch + i;
          if (!rows[k].zero) {
            hidden.set(rows[k].cond.hidden, at * tokens * width);
            if (rows[k].cond.pooled !== undefined) pooled.set(rows[k].cond.pooled!, at * pooledWidth);
          }
        }
      }
      const extras: PredictNoiseExtras = {
        ...(input.embeddedGuidance ? { guidanceScale: cfgScale } : {}),
        ...(input.timeIds === undefined ? {} : { textEmbeds: pooled, timeIds: input.timeIds(count) }),
      };
      groups.push({ first: r * batch, count, hidden, hiddenDims: [count, tokens, width], extras });
      r = end;
    }
  };

  return async (scaled, latentDims, callIndex, timestep) => {
    const imageSize = scaled.length / batch;
    const { conds, weights } = composableAt(plan.parts, callIndex);
    const uncond = doGuidance ? conditioningAt(plan.negative!, callIndex) : undefined;
    const key = uncond === undefined ? conds : [uncond, ...conds];
    if (key.length !== cachedKey.length || key.some((c, k) => c !== cachedKey[k])) {
      const rows: Row[] = [
        ...(uncond === undefined ? [] : [{ cond: firstTokens(uncond, input.fixedTokens), zero: plan.zeroNegative === true }]),
        ...conds.map((c) => ({ cond: firstTokens(c, input.fixedTokens), zero: false })),
      ];
      buildGroups(rows);
      cachedKey = key;
    }
    const totalRows = key.length * batch;
    const out = new Float32Array(totalRows * imageSize);
    for (const g of groups) {
      const sample = new Float32Array(g.count * imageSize);
      for (let k = 0; k < g.count; k++) {
        const image = (g.first + k) % batch;
        sample.set(scaled.subarray(image * imageSize, (image + 1) * imageSize), k * imageSize);
      }
      const noise = await input.predictNoise(sample, [g.count, ...latentDims.slice(1)], timestep, g.hidden, g.hiddenDims, { ...g.extras, firstRow: g.first });
      out.set(noise, g.first * imageSize);
    }
    if (!doGuidance) {
      // No unconditional row: the prompt's own prediction (buildPromptPlan gives one part of weight 1 here).
      if (conds.length !== 1) throw new Error(`${conds.length} AND parts need the unconditional prediction`);
      return out.subarray(0, batch * imageSize);
    }
    const guided = new Float32Array(batch * imageSize);
    for (let i = 0; i < batch; i++) {
      const u = out.subarray(i * imageSize, (i + 1) * imageSize);
      const parts = conds.map((_, j) => out.subarray(((j + 1) * batch + i) * imageSize, ((j + 1) * batch + i + 1) * imageSize));
      guided.set(combineComposable(u, parts, weights, cfgScale), i * imageSize);
    }
    return guided;
  };
}
