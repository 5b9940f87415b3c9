/**
 * The pure half of the prompt guidance (webview/guidance.ts): unknown words, completions, the placeholder. No DOM,
 * so node tests run it.
 */

/** The words of a prompt (lower-cased letters runs) the model does not know, in order, once each. */
export function unknownWords(prompt: string, known: ReadonlySet<string>): string[] {
  const words = prompt.toLowerCase().match(/[a-z]+/g) ?? [];
  return [...new Set(words.filter((w) => !known.has(w)))];
}

/** Completions for the word being typed at the end of the prompt: known words starting with it (at most `max`). */
export function completionsFor(prompt: string, words: readonly string[], max = 8): { partial: string; matches: string[] } {
  const m = /([a-z]+)$/i.exec(prompt);
  const partial = m ? m[1].toLowerCase() : '';
  if (!partial) return { partial, matches: [] };
  return { partial, matches: words.filter((w) => w.startsWith(partial) && w !== partial).slice(0, max) };
}

/** A placeholder showing the grammar with the model's own words. */
export function placeholderFor(words: readonly string[]): string {
  const has = (w: string): boolean => words.includes(w);
  const example = ['a', 'small', 'red', 'circle', 'in', 'the', 'top', 'left', 'on', 'a', 'blue', 'background'];
  return example.every(has) ? example.join(' ') : words.slice(0, 8).join(' ');
}
