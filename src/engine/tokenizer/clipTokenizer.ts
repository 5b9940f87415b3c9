/**
 * CLIP's byte-level BPE tokenizer, as OpenAI's `clip/simple_tokenizer.py` does it (and transformers'
 * `CLIPTokenizer` with ftfy installed): basic_clean (ftfy fix_text, then HTML-unescape twice, strip),
 * whitespace_clean, lower-case, split with CLIP's pattern, map UTF-8 bytes to printable units, `</w>` on each
 * word's last unit, greedy lowest-rank merges. Reads a Hugging Face tokenizer folder (vocab.json, merges.txt,
 * tokenizer_config.json, special_tokens_map.json); nothing here assumes the SD 1.x vocabulary's ids.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePythonJson } from '../../common/pythonJson';
import { fixText, unescapeHtml } from './textFix';

/** One prompt's ids and whether its content had to be cut to fit. */
export interface EncodedPrompt {
  /** BOS, content (at most maxLength − 2 ids), EOS; no padding. */
  readonly ids: number[];
  /** True when the content had more than maxLength − 2 tokens. */
  readonly truncated: boolean;
  /** Content tokens before truncation (without BOS and EOS). */
  readonly contentTokens: number;
}

/** The files of a tokenizer folder, already read. Config texts are optional, as in a folder. */
export interface TokenizerTexts {
  readonly vocabJson: string;
  readonly mergesTxt: string;
  readonly tokenizerConfigJson?: string;
  readonly specialTokensMapJson?: string;
  /** Shown in error messages (a folder path). */
  readonly source?: string;
}

const START_TOKEN = '<|startoftext|>';
const END_TOKEN = '<|endoftext|>';
const WORD_END = '</w>';
const DEFAULT_MAX_LENGTH = 77;
/** transformers writes ~1e30 when no length was set; anything this large means "not set". */
const UNSET_MAX_LENGTH_ABOVE = 100_000;
/** OpenAI's and transformers' loaders keep lines 1 … 49152 − 256 − 2 of merges.txt. */
const MAX_MERGES = 49152 - 256 - 2;
/** U+0345 case-folds to ι: Python's case-insensitive pattern matches it with no branch, JS's with [\p{L}]. */
const IGNORED_BY_PATTERN = /\u0345/g;
const CACHE_LIMIT = 20_000;
const SPLIT_PATTERN =
  /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;
/**
 * SPLIT_PATTERN for text that is all ASCII, where \p{L} and \p{N} are [a-z] and [0-9] (and nothing outside ASCII
 * case-folds into them): the same matches, but V8 compiles it in ~0.1 ms where the Unicode one takes ~2 ms.
 */
const SPLIT_PATTERN_ASCII = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[a-z]+|[0-9]|[^\sa-z0-9]+/gi;
const ALL_ASCII = /^[\x00-\x7f]*$/;

/** The words CLIP's pattern splits a cleaned prompt into. */
export function splitWords(clean: string, pattern: 'auto' | 'unicode' = 'auto'): string[] {
  if (pattern === 'auto' && ALL_ASCII.test(clean)) return Array.from(clean.matchAll(SPLIT_PATTERN_ASCII), (m) => m[0]);
  return Array.from(clean.replace(IGNORED_BY_PATTERN, ' ').matchAll(SPLIT_PATTERN), (m) => m[0]);
}

/** GPT-2/CLIP bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards. */
function buildByteUnits(): string[] {
  const units = new Array<string>(256);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    units[b] = String.fromCharCode(printable ? b : 256 + next++);
  }
  return units;
}
const BYTE_UNITS = buildByteUnits();
const UTF8 = new TextEncoder();

/** OpenAI's basic_clean + whitespace_clean + lower(): the text the split pattern runs on. */
export function cleanPrompt(text: string): string {
  const fixed = unescapeHtml(unescapeHtml(fixText(text)));
  return fixed.replace(/\s+/gu, ' ').trim().toLowerCase();
}

export class ClipTokenizer {
  private readonly cache = new Map<string, string[]>();

  private constructor(
    private readonly vocab: Map<string, number>,
    private readonly ranks: Map<string, number>,
    readonly bosId: number,
    readonly eosId: number,
    readonly padId: number,
    private readonly unkId: number | undefined,
    readonly maxLength: number,
  ) {}

