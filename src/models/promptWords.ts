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

/** The model folder's word list, or null when it has none (a full-vocabulary model, or files that cannot be read). */
export function readPromptWords(modelDir: string): string[] | null {
  try {
    const listed = JSON.parse(fs.readFileSync(path.join(modelDir, 'prompt-words.json'), 'utf8')) as unknown;
    if (Array.isArray(listed) && listed.every((w) => typeof w === 'string')) return [...new Set(listed.map((w) => w.toLowerCase()))].sort();
  } catch {
    // no list shipped: try the tokenizer
  }
  try {
    const vocab = JSON.parse(fs.readFileSync(path.join(modelDir, 'tokenizer', 'vocab.json'), 'utf8')) as Record<string, number>;
    if (typeof vocab !== 'object' || vocab === null || Object.keys(vocab).length > GRAMMAR_VOCAB_MAX) return null;
    const words = promptWordsFromVocab(vocab);
    return words.length > 0 ? words : null;
  } catch {
    return null;
  }
}
