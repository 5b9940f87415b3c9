/**
 * The text conditioning of one generation, as diffusers' pipelines build it (pipeline.ts step 1): the rows
 * [negative; prompt] (the prompt alone without guidance) through the text encoder, or for SDXL through both encoders
 * with the pooled embeds, zeros for the unconditional row under force_zeros_for_empty_prompt, and time_ids.
 */
import { EngineError } from '../model';
import type { LoadedModel } from '../model';

/** What encodePrompts reads of the pipeline's input. */
export interface PromptInput {
  readonly model: LoadedModel;
  readonly promptIds: Int32Array;
  readonly negativeIds: Int32Array;
  readonly promptIds2?: Int32Array;
  readonly negativeIds2?: Int32Array;
  readonly zeroNegative?: boolean;
}

/**
 * SDXL's time_ids rows: diffusers' _get_add_time_ids with original_size = target_size = (height, width) and
 * crops_coords_top_left (0, 0), the same for the unconditional rows.
 */
export function xlTimeIds(rows: number, width: number, height: number): Float32Array {
  const out = new Float32Array(rows * 6);
  for (let r = 0; r < rows; r++) out.set([height, width, 0, 0, height, width], r * 6);
  return out;
}

/** The text conditioning rows [negative; prompt] (or the prompt alone without guidance), before repeating per image. */
export async function encodePrompts(input: PromptInput, doGuidance: boolean):
    Promise<{ rows: number; hidden: Float32Array; hiddenDims: number[]; pooled?: Float32Array }> {
  const { model } = input;
  const pair = (negative: Int32Array, prompt: Int32Array): Int32Array => {
    const ids = new Int32Array(negative.length + prompt.length);
    ids.set(negative, 0);
    ids.set(prompt, negative.length);
    return ids;
  };
  if (model.info.xl === undefined) {
    const rows = doGuidance ? 2 : 1;
    const encoded = await model.encodeText(doGuidance ? pair(input.negativeIds, input.promptIds) : input.promptIds, rows);
    return { rows, hidden: encoded.data, hiddenDims: encoded.dims };
  }
  if (model.encodeTextXl === undefined || input.promptIds2 === undefined || input.negativeIds2 === undefined) {
    throw new EngineError('internal', 'an SDXL model needs encodeTextXl and the ids of both tokenizers');
  }
  if (input.promptIds2.length !== input.negativeIds2.length) {
    throw new EngineError('internal', `prompt and negative ids of tokenizer_2 differ in length: ${input.promptIds2.length} vs ${input.negativeIds2.length}`);
  }
  // diffusers encodes the prompt, then the negative prompt unless it is zeroed; one call on both rows here.
  const encodeBoth = doGuidance && input.zeroNegative !== true;
  const encoded = encodeBoth
    ? await model.encodeTextXl(pair(input.negativeIds, input.promptIds), pair(input.negativeIds2, input.promptIds2), 2)
    : await model.encodeTextXl(input.promptIds, input.promptIds2, 1);
  if (!doGuidance || encodeBoth) {
    return { rows: encodeBoth ? 2 : 1, hidden: encoded.hidden, hiddenDims: encoded.hiddenDims, pooled: encoded.pooled };
  }
  // force_zeros_for_empty_prompt: zeros_like(prompt_embeds) and zeros_like(pooled_prompt_embeds) as the uncond row.
  const hidden = new Float32Array(2 * encoded.hidden.length);
  hidden.set(encoded.hidden, encoded.hidden.length);
  const pooled = new Float32Array(2 * encoded.pooled.length);
  pooled.set(encoded.pooled, encoded.pooled.length);
  return { rows: 2, hidden, hiddenDims: [2, ...encoded.hiddenDims.slice(1)], pooled };
}