  /**
   * Reads vocab.json and merges.txt (required) and tokenizer_config.json / special_tokens_map.json. Synchronously:
   * ~1.5 MB for CLIP's files, read once per folder, and node:fs/promises alone costs ~1 ms of a CLI start.
   */
  static async fromFolder(dir: string): Promise<ClipTokenizer> {
    const read = (name: string, required: boolean): string | undefined => {
      try {
        return readFileSync(join(dir, name), 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (!required && code === 'ENOENT') return undefined;
        throw new Error(`CLIP tokenizer: cannot read ${name} in ${dir} (a tokenizer folder needs vocab.json and ` +
          `merges.txt): ${code ?? String(err)}`);
      }
    };
    return ClipTokenizer.fromTexts({
      vocabJson: read('vocab.json', true) as string, mergesTxt: read('merges.txt', true) as string,
      tokenizerConfigJson: read('tokenizer_config.json', false), specialTokensMapJson: read('special_tokens_map.json', false),
      source: dir,
    });
  }

  /** Builds a tokenizer from the folder's file contents. */
  static fromTexts(texts: TokenizerTexts): ClipTokenizer {
    const where = texts.source === undefined ? '' : ` in ${texts.source}`;
    const vocab = parseVocab(texts.vocabJson, where);
    const ranks = parseMerges(texts.mergesTxt, vocab, where);
    const config = parseJsonObject(texts.tokenizerConfigJson, 'tokenizer_config.json', where);
    const specialMap = parseJsonObject(texts.specialTokensMapJson, 'special_tokens_map.json', where);
    const added = addedTokens(config);
    const tokenString = (key: string, fallback: string | undefined): string | undefined =>
      tokenContent(specialMap?.[key], 'special_tokens_map.json', key, where) ??
      tokenContent(config?.[key], 'tokenizer_config.json', key, where) ?? fallback;
    const idOf = (key: string, token: string): number => {
      const id = vocab.get(token) ?? added.get(token);
      if (id === undefined) {
        throw new Error(`CLIP tokenizer${where}: ${key} ${JSON.stringify(token)} is not in vocab.json`);
      }
      return id;
    };
    const eosToken = tokenString('eos_token', END_TOKEN) as string;
    const unkToken = tokenString('unk_token', undefined);
    return new ClipTokenizer(
      vocab, ranks,
      idOf('bos_token', tokenString('bos_token', START_TOKEN) as string),
      idOf('eos_token', eosToken),
      idOf('pad_token', tokenString('pad_token', eosToken) as string),
      unkToken === undefined ? undefined : vocab.get(unkToken) ?? added.get(unkToken),
      parseMaxLength(config?.model_max_length, where),
    );
  }

  /** BOS … EOS, content truncated to maxLength − 2 tokens, no padding. */
  encode(text: string): number[] {
    return this.encodeWithInfo(text).ids;
  }

  /** Exactly maxLength ids, padded with the model's pad id. */
  encodePadded(text: string): Int32Array {
    return this.pad(this.encode(text));
  }

  /** `ids` (at most maxLength, as encode gives them) padded to exactly maxLength with the model's pad id. */
  pad(ids: readonly number[]): Int32Array {
    const out = new Int32Array(this.maxLength).fill(this.padId);
    out.set(ids);
    return out;
  }

  /** encode() plus whether the prompt was cut, so callers can warn. */
  encodeWithInfo(text: string): EncodedPrompt {
    const content = this.encodeContent(text);
    const room = this.maxLength - 2;
    return {
      ids: [this.bosId, ...content.slice(0, room), this.eosId],
      truncated: content.length > room,
      contentTokens: content.length,
    };
  }

  /** Content ids without BOS/EOS and without truncation (OpenAI's SimpleTokenizer.encode). */
  encodeContent(text: string): number[] {
    return this.tokenize(text).map((piece) => {
      const id = this.vocab.get(piece) ?? this.unkId;
      if (id === undefined) throw new Error(`CLIP tokenizer: BPE piece ${JSON.stringify(piece)} is not in vocab.json`);
      return id;
    });
  }

  /** The BPE pieces of a prompt ("a</w>", "photo</w>", …). */
  tokenize(text: string): string[] {
    const pieces: string[] = [];
    for (const word of splitWords(cleanPrompt(text))) {
      if (word === START_TOKEN || word === END_TOKEN) {
        pieces.push(word);
        continue;
      }
      let units = '';
      for (const byte of UTF8.encode(word)) units += BYTE_UNITS[byte];
      pieces.push(...this.bpe(units));
    }
    return pieces;
  }

  /** Greedy BPE on one word of byte units: merge the lowest-ranked adjacent pair until none is ranked. */
  private bpe(units: string): string[] {
    const cached = this.cache.get(units);
    if (cached !== undefined) return cached;
    let word = Array.from(units);
    word[word.length - 1] += WORD_END;
    while (word.length > 1) {
      let bestRank = Infinity;
      let first = '';
      let second = '';
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.ranks.get(word[i] + ' ' + word[i + 1]);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          first = word[i];
          second = word[i + 1];
        }
      }
      if (bestRank === Infinity) break;
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i++;
        } else {
          merged.push(word[i]);
        }
      }
      word = merged;
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(units, word);
    return word;
  }
}

