/**
 * AUTOMATIC1111's parse_prompt_attention (modules/prompt_parser.py): `(text)` × 1.1, `[text]` ÷ 1.1,
 * `(text:w)` × w, `\(` `\)` `\[` `\]` `\\` literal, unbalanced brackets closed at the end, BREAK as its own run.
 * The same regex, in the same order, with Python's `\s`, `\b` and `\d`; weights multiplied in the same order, so
 * they agree to the last bit (1.1 × 1.1 × 1.3 is 1.5730000000000004).
 */
import { PY_DIGIT, PY_SPACE, pyFloat, pyWholeWord } from './pythonText';

/** A run of prompt text and its weight; a BREAK is ["BREAK", -1] times the brackets around it. */
export type WeightedText = [text: string, weight: number];

const ATTENTION_TOKEN = new RegExp(
  String.raw`\\\(|\\\)|\\\[|\\\]|\\\\|\\|\(|\[|:([+-]?[.${PY_DIGIT}]+)\)|\)|\]|[^\\()\[\]:]+|:`, 'gu');
const BREAK_SPLIT = new RegExp(`[${PY_SPACE}]*${pyWholeWord('BREAK')}[${PY_SPACE}]*`, 'u');
const ROUND_MULTIPLIER = 1.1;
const SQUARE_MULTIPLIER = 1 / 1.1;

/** A1111's parse_prompt_attention: text runs with their weights, runs of equal weight merged. */
export function parsePromptAttention(text: string): WeightedText[] {
  const res: WeightedText[] = [];
  const roundBrackets: number[] = [];
  const squareBrackets: number[] = [];
  const multiplyRange = (start: number, multiplier: number): void => {
    for (let p = start; p < res.length; p++) res[p][1] *= multiplier;
  };
  const pushText = (part: string): void => {
    part.split(BREAK_SPLIT).forEach((piece, i) => {
      if (i > 0) res.push(['BREAK', -1]);
      res.push([piece, 1.0]);
    });
  };

  for (const m of text.matchAll(ATTENTION_TOKEN)) {
    const token = m[0];
    const weightText = m[1];
    if (token.startsWith('\\')) {
      res.push([token.slice(1), 1.0]);
    } else if (token === '(') {
      roundBrackets.push(res.length);
    } else if (token === '[') {
      squareBrackets.push(res.length);
    } else if (weightText !== undefined && roundBrackets.length > 0) {
      // A1111 raises ValueError on a weight float() cannot read ("(a:1.2.3)"); here the run stays text.
      const weight = pyFloat(weightText);
      if (weight === undefined) pushText(token);
      else multiplyRange(roundBrackets.pop()!, weight);
    } else if (token === ')' && roundBrackets.length > 0) {
      multiplyRange(roundBrackets.pop()!, ROUND_MULTIPLIER);
    } else if (token === ']' && squareBrackets.length > 0) {
      multiplyRange(squareBrackets.pop()!, SQUARE_MULTIPLIER);
    } else {
      pushText(token);
    }
  }
  for (const pos of roundBrackets) multiplyRange(pos, ROUND_MULTIPLIER);
  for (const pos of squareBrackets) multiplyRange(pos, SQUARE_MULTIPLIER);
  if (res.length === 0) res.push(['', 1.0]);

  // Merge runs of identical weights.
  let i = 0;
  while (i + 1 < res.length) {
    if (res[i][1] === res[i + 1][1]) {
      res[i][0] += res[i + 1][0];
      res.splice(i + 1, 1);
    } else {
      i++;
    }
  }
  return res;
}
