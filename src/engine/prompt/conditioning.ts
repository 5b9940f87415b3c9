/**
 * AUTOMATIC1111's text conditioning (modules/sd_hijack_clip.py, sd_emphasis.py, prompt_parser.py) over any text
 * encoder: every prompt as 77-token chunks (promptChunks), each chunk encoded on its own and the hidden states
 * concatenated along the token axis (77·k × width); the emphasis weights applied per chunk over the whole batch of
 * texts encoded together, as A1111 batches them; prompt editing and alternation as a schedule of conditionings, each
 * distinct text encoded once; AND as weighted sub-prompts (composable diffusion).
 */
import type { ClipTokenizer } from '../tokenizer';
import { splitAndPrompts } from './andSplit';
import { promptChunks, type EmbeddingTokens, type EmphasisMode, type PromptChunk } from './chunks';
import { promptSchedules } from './schedules';

/** A1111 refuses nothing, but 20 chunks (1,500 tokens) is far past any prompt a UNet attends to usefully. */
export const MAX_CHUNKS = 20;

/** One text encoder as the conditioning reads it. */
export interface ChunkEncoder {
  readonly tokenizer: ClipTokenizer;
  /** Textual-inversion embeddings this encoder's table holds (their vectors' token ids). */
  readonly embeddings?: EmbeddingTokens;
  /**
   * The id written for a chunk's end of text instead of the tokenizer's EOS: a copy of the EOS row that is the
   * table's largest id, so an encoder pooling at argmax(ids) pools there, as A1111 does, with embeddings in the text
   * (networks/networkSet.ts pooledEosId).
   */
  readonly pooledEosId?: number;
  /**
   * rows × 77 ids → rows × 77 × width hidden states (the layer the model conditions on), and for the encoder that
   * gives SDXL's pooled embeds, rows × pooledWidth.
   */
  encode(ids: Int32Array, rows: number): Promise<{ hidden: Float32Array; width: number; pooled?: Float32Array }>;
}

export interface ConditioningOptions {
  readonly emphasis: EmphasisMode;
  /** A1111's "Prompt word wrap length limit" (comma_padding_backtrack), 20 by default. */
  readonly commaBacktrack?: number;
  /** A1111's "Use old prompt editing timelines" (use_old_scheduling): every `when` below 1 a fraction of the steps. */
  readonly useOldScheduling?: boolean;
}

/** One text's conditioning: tokens (77·k) × width, all encoders side by side per token. */
export interface TextConditioning {
  readonly hidden: Float32Array;
  readonly tokens: number;
  readonly width: number;
  /** The pooled embeds of the first chunk (SDXL), when an encoder gives them. */
  readonly pooled?: Float32Array;
}

/** A prompt's conditioning over the sampling steps: entry i holds until step endAtStep (A1111's numbering). */
export type ConditioningSchedule = ReadonlyArray<{ readonly endAtStep: number; readonly cond: TextConditioning }>;

/** An AND sub-prompt: its weight and its schedule. */
export interface ComposablePart { readonly weight: number; readonly schedule: ConditioningSchedule }

/** Thrown for a prompt past MAX_CHUNKS; the message says how long it is. */
export class PromptTooLongError extends Error {}

/**
 * ids of a chunk as the encoder gets them: after the first EOS, the model's pad id where it is not EOS (SD 2.x, XL's
 * G); that EOS written as `pooledEosId` where one is given.
 */
function chunkIds(chunk: PromptChunk, tokenizer: ClipTokenizer, pooledEosId?: number): number[] {
  const end = chunk.tokens.indexOf(tokenizer.eosId);
  if (tokenizer.padId === tokenizer.eosId && pooledEosId === undefined) return chunk.tokens;
  return chunk.tokens.map((id, k) => (end >= 0 && k > end && tokenizer.padId !== tokenizer.eosId ? tokenizer.padId
    : k === end && pooledEosId !== undefined ? pooledEosId : id));
}

function emptyChunk(tokenizer: ClipTokenizer): PromptChunk {
  const tokens = [tokenizer.bosId, ...new Array<number>(76).fill(tokenizer.eosId)];
  return { tokens, multipliers: new Array<number>(77).fill(1.0) };
}

/**
 * sd_emphasis: "original" multiplies each token's hidden state by its weight, then rescales the whole batch to its
 * original mean; "no-norm" only multiplies; "none" leaves it. In float32 as torch (weights become float32 tensors),
 * the means accumulated in double. rows[r] appears count[r] times in A1111's batch.
 */