function parseVocab(json: string, where: string): Map<string, number> {
  let parsed: unknown;
  try {
    parsed = parsePythonJson(json);
  } catch (err) {
    throw new Error(`CLIP tokenizer: vocab.json${where} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`CLIP tokenizer: vocab.json${where} must be an object of token → id, got ${describe(parsed)}`);
  }
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(parsed)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new Error(`CLIP tokenizer: vocab.json${where} maps ${JSON.stringify(token)} to ${describe(id)}, ` +
        'expected a non-negative integer id');
    }
    vocab.set(token, id);
  }
  if (vocab.size === 0) throw new Error(`CLIP tokenizer: vocab.json${where} is empty`);
  return vocab;
}

/** merges.txt: a "#version" header, then one "left right" pair per line, best first. */
function parseMerges(text: string, vocab: Map<string, number>, where: string): Map<string, number> {
  const lines = text.split('\n');
  const start = lines[0]?.startsWith('#version') ? 1 : 0;
  const ranks = new Map<string, number>();
  for (let n = start; n < lines.length && ranks.size < MAX_MERGES; n++) {
    const line = lines[n].trim();
    if (line === '') continue;
    const parts = line.split(/\s+/);
    if (parts.length !== 2 || !vocab.has(parts[0] + parts[1])) {
      const found = parts.length !== 2 ? `${parts.length} parts` : `a pair whose merge ${JSON.stringify(parts[0] + parts[1])} is not in vocab.json`;
      throw new Error(`CLIP tokenizer: merges.txt${where} line ${n + 1}: expected "left right" (two BPE units ` +
        `whose merge is a vocab.json token), found ${found}: ${JSON.stringify(line.slice(0, 60))}`);
    }
    const key = parts[0] + ' ' + parts[1];
    if (!ranks.has(key)) ranks.set(key, ranks.size);
  }
  return ranks;
}

function parseJsonObject(json: string | undefined, name: string, where: string): Record<string, unknown> | undefined {
  if (json === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = parsePythonJson(json);
  } catch (err) {
    throw new Error(`CLIP tokenizer: ${name}${where} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`CLIP tokenizer: ${name}${where} must be a JSON object, got ${describe(parsed)}`);
  }
  return parsed as Record<string, unknown>;
}

/** A special token is a string or an AddedToken object {content: "..."}; null means "not set". */
function tokenContent(value: unknown, file: string, key: string, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  throw new Error(`CLIP tokenizer: ${file}${where} ${key} must be a string or {"content": string}, got ${describe(value)}`);
}

/** tokenizer_config.json's added_tokens_decoder: {"49406": {"content": "<|startoftext|>"}, …}. */
function addedTokens(config: Record<string, unknown> | undefined): Map<string, number> {
  const added = new Map<string, number>();
  const decoder = config?.added_tokens_decoder;
  if (typeof decoder !== 'object' || decoder === null) return added;
  for (const [id, entry] of Object.entries(decoder)) {
    const content = (entry as { content?: unknown } | null)?.content;
    if (typeof content === 'string' && /^\d+$/.test(id)) added.set(content, Number(id));
  }
  return added;
}

function parseMaxLength(value: unknown, where: string): number {
  if (value === undefined || value === null) return DEFAULT_MAX_LENGTH;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 3 || !Number.isInteger(value)) {
    throw new Error(`CLIP tokenizer: tokenizer_config.json${where} model_max_length must be an integer ≥ 3, ` +
      `got ${describe(value)}`);
  }
  return value > UNSET_MAX_LENGTH_ABOVE ? DEFAULT_MAX_LENGTH : value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`.slice(0, 80);
}
