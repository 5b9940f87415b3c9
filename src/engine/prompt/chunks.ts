/**
 * AUTOMATIC1111's tokenize_line (modules/sd_hijack_clip.py): a prompt of any length as 77-token chunks, each
 * BOS + 75 tokens + EOS, filled with EOS, with one weight per token. A chunk that fills up within
 * `commaBacktrack` tokens after a comma breaks at the comma (the rest moves to the next chunk); BREAK starts a new
 * chunk. No textual-inversion embeddings here.
 */
import type { ClipTokenizer } from '../tokenizer';
import { parsePromptAttention, type WeightedText } from './attention';

/** A1111's "Emphasis" setting: how weights apply ("original": weights then the mean restored). */
export type EmphasisMode = 'original' | 'no-norm' | 'none';

/** 77 ids and 77 weights. */
export interface PromptChunk { tokens: number[]; multipliers: number[] }
export interface PromptChunks {
  readonly chunks: PromptChunk[];
  /** The count A1111 shows ("23/75"): 75 per full chunk, the last chunk's own tokens. */
  readonly tokenCount: number;
}

/** Prompt tokens per chunk (BOS and EOS come on top). */
export const CHUNK_LENGTH = 75;

/** The id of ",</w>" in this vocabulary, or undefined. */
function commaId(tokenizer: ClipTokenizer): number | undefined {
  const pieces = tokenizer.tokenize(',');
  if (pieces.length !== 1 || pieces[0] !== ',</w>') return undefined;
  return tokenizer.encodeContent(',')[0];
}

/** A1111's tokenize_line for a CLIP tokenizer: 77-token chunks with their weights, and the token count it shows. */
export function promptChunks(prompt: string, tokenizer: ClipTokenizer, commaBacktrack = 20,
    emphasis: EmphasisMode = 'original'): PromptChunks {
  const parsed: WeightedText[] = emphasis === 'none' ? [[prompt, 1.0]] : parsePromptAttention(prompt);
  const comma = commaId(tokenizer);
  const idStart = tokenizer.bosId;
  const idEnd = tokenizer.eosId;

  const chunks: PromptChunk[] = [];
  let chunk: PromptChunk = { tokens: [], multipliers: [] };
  let tokenCount = 0;
  let lastComma = -1;

  const nextChunk = (isLast = false): void => {
    tokenCount += isLast ? chunk.tokens.length : CHUNK_LENGTH;
    const toAdd = CHUNK_LENGTH - chunk.tokens.length;
    for (let k = 0; k < toAdd; k++) {
      chunk.tokens.push(idEnd);
      chunk.multipliers.push(1.0);
    }
    chunk.tokens = [idStart, ...chunk.tokens, idEnd];
    chunk.multipliers = [1.0, ...chunk.multipliers, 1.0];
    lastComma = -1;
    chunks.push(chunk);
    chunk = { tokens: [], multipliers: [] };
  };

  for (const [text, weight] of parsed) {
    if (text === 'BREAK' && weight === -1) {
      nextChunk();
      continue;
    }
    for (const token of tokenizer.encodeContent(text)) {
      if (token === comma) {
        lastComma = chunk.tokens.length;
      } else if (commaBacktrack !== 0 && chunk.tokens.length === CHUNK_LENGTH && lastComma !== -1 &&
          chunk.tokens.length - lastComma <= commaBacktrack) {
        const breakLocation = lastComma + 1;
        const relocTokens = chunk.tokens.slice(breakLocation);
        const relocMultipliers = chunk.multipliers.slice(breakLocation);
        chunk.tokens = chunk.tokens.slice(0, breakLocation);
        chunk.multipliers = chunk.multipliers.slice(0, breakLocation);
        nextChunk();
        chunk.tokens = relocTokens;
        chunk.multipliers = relocMultipliers;
      }
      if (chunk.tokens.length === CHUNK_LENGTH) nextChunk();
      chunk.tokens.push(token);
      chunk.multipliers.push(weight);
    }
  }
  if (chunk.tokens.length > 0 || chunks.length === 0) nextChunk(true);
  return { chunks, tokenCount };
}