export function applyEmphasis(rows: Float32Array[], multipliers: number[][], counts: number[], mode: EmphasisMode): Float32Array[] {
  if (mode === 'none') return rows;
  const weighted = rows.map((z, r) => {
    const width = z.length / multipliers[r].length;
    const out = new Float32Array(z.length);
    for (let t = 0; t < multipliers[r].length; t++) {
      const m = Math.fround(multipliers[r][t]);
      for (let c = 0; c < width; c++) out[t * width + c] = Math.fround(z[t * width + c] * m);
    }
    return out;
  });
  if (mode === 'no-norm') return weighted;
  let originalSum = 0;
  let newSum = 0;
  let n = 0;
  rows.forEach((z, r) => {
    let a = 0;
    let b = 0;
    for (let k = 0; k < z.length; k++) {
      a += z[k];
      b += weighted[r][k];
    }
    originalSum += counts[r] * a;
    newSum += counts[r] * b;
    n += counts[r] * z.length;
  });
  const ratio = Math.fround(Math.fround(originalSum / n) / Math.fround(newSum / n));
  for (const z of weighted) for (let k = 0; k < z.length; k++) z[k] = Math.fround(z[k] * ratio);
  return weighted;
}

/**
 * FrozenCLIPEmbedderWithCustomWords.forward(texts) for one encoder: every text as chunks; chunk i of all texts as one
 * batch (an empty chunk for texts with fewer), encoded, weighted with the emphasis over that batch. Each distinct
 * text is encoded once; the batch mean counts it as often as it appears.
 */
async function encodeTextsWith(texts: readonly string[], encoder: ChunkEncoder, opts: ConditioningOptions):
    Promise<{ hidden: Map<string, Float32Array>; width: number; chunkCount: number; pooled: Map<string, Float32Array> }> {
  const distinct = [...new Set(texts)];
  const counts = distinct.map((t) => texts.filter((x) => x === t).length);
  const chunked = distinct.map((t) => promptChunks(t, encoder.tokenizer, opts.commaBacktrack ?? 20, opts.emphasis, encoder.embeddings).chunks);
  const chunkCount = Math.max(...chunked.map((c) => c.length));
  if (chunkCount > MAX_CHUNKS) {
    const longest = distinct[chunked.findIndex((c) => c.length === chunkCount)];
    const tokens = promptChunks(longest, encoder.tokenizer, opts.commaBacktrack ?? 20, opts.emphasis, encoder.embeddings).tokenCount;
    throw new PromptTooLongError(`the prompt is ${tokens} tokens in ${chunkCount} chunks of 75; at most ${MAX_CHUNKS} chunks `
      + `(${MAX_CHUNKS * 75} tokens) are encoded: shorten it`);
  }
  const empty = emptyChunk(encoder.tokenizer);
  const parts = distinct.map(() => [] as Float32Array[]);
  const pooled = new Map<string, Float32Array>();
  let width = 0;
  for (let i = 0; i < chunkCount; i++) {
    const batch = chunked.map((c) => c[i] ?? empty);
    // Rows in A1111's batch: each distinct text's chunk, plus the empty chunk once per text that has run out.
    const ids = new Int32Array(batch.length * 77);
    batch.forEach((chunk, r) => ids.set(chunkIds(chunk, encoder.tokenizer, encoder.pooledEosId), r * 77));
    const out = await encoder.encode(ids, batch.length);
    width = out.width;
    const rows = batch.map((_, r) => out.hidden.slice(r * 77 * width, (r + 1) * 77 * width));
    const weighted = applyEmphasis(rows, batch.map((c) => c.multipliers), counts, opts.emphasis);
    weighted.forEach((z, r) => parts[r].push(z));
    if (i === 0 && out.pooled !== undefined) {
      const pw = out.pooled.length / batch.length;
      distinct.forEach((t, r) => pooled.set(t, out.pooled!.slice(r * pw, (r + 1) * pw)));
    }
  }
  const hidden = new Map<string, Float32Array>();
  distinct.forEach((t, r) => {
    const all = new Float32Array(chunkCount * 77 * width);
    parts[r].forEach((z, i) => all.set(z, i * 77 * width));
    hidden.set(t, all);
  });
  return { hidden, width, chunkCount, pooled };
}

