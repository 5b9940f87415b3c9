/**
 * AUTOMATIC1111's prompt editing and alternation (get_learned_conditioning_prompt_schedules in
 * modules/prompt_parser.py, A1111 1.6+): `[from:to:when]`, `[to:when]`, `[from::when]`, nesting, and `[a|b|c]`
 * (one option per step, in turn; options may be empty). `when` with a decimal point is a fraction of the steps
 * ("0.5", "1.0"), without one a step number ("3"); a `when` below step 1 adds no step of its own. A1111's setting
 * "Use old prompt editing timelines" (useOldScheduling) reads every `when` below 1 as a fraction instead.
 *
 * A1111 parses with a lark grammar (Earley):
 *   start: (prompt | /[][():]/+)*
 *   prompt: (emphasized | scheduled | alternate | plain | WHITESPACE)*
 *   emphasized: "(" prompt ")" | "(" prompt ":" prompt ")" | "[" prompt "]"
 *   scheduled: "[" [prompt ":"] prompt ":" [WHITESPACE] NUMBER [WHITESPACE] "]"
 *   alternate: "[" prompt ("|" [prompt])+ "]"
 *   plain: /([^\\\[\]():|]|\\.)+/
 * Inside a prompt the delimiters decide everything, so a recursive descent parses it exactly; only at the top
 * level may a bracket be a stray character, and lark takes the bracket construct wherever one parses.
 * Where A1111 cannot parse the prompt (a `|` outside an alternation, a backslash at the end) or raises (a `when`
 * of 1e400), the schedule is the prompt as it is, for all steps.
 */
import { PY_SPACE } from './pythonText';

type Part = string | Scheduled | Alternate | Part[];
interface Scheduled { readonly kind: 'scheduled'; readonly before?: Part[]; readonly after: Part[]; when: number; readonly whenText: string }
interface Alternate { readonly kind: 'alternate'; readonly options: Part[][] }

class Unparsable extends Error {}

/** lark's SIGNED_NUMBER (ASCII digits) between optional whitespace, closing the bracket (sticky: read at `pos`). */
const WHEN_CLOSE = new RegExp(`[${PY_SPACE}]*([+-]?(?:[0-9]+(?:\\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\\.[0-9]+(?:[eE][+-]?[0-9]+)?))[${PY_SPACE}]*\\]`, 'uy');

/**
 * Brackets nested deeper than this make the prompt unparsable (its schedule: the prompt as it is). A1111's parser
 * gives up far earlier (Python's recursion limit); the bound keeps this recursive descent off the stack's end.
 */
const MAX_DEPTH = 500;

class ScheduleParser {
  private pos = 0;
  private depth = 0;
  /**
   * Bracket positions where no construct parses. Whether one does depends only on the text from there on, so each is
   * tried once: without this, a run of n unclosed brackets is parsed again from each of them (n² work, 20 s for
   * 2,400 "(").
   */
  private readonly noConstructAt = new Set<number>();
  constructor(private readonly text: string) {}

  /** start: text runs, bracket constructs and stray brackets/colons. */
  parseStart(): Part[] {
    const parts: Part[] = [];
    const { text } = this;
    while (this.pos < text.length) {
      const ch = text[this.pos];
      if (ch === '(' || ch === '[') {
        const start = this.pos;
        const construct = this.tryConstruct();
        if (construct !== undefined) {
          parts.push(construct);
          continue;
        }
        this.pos = start + 1;
        parts.push(ch);
      } else if (ch === ')' || ch === ']' || ch === ':') {
        parts.push(ch);
        this.pos++;
      } else if (ch === '|') {
        throw new Unparsable();
      } else {
        parts.push(this.parsePlain());
      }
    }
    return parts;
  }

  /** prompt: text runs and bracket constructs up to a delimiter it cannot hold. */
  private parsePrompt(): Part[] {
    const parts: Part[] = [];
    const { text } = this;
    while (this.pos < text.length) {
      const ch = text[this.pos];
      if (ch === '(' || ch === '[') {
        const construct = this.tryConstruct();
        if (construct === undefined) throw NO_CONSTRUCT;
        parts.push(construct);
      } else if (ch === ')' || ch === ']' || ch === ':' || ch === '|') {
        break;
      } else {
        parts.push(this.parsePlain());
      }
    }
    return parts;
  }

  /** plain: everything but \ [ ] ( ) : |, and a backslash with the character after it (not a newline). */
  private parsePlain(): string {
    const { text } = this;
    const start = this.pos;
    while (this.pos < text.length) {
      const ch = text[this.pos];
      if (ch === '\\') {
        if (this.pos + 1 >= text.length || text[this.pos + 1] === '\n') throw new Unparsable();
        this.pos += 2;
        // An escaped surrogate pair: the "character after it" is the whole code point.
        if (isHighSurrogate(text.charCodeAt(this.pos - 1)) && isLowSurrogate(text.charCodeAt(this.pos))) this.pos++;
        continue;
      }
      if (ch === '[' || ch === ']' || ch === '(' || ch === ')' || ch === ':' || ch === '|') break;
      this.pos++;
    }
    return text.slice(start, this.pos);
  }

