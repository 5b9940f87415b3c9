/**
 * AUTOMATIC1111's tokenize_line (modules/sd_hijack_clip.py): a prompt of any length as 77-token chunks, each
 * BOS + 75 tokens + EOS, filled with EOS, with one weight per token. A chunk that fills up within
 * `commaBacktrack` tokens after a comma breaks at the comma (the rest moves to the next chunk); BREAK starts a new
 * chunk. Textual-inversion embeddings (`embeddings`) are found in the tokens as A1111's find_embedding_at_position
 * does (the name's tokens, longest name first) and take as many tokens as they have vectors, moving to a new chunk
 * when they do not fit; their tokens are the ids of their vectors in the text encoder's extended table.
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

/** A textual-inversion embedding as the chunker sees it: the tokens of its name, the token ids of its vectors. */
export interface PromptEmbedding { readonly name: string; readonly nameIds: readonly number[]; readonly ids: readonly number[] }

/** The embeddings a prompt may use, by the first token of their name, longest name first (A1111's ids_lookup). */
export type EmbeddingTokens = ReadonlyMap<number, readonly PromptEmbedding[]>;

/** The lookup for a list of embeddings. */
export function embeddingTokens(list: readonly PromptEmbedding[]): EmbeddingTokens {
  const map = new Map<number, PromptEmbedding[]>();
  for (const e of list) {
    if (e.nameIds.length === 0) continue;
    const entry = map.get(e.nameIds[0]) ?? [];
    entry.push(e);
    entry.sort((a, b) => b.nameIds.length - a.nameIds.length);
    map.set(e.nameIds[0], entry);
  }
  return map;
}

function embeddingAt(tokens: readonly number[], position: number, embeddings: EmbeddingTokens | undefined): PromptEmbedding | undefined {
  const candidates = embeddings?.get(tokens[position]);
  return candidates?.find((e) => e.nameIds.every((id, k) => tokens[position + k] === id));
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
    emphasis: EmphasisMode = 'original', embeddings?: EmbeddingTokens): PromptChunks {
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
    const tokens = tokenizer.encodeContent(text);
    for (let position = 0; position < tokens.length;) {
      const token = tokens[position];
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
      const embedding = embeddingAt(tokens, position, embeddings);
      if (embedding === undefined) {
        chunk.tokens.push(token);
        chunk.multipliers.push(weight);
        position++;
        continue;
      }
      if (chunk.tokens.length + embedding.ids.length > CHUNK_LENGTH) nextChunk();
      chunk.tokens.push(...embedding.ids);
      chunk.multipliers.push(...embedding.ids.map(() => weight));
      position += embedding.nameIds.length;
    }
  }
  if (chunk.tokens.length > 0 || chunks.length === 0) nextChunk(true);
  return { chunks, tokenCount };
}