/** model.get_learned_conditioning(texts): each text's conditioning, every encoder's hidden states side by side per token. */
export async function encodeTexts(texts: readonly string[], encoders: readonly ChunkEncoder[], opts: ConditioningOptions):
    Promise<Map<string, TextConditioning>> {
  const perEncoder = [];
  for (const encoder of encoders) perEncoder.push(await encodeTextsWith(texts, encoder, opts));
  const result = new Map<string, TextConditioning>();
  for (const text of new Set(texts)) {
    const chunkCounts = perEncoder.map((e) => e.chunkCount);
    const chunks = Math.max(...chunkCounts);
    const tokens = chunks * 77;
    const width = perEncoder.reduce((sum, e) => sum + e.width, 0);
    const hidden = new Float32Array(tokens * width);
    let offset = 0;
    for (const e of perEncoder) {
      const h = e.hidden.get(text)!;
      // Encoders may chunk differently only if their vocabularies differ; A1111's conditioner would fail there.
      if (h.length !== tokens * e.width) throw new Error(`text encoders disagree on the chunks of ${JSON.stringify(text)}`);
      for (let t = 0; t < tokens; t++) hidden.set(h.subarray(t * e.width, (t + 1) * e.width), t * width + offset);
      offset += e.width;
    }
    const pooled = perEncoder.map((e) => e.pooled.get(text)).find((p) => p !== undefined);
    result.set(text, { hidden, tokens, width, ...(pooled === undefined ? {} : { pooled }) });
  }
  return result;
}

/** get_learned_conditioning for one prompt: its schedule's texts encoded together (A1111 batches them). */
export async function scheduledConditioning(prompt: string, steps: number, encoders: readonly ChunkEncoder[],
    opts: ConditioningOptions): Promise<ConditioningSchedule> {
  const schedule = promptSchedules(prompt, steps, { useOldScheduling: opts.useOldScheduling });
  const conds = await encodeTexts(schedule.map(([, text]) => text), encoders, opts);
  return schedule.map(([endAtStep, text]) => ({ endAtStep, cond: conds.get(text)! }));
}

/** get_multicond_learned_conditioning for one prompt: the AND sub-prompts, each with its weight and schedule. */
export async function composableConditioning(prompt: string, steps: number, encoders: readonly ChunkEncoder[],
    opts: ConditioningOptions): Promise<ComposablePart[]> {
  const parts = splitAndPrompts(prompt);
  const schedules = new Map<string, ConditioningSchedule>();
  for (const [text] of parts) {
    if (!schedules.has(text)) schedules.set(text, await scheduledConditioning(text, steps, encoders, opts));
  }
  return parts.map(([text, weight]) => ({ weight, schedule: schedules.get(text)! }));
}

/** reconstruct_cond_batch for one schedule: the first entry whose endAtStep is at or after the step (else the first). */
export function conditioningAt(schedule: ConditioningSchedule, step: number): TextConditioning {
  const entry = schedule.find((e) => step <= e.endAtStep) ?? schedule[0];
  return entry.cond;
}

/**
 * reconstruct_multicond_batch: each sub-prompt's conditioning at the step, the shorter ones lengthened to the
 * longest by repeating their last token's hidden state.
 */
export function composableAt(parts: readonly ComposablePart[], step: number): { conds: TextConditioning[]; weights: number[] } {
  const conds = parts.map((p) => conditioningAt(p.schedule, step));
  const tokens = Math.max(...conds.map((c) => c.tokens));
  return { conds: conds.map((c) => padByLastToken(c, tokens)), weights: parts.map((p) => p.weight) };
}

function padByLastToken(c: TextConditioning, tokens: number): TextConditioning {
  if (c.tokens === tokens) return c;
  const hidden = new Float32Array(tokens * c.width);
  hidden.set(c.hidden);
  const last = c.hidden.subarray((c.tokens - 1) * c.width);
  for (let t = c.tokens; t < tokens; t++) hidden.set(last, t * c.width);
  return { ...c, hidden, tokens };
}

/**
 * The conditioning's total step count in A1111's numbering: its denoiser counts model calls, and second-order
 * samplers (Heun) schedule prompts over steps × 2.
 */
export function scheduleSteps(steps: number, schedulerOrder: number): number {
  return schedulerOrder === 2 ? steps * 2 : steps;
}
