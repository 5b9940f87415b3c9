/**
 * The pieces of CPython's `re` and `float` that AUTOMATIC1111's prompt parser leans on, for JavaScript regexes:
 * Python's `\s`, `\w` and `\d` are Unicode-wide and differ from JS's (`\s` has U+001C–U+001F and U+0085 but not
 * U+FEFF; `\w` is every letter and number, so `\b` sees "éBREAK" as one word; `\d` is every decimal digit), and
 * `float()` reads any decimal digits ("１.５", "١.٥").
 */

/** Python's `\s` (Py_UNICODE_ISSPACE: bidi WS/B/S or category Zs), as a character-class body. */
export const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** Python's `\w` for str patterns (letters, numbers, underscore), as a character-class body (needs the u flag). */
export const PY_WORD = '\\p{L}\\p{N}_';
/** Python's `\d` for str patterns (every decimal digit), as a character-class body (needs the u flag). */
export const PY_DIGIT = '\\p{Nd}';

/** A regex source for Python's `\bWORD\b` around a word that starts and ends with word characters. */
export function pyWholeWord(word: string): string {
  return `(?<![${PY_WORD}])${word}(?![${PY_WORD}])`;
}

const DECIMAL_DIGIT = /\p{Nd}/u;
const ASCII_FLOAT = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$/;

/** Any Unicode decimal digit as its ASCII digit (digits come in runs of ten starting at zero). */
function asciiDigits(text: string): string {
  let out = '';
  for (const ch of text) {
    if (ch >= '0' && ch <= '9' || !DECIMAL_DIGIT.test(ch)) {
      out += ch;
      continue;
    }
    // Unicode keeps decimal digits in runs of ten from zero; several runs may touch (U+1D7CE…U+1D7FF).
    const code = ch.codePointAt(0)!;
    let start = code;
    while (DECIMAL_DIGIT.test(String.fromCodePoint(start - 1))) start--;
    out += String((code - start) % 10);
  }
  return out;
}

/**
 * Python's float() of a number the prompt regexes matched (signs, digits, one dot, an exponent), or undefined where
 * Python raises ValueError ("1.2.3", ".").
 */
export function pyFloat(text: string): number | undefined {
  const ascii = asciiDigits(text);
  return ASCII_FLOAT.test(ascii) ? Number(ascii) : undefined;
}
