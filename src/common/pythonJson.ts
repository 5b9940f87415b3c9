/**
 * JSON as Python's `json.loads` reads it — the reader every diffusers config was written for. Python's json writes
 * and reads the bare tokens `NaN`, `Infinity` and `-Infinity` (diffusers saves DPMSolverMultistepScheduler's
 * default `lambda_min_clipped` as `-Infinity`); everything else is standard JSON. Text that JSON.parse accepts goes
 * through JSON.parse (the fast path: vocab.json is a megabyte); anything else is parsed here, and what neither
 * accepts gets a one-line error naming the line, column and character position, as Python's does.
 */

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
  constructor(
    /** What was expected, in Python's words ("Expecting value", "Expecting ',' delimiter", …). */
    readonly reason: string,
    /** 0-based character offset into the text. */
    readonly position: number,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason}: line ${line} column ${column} (char ${position})`);
  }
}

/** Parses `text` as Python's json.loads does (NaN, Infinity, -Infinity are numbers); throws JsonSyntaxError. */
export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return new Parser(text).parseDocument();
  }
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;
const CONSTANTS: ReadonlyArray<readonly [string, unknown]> = [
  ['null', null], ['true', true], ['false', false], ['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity],
];

/** A recursive-descent reader of Python's json grammar (json/decoder.py and json/scanner.py), strict=True. */
class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseDocument(): unknown {
    if (this.text.startsWith('\ufeff')) this.fail('Unexpected UTF-8 BOM (decode using utf-8-sig)');
    this.skipWhitespace();
    const value = this.parseValue();
    this.skipWhitespace();
    if (this.pos !== this.text.length) this.fail('Extra data');
    return value;
  }

  /** Throws at UTF-16 offset `at`, counted in code points as Python counts characters. */
  private fail(reason: string, at = this.pos): never {
    let line = 1;
    let char = 0;
    let column = 1;
    for (let i = 0; i < at; i++) {
      const code = this.text.charCodeAt(i);
      if (code >= 0xdc00 && code <= 0xdfff && i > 0 && isHighSurrogate(this.text.charCodeAt(i - 1))) continue;
      char++;
      column++;
      if (code === 0x0a) {
        line++;
        column = 1;
      }
    }
    throw new JsonSyntaxError(reason, char, line, column);
  }

  private skipWhitespace(): void {
    while (this.pos < this.text.length && WHITESPACE.has(this.text[this.pos])) this.pos++;
  }

  private parseValue(): unknown {
    const ch = this.text[this.pos];
    if (ch === '"') return this.parseString();
    if (ch === '{') return this.parseObject();
    if (ch === '[') return this.parseArray();
    for (const [token, value] of CONSTANTS) {
      if (this.text.startsWith(token, this.pos)) {
        this.pos += token.length;
        return value;
      }
    }
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (m === null) this.fail('Expecting value');
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private parseObject(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      if (this.text[this.pos] !== '"') this.fail('Expecting property name enclosed in double quotes');
      const key = this.parseString();
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.fail("Expecting ':' delimiter");
      this.pos++;
      this.skipWhitespace();
      const value = this.parseValue();
      // as JSON.parse and Python's dict: the last of a repeated key wins ("__proto__" is an own key, not a prototype)
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      this.skipWhitespace();
      const ch = this.text[this.pos];
      this.pos++;
      if (ch === '}') return out;
      if (ch !== ',') this.fail("Expecting ',' delimiter", this.pos - 1);
      this.skipWhitespace();
    }
  }

  private parseArray(): unknown[] {
    const out: unknown[] = [];
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.parseValue());
      this.skipWhitespace();
      const ch = this.text[this.pos];
      this.pos++;
      if (ch === ']') return out;
      if (ch !== ',') this.fail("Expecting ',' delimiter", this.pos - 1);
      this.skipWhitespace();
    }
  }

  private parseString(): string {
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      if (this.pos >= this.text.length) this.fail('Unterminated string starting at', start);
      const ch = this.text[this.pos];
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch < ' ') this.fail('Invalid control character at');
      if (ch !== '\\') {
        out += ch;
        this.pos++;
        continue;
      }
      const esc = this.text[this.pos + 1];
      if (esc === undefined) this.fail('Unterminated string starting at', start);
      if (esc === 'u') {
        const hex = this.text.slice(this.pos + 2, this.pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('Invalid \\uXXXX escape', this.pos + 1);
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 6;
      } else {
        if (!(esc in ESCAPES)) this.fail('Invalid \\escape');
        out += ESCAPES[esc];
        this.pos += 2;
      }
    }
  }
}
