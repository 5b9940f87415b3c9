/**
 * The pure half of the prompt fields' word completion (webview/promptCompletion.ts): the word at the caret, the
 * words offered for it, the active option moved by the arrow keys, and the text once one is taken. No DOM, so node
 * tests run it.
 */

/** The letters around the caret that a completion replaces: [start, end), and the typed part before the caret. */
export interface CaretWord {
  readonly start: number;
  readonly end: number;
  /** text.slice(start, caret), lower-cased. */
  readonly prefix: string;
}

const LETTER = /[a-z]/i;

/** The run of letters the caret is in or just after (its start to its end), or null when the caret touches none. */
export function wordAt(text: string, caret: number): CaretWord | null {
  const at = Math.max(0, Math.min(caret, text.length));
  let start = at;
  while (start > 0 && LETTER.test(text[start - 1])) start--;
  let end = at;
  while (end < text.length && LETTER.test(text[end])) end++;
  if (start === end) return null;
  return { start, end, prefix: text.slice(start, at).toLowerCase() };
}

/**
 * The words offered for a prefix, in the list's order: those starting with it (case-insensitively), the word
 * already typed in full left out; at most `max`. An empty prefix offers the first `max` words (an explicit
 * Ctrl+Space); `explicit` false and an empty prefix offer nothing.
 */
export function suggestionsFor(words: readonly string[], prefix: string, max = 12, explicit = false): string[] {
  const p = prefix.toLowerCase();
  if (p === '' && !explicit) return [];
  const out: string[] = [];
  for (const w of words) {
    if (out.length >= max) break;
    if (w.toLowerCase().startsWith(p) && w.toLowerCase() !== p) out.push(w);
  }
  return out;
}

/** The active option after an arrow key (wrapping), Home or End; -1 for an empty list. */
export function moveActive(active: number, count: number, key: 'next' | 'previous' | 'first' | 'last'): number {
  if (count <= 0) return -1;
  switch (key) {
    case 'next': return active < 0 ? 0 : (active + 1) % count;
    case 'previous': return active <= 0 ? count - 1 : active - 1;
    case 'first': return 0;
    case 'last': return count - 1;
  }
}

/**
 * The text with `word` in place of the caret's word, and the caret after it. A space follows the word unless the
 * text goes on with a space or punctuation (so the next word can be typed at once, and `red,` stays `red,`).
 */
export function takeWord(text: string, range: { start: number; end: number }, word: string): { text: string; caret: number } {
  const after = text.slice(range.end);
  const space = after === '' || /^[a-z0-9([<]/i.test(after) ? ' ' : '';
  const inserted = `${word}${space}`;
  return { text: `${text.slice(0, range.start)}${inserted}${after}`, caret: range.start + inserted.length };
}
