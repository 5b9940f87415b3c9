/**
 * The words a small model knows, for the panel's guidance (placeholder, completions, the hint naming unknown words):
 * a `prompt-words.json` list the model folder ships, else — for a tokenizer small enough to be a grammar's (the
 * embedded model's 602 entries; CLIP's has 49,408) — its whole-word tokens, without the fragments that only end
 * longer words. Models with a full vocabulary get no list (null): they understand open language. No `vscode`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A vocabulary at most this big is a grammar's, not a language's. */
export const GRAMMAR_VOCAB_MAX = 2000;
const WORD = /^[a-z]+$/;

/** Whole words of a CLIP-format vocabulary (`word</w>` entries), fragments of longer words left out, sorted. */
export function promptWordsFromVocab(vocab: Readonly<Record<string, number>>): string[] {
  const whole = Object.keys(vocab).filter((k) => k.endsWith('</w>')).map((k) => k.slice(0, -4)).filter((w) => WORD.test(w));
  const set = new Set(whole);
  // single letters are the byte-level fallback tokens every CLIP vocabulary has ("a" is the only one-letter word used)
  const isFragment = (w: string): boolean => (w.length === 1 ? w !== 'a' : [...set].some((o) => o.length > w.length && o.endsWith(w)));
  return [...set].filter((w) => !isFragment(w)).sort();
}

/** A grammar's vocab.json is a few KB (the embedded model's: about 10 KB); CLIP's 1.6 MB is not read at all. */
export const VOCAB_MAX_BYTES = 100 * 1024;
/** A shipped prompt-words.json bigger than this is ignored (a word list for a grammar is small). */
export const PROMPT_WORDS_MAX_BYTES = 256 * 1024;

/** Lists read, by folder and the size and mtime of both files (panelSetup asks on every panel load). */
const cache = new Map<string, { key: string; words: string[] | null }>();

function stamp(file: string): string {
  try {
    const st = fs.statSync(file);
    return st.isFile() ? `${st.size}:${st.mtimeMs}` : '-';
  } catch {
    return '-';
  }
}

/** Reads a file of at most `maxBytes` as JSON (stat first: a bigger one is not read), or undefined. */
function readSmallJson(file: string, maxBytes: number): unknown {
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > maxBytes) return undefined;
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The model folder's word list, or null when it has none (a full-vocabulary model, or files that cannot be read).
 * Each file is stat'ed first and read only when small; the answer is cached until either file changes.
 */
export function readPromptWords(modelDir: string): string[] | null {
  const listFile = path.join(modelDir, 'prompt-words.json');
  const vocabFile = path.join(modelDir, 'tokenizer', 'vocab.json');
  const key = `${stamp(listFile)}|${stamp(vocabFile)}`;
  const known = cache.get(modelDir);
  if (known?.key === key) return known.words === null ? null : [...known.words];
  const words = readWords(listFile, vocabFile);
  cache.set(modelDir, { key, words });
  return words === null ? null : [...words];
}

function readWords(listFile: string, vocabFile: string): string[] | null {
  const listed = readSmallJson(listFile, PROMPT_WORDS_MAX_BYTES);
  if (Array.isArray(listed) && listed.every((w) => typeof w === 'string')) return [...new Set(listed.map((w) => w.toLowerCase()))].sort();
  // no list shipped (or an unusable one): try the tokenizer
  const vocab = readSmallJson(vocabFile, VOCAB_MAX_BYTES);
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab) || Object.keys(vocab).length > GRAMMAR_VOCAB_MAX) return null;
  const words = promptWordsFromVocab(vocab as Record<string, number>);
  return words.length > 0 ? words : null;
}
