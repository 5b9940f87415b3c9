/**
 * The token counter A1111 shows beside a prompt field (modules/ui.py update_token_counter): extra-network tags cut
 * out, the positive prompt split at AND, every text of its editing/alternation schedule counted as tokenize_line
 * counts it; the largest count, and the chunk boundary it reaches ("23/75", "80/150"). With `embeddings`, a
 * textual-inversion name counts its vectors (find_embedding_at_position), not its own tokens.
 */
import type { ClipTokenizer } from '../tokenizer';
import { splitAndPrompts } from './andSplit';
import { promptChunks, CHUNK_LENGTH, type EmbeddingTokens, type EmphasisMode } from './chunks';
import { extractExtraNetworks } from './extraNetworks';
import { promptSchedules, type ScheduleOptions } from './schedules';

export interface TokenCount {
  /** Tokens of the longest text (without BOS/EOS). */
  readonly tokens: number;
  /** The next chunk boundary: a multiple of 75, at least 75. */
  readonly limit: number;
}

/**
 * A1111's count for a prompt field (isPositive: the prompt; false: the negative prompt, which has no AND). The panel
 * counts with the default timelines as A1111's UI does; a generation counts the texts its schedules encode.
 */
export function countPromptTokens(text: string, tokenizer: ClipTokenizer, steps: number, isPositive = true,
    emphasis: EmphasisMode = 'original', scheduleOptions: ScheduleOptions = {}, stripExtraNetworks = true,
    embeddings?: EmbeddingTokens): TokenCount {
  // A1111's counter strips <kind:args> tags from both fields; a generation takes them out of the prompt only
  const stripped = stripExtraNetworks ? extractExtraNetworks(text).prompt : text;
  const flat = isPositive ? [...new Set(splitAndPrompts(stripped).map(([t]) => t))] : [stripped];
  let tokens = 0;
  for (const prompt of flat) {
    for (const [, scheduled] of promptSchedules(prompt, steps, scheduleOptions)) {
      tokens = Math.max(tokens, promptChunks(scheduled, tokenizer, 20, emphasis, embeddings).tokenCount);
    }
  }
  return { tokens, limit: Math.ceil(Math.max(tokens, 1) / CHUNK_LENGTH) * CHUNK_LENGTH };
}
