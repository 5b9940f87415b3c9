/**
 * AUTOMATIC1111's prompt syntax as coloured runs for the prompt fields: emphasis brackets and weights `(a:1.2)`
 * `[a]`, prompt editing `[a:b:0.5]`, alternation `[a|b]`, BREAK, AND, escapes `\(`, extra-network
 * tags `<lora:x:0.8>`, and brackets A1111 would close itself (an unclosed `(`) or read as text (a `)` without
 * its `(`) marked unbalanced. Brackets pair as A1111's parse_prompt_attention pairs them: round and square apart.
 * Pure: the panel renders the runs.
 */

export type SyntaxKind = 'text' | 'bracket' | 'weight' | 'editing' | 'alternation' | 'break' | 'and' | 'escape'
  | 'extra-network' | 'unbalanced';

export interface SyntaxRun { readonly text: string; readonly kind: SyntaxKind }

const EXTRA_NETWORK = /^<[\p{L}\p{N}_]+:[^>]+>/u;
const WEIGHT_CLOSE = /^:\s*[+-]?(?:\d+\.?\d*|\.\d+)\)/;
const WHEN_CLOSE = /^:\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\]/;
const KEYWORD = /^(BREAK|AND)(?![\p{L}\p{N}_])/u;

/** The prompt as runs of one kind each; joined, the runs give the prompt back. */
export function promptSyntax(prompt: string): SyntaxRun[] {
  const runs: Array<{ text: string; kind: SyntaxKind }> = [];
  const round: number[] = [];
  /** Open square brackets: the run index, and the runs of `:` and `|` directly inside. */
  const square: Array<{ at: number; colons: number[]; pipes: number[]; hasWhen: boolean }> = [];
  const push = (text: string, kind: SyntaxKind): number => {
    const last = runs[runs.length - 1];
    if (kind === 'text' && last?.kind === 'text') {
      last.text += text;
      return runs.length - 1;
    }
    runs.push({ text, kind });
    return runs.length - 1;
  };
  let i = 0;
  while (i < prompt.length) {
    const rest = prompt.slice(i);
    const ch = prompt[i];
    const wordBefore = i > 0 && /[\p{L}\p{N}_]/u.test(prompt[i - 1]);
    let m: RegExpExecArray | null;
    if (ch === '\\' && i + 1 < prompt.length) {
      push(prompt.slice(i, i + 2), 'escape');
      i += 2;
    } else if ((m = EXTRA_NETWORK.exec(rest)) !== null) {
      push(m[0], 'extra-network');
      i += m[0].length;
    } else if (!wordBefore && (m = KEYWORD.exec(rest)) !== null) {
      push(m[0], m[1] === 'BREAK' ? 'break' : 'and');
      i += m[0].length;
    } else if (ch === '(') {
      round.push(push('(', 'bracket'));
      i++;
    } else if (ch === '[') {
      square.push({ at: push('[', 'bracket'), colons: [], pipes: [], hasWhen: false });
      i++;
    } else if (ch === ')' || (ch === ':' && round.length > 0 && WEIGHT_CLOSE.test(rest))) {
      if (round.length === 0) {
        push(ch, 'unbalanced');
        i++;
        continue;
      }
      round.pop();
      if (ch === ':') {
        const weight = WEIGHT_CLOSE.exec(rest)![0];
        push(weight.slice(0, -1), 'weight');
        push(')', 'bracket');
        i += weight.length;
      } else {
        push(')', 'bracket');
        i++;
      }
    } else if (ch === ']') {
      const open = square.pop();
      if (open === undefined) {
        push(']', 'unbalanced');
      } else {
        const kind = open.pipes.length > 0 && open.colons.length === 0 ? 'alternation' : open.hasWhen ? 'editing' : 'bracket';
        for (const at of [open.at, ...open.colons, ...open.pipes]) runs[at].kind = kind;
        push(']', kind);
      }
      i++;
    } else if (ch === ':' && square.length > 0) {
      const top = square[square.length - 1];
      const when = WHEN_CLOSE.exec(rest);
      const colon = when === null ? ':' : when[0].slice(0, -1);
      top.colons.push(push(colon, 'bracket'));
      top.hasWhen = when !== null;
      i += colon.length;
    } else if (ch === '|' && square.length > 0) {
      square[square.length - 1].pipes.push(push('|', 'bracket'));
      i++;
    } else {
      push(ch, 'text');
      i++;
    }
  }
  for (const at of round) runs[at].kind = 'unbalanced';
  for (const open of square) runs[open.at].kind = 'unbalanced';
  return runs;
}