  /** emphasized, scheduled or alternate at this bracket, or undefined (position restored) where none parses. */
  private tryConstruct(): Part | undefined {
    const start = this.pos;
    if (this.noConstructAt.has(start)) return undefined;
    if (++this.depth > MAX_DEPTH) throw new Unparsable();
    try {
      return this.parseConstruct();
    } catch (e) {
      if (e !== NO_CONSTRUCT) throw e;
      this.noConstructAt.add(start);
      this.pos = start;
      return undefined;
    } finally {
      this.depth--;
    }
  }

  private parseConstruct(): Part {
    const { text } = this;
    const open = text[this.pos++];
    const first = this.parsePrompt();
    const next = text[this.pos];
    if (open === '(') {
      if (next === ')') return this.emphasized(['(', first, ')']);
      if (next !== ':') throw NO_CONSTRUCT;
      this.pos++;
      const second = this.parsePrompt();
      if (text[this.pos] !== ')') throw NO_CONSTRUCT;
      return this.emphasized(['(', first, ':', second, ')']);
    }
    if (next === ']') return this.emphasized(['[', first, ']']);
    if (next === '|') {
      const options = [first];
      while (text[this.pos] === '|') {
        this.pos++;
        options.push(this.parsePrompt());
      }
      if (text[this.pos] !== ']') throw NO_CONSTRUCT;
      this.pos++;
      return { kind: 'alternate', options };
    }
    if (next !== ':') throw NO_CONSTRUCT;
    this.pos++;
    const shortWhen = this.readWhenClose();
    if (shortWhen !== undefined) return { kind: 'scheduled', after: first, when: NaN, whenText: shortWhen };
    const second = this.parsePrompt();
    if (text[this.pos] !== ':') throw NO_CONSTRUCT;
    this.pos++;
    const when = this.readWhenClose();
    if (when === undefined) throw NO_CONSTRUCT;
    return { kind: 'scheduled', before: first, after: second, when: NaN, whenText: when };
  }

  private emphasized(parts: Part[]): Part {
    this.pos++;
    return parts;
  }

  /** `[WHITESPACE] NUMBER "]"` here: the number's text, consumed; else undefined. */
  private readWhenClose(): string | undefined {
    WHEN_CLOSE.lastIndex = this.pos;
    const m = WHEN_CLOSE.exec(this.text);
    if (m === null) return undefined;
    this.pos += m[0].length;
    return m[1];
  }
}

/**
 * Thrown inside a bracket that is no construct: at the top level the bracket is then a stray character. One shared
 * value, not an Error made per level (each would capture a stack at that depth).
 */
const NO_CONSTRUCT: unique symbol = Symbol('no construct');

function isHighSurrogate(code: number): boolean { return code >= 0xd800 && code <= 0xdbff; }
function isLowSurrogate(code: number): boolean { return code >= 0xdc00 && code <= 0xdfff; }

/** CollectSteps: every `when` resolved against the steps (those from step 1 on listed), every step where an alternation is. */
function collectSteps(parts: Part[], steps: number, old: boolean, out: Set<number>): void {
  for (const part of parts) {
    if (typeof part === 'string') continue;
    if (Array.isArray(part)) {
      collectSteps(part, steps, old, out);
    } else if (part.kind === 'scheduled') {
      if (part.before !== undefined) collectSteps(part.before, steps, old, out);
      collectSteps(part.after, steps, old, out);
      let when = Number(part.whenText);
      if (old ? when < 1 : part.whenText.includes('.')) when *= steps;
      if (!Number.isFinite(when)) throw new Unparsable(); // Python's int() raises OverflowError
      part.when = Math.min(steps, Math.trunc(when) + 0); // + 0: Python's int has no -0
      if (part.when >= 1) out.add(part.when);
    } else {
      for (const option of part.options) collectSteps(option, steps, old, out);
      for (let s = 1; s <= steps; s++) out.add(s);
    }
  }
}

/** AtStep: the prompt text at one step. */
function textAt(parts: Part[], step: number): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') out += part;
    else if (Array.isArray(part)) out += textAt(part, step);
    else if (part.kind === 'scheduled') out += step <= part.when ? textAt(part.before ?? [], step) : textAt(part.after, step);
    else {
      const n = part.options.length;
      out += textAt(part.options[(((step - 1) % n) + n) % n], step);
    }
  }
  return out;
}

/** Options of promptSchedules: A1111's "Use old prompt editing timelines" (infotexts of A1111 before 1.6). */
export interface ScheduleOptions { readonly useOldScheduling?: boolean }

/** A1111's get_learned_conditioning_prompt_schedules([prompt], steps)[0]: [[endAtStep, text], …]. */
export function promptSchedules(prompt: string, steps: number, opts: ScheduleOptions = {}): Array<[number, string]> {
  try {
    const parts = new ScheduleParser(prompt).parseStart();
    const stepSet = new Set<number>([steps]);
    collectSteps(parts, steps, opts.useOldScheduling === true, stepSet);
    return [...stepSet].sort((a, b) => a - b).map((step): [number, string] => [step, textAt(parts, step)]);
  } catch (e) {
    if (e instanceof Unparsable || e === NO_CONSTRUCT) return [[steps, prompt]];
    throw e;
  }
}
