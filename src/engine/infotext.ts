/**
 * AUTOMATIC1111's infotext: the PNG `parameters` text (REFERENCE.md "PNG `parameters`").
 *
 * Writer: mirrors `create_infotext` in A1111's modules/processing.py and `quote` in modules/infotext_utils.py.
 * Reader: mirrors `parse_generation_parameters` in modules/infotext_utils.py up to (not including) the step
 * where A1111 adds its defaults, back-compat flags and styles.
 */

export type InfotextValue = string | number | null | undefined;

/** Python's `str.isspace()` set, which is what `str.strip()` and `re`'s `\s` use (JS `\s` differs slightly). */
function isPySpace(c: number): boolean {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c === 0x85 || c === 0xa0 || c === 0x1680
    || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** Python `re`'s `\w` on str: letters, digits (all numeric categories) and '_'. */
const RE_PY_WORD = /^[\p{L}\p{N}_]$/u;
function isPyWord(c: number): boolean {
  if (c < 0x80) return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
  return RE_PY_WORD.test(String.fromCodePoint(c));
}

/** A1111's re_imagesize: `^(\d+)x(\d+)$` with Python's Unicode `\d`. */
const RE_IMAGESIZE = /^(\p{Nd}+)x(\p{Nd}+)$/u;

/** Python's `str.strip()` with no argument. */
function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isPySpace(s.charCodeAt(a))) a++;
  while (b > a && isPySpace(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/** A1111's `quote`: JSON-encode (non-ASCII kept raw) a value holding ',', '\n' or ':'; otherwise str(value). */
export function quoteInfotextValue(value: string): string {
  if (!value.includes(',') && !value.includes('\n') && !value.includes(':')) return value;
  return JSON.stringify(value);
}

/** A1111's `unquote`: a value in double quotes is JSON-decoded; left as it is when that fails. */
export function unquoteInfotextValue(text: string): string {
  if (text.length === 0 || text[0] !== '"' || text[text.length - 1] !== '"') return text;
  try {
    const decoded: unknown = JSON.parse(text);
    return typeof decoded === 'string' ? decoded : text;
  } catch {
    return text;
  }
}

/**
 * The infotext for one image: `<prompt>[\nNegative prompt: <negative>]\n<k: v, ...>`, stripped.
 * Params print in the given order; null/undefined are skipped; numbers print as String(n) (pass "7.0" as a string
 * for a Python float, see formatPythonFloat); a string value equal to its key prints as the bare key.
 */
export function formatInfotext(prompt: string, negativePrompt: string, params: Array<[key: string, value: InfotextValue]>): string {
  const items: string[] = [];
  for (const [key, value] of params) {
    if (value === null || value === undefined) continue;
    if (value === key) {
      items.push(key);
      continue;
    }
    items.push(`${key}: ${quoteInfotextValue(String(value))}`);
  }
  const negativeText = negativePrompt ? `\nNegative prompt: ${negativePrompt}` : '';
  return pyStrip(`${prompt}${negativeText}\n${items.join(', ')}`);
}

/**
 * Every `key: value` pair A1111's re_param finds in a params line, raw (values not unquoted):
 * `\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)` (`.` is "not a newline" in Python), applied with
 * finditer. Matched by hand in one linear pass: the regex backtracks from every start inside a long run of
 * letters or spaces (quadratic: 40k letters took seconds), and a PNG's text is anyone's to craft.
 * A start whose key run does not end in ':' fails for every start inside that run too, so the scan resumes
 * after the run; quoted values find their closing quote through a table built once per line.
 */
function findParams(line: string): Array<[string, string]> {
  const n = line.length;
  const cp = (i: number): number => line.codePointAt(i) as number;
  const width = (c: number): number => (c > 0xffff ? 2 : 1);
  const inKey = (c: number): boolean => isPyWord(c) || c === 0x20 || c === 0x2d || c === 0x2f;
  let closing: Int32Array | undefined;
  /** Index of the quote closing quoted content that starts at j, or -1. */
  const closingQuote = (j: number): number => {
    if (closing === undefined) {
      closing = new Int32Array(n + 1).fill(-1);
      for (let k = n - 1; k >= 0; k--) {
        const c = line.charCodeAt(k);
        if (c === 0x22) closing[k] = k;
        else if (c === 0x5c) {
          if (k + 1 < n && line.charCodeAt(k + 1) !== 0x0a) {
            const after = k + 1 + width(cp(k + 1));
            closing[k] = after <= n ? closing[after] : -1;
          }
        } else {
          closing[k] = closing[Math.min(n, k + width(cp(k)))];
        }
      }
    }
    return j >= n ? -1 : closing[j];
  };
  const found: Array<[string, string]> = [];
  let i = 0;
  while (i < n) {
    let q = i;
    while (q < n && isPySpace(line.charCodeAt(q))) q++;
    if (q >= n) break;
    const first = cp(q);
    if (!isPyWord(first)) {
      i = q + width(first);
      continue;
    }
    let r = q + width(first);
    while (r < n && inKey(cp(r))) r += width(cp(r));
    if (r === q + width(first) || r >= n || line.charCodeAt(r) !== 0x3a) {
      i = Math.max(r, q + width(first));
      continue;
    }
    let v = r + 1;
    while (v < n && isPySpace(line.charCodeAt(v))) v++;
    let valueEnd = -1;
    if (v < n && line.charCodeAt(v) === 0x22) {
      const close = closingQuote(v + 1);
      if (close > v + 1 && (close + 1 === n || line.charCodeAt(close + 1) === 0x2c)) valueEnd = close + 1;
    }
    if (valueEnd < 0) {
      const comma = line.indexOf(',', v);
      valueEnd = comma < 0 ? n : comma;
    }
    found.push([line.slice(q, r), line.slice(v, valueEnd)]);
    i = valueEnd < n ? valueEnd + 1 : n;
  }
  return found;
}

/**
 * Parses an infotext as A1111 does, without the defaults it then adds (Clip skip, RNG, Schedule type, …).
 * The last line is the params line only when it holds at least 3 `key: value` pairs. Quoted values are
 * JSON-decoded; a `WxH` value becomes `<key>-1` and `<key>-2`; an empty value is dropped (A1111 skips it too).
 */
export function parseInfotext(text: string): { prompt: string; negativePrompt: string; params: Record<string, string> } {
  const lines = pyStrip(text).split('\n');
  let lastLine = lines.pop() ?? '';
  if (findParams(lastLine).length < 3) {
    lines.push(lastLine);
    lastLine = '';
  }

  let prompt = '';
  let negativePrompt = '';
  let isNegative = false;
  for (const rawLine of lines) {
    let line = pyStrip(rawLine);
    if (line.startsWith('Negative prompt:')) {
      isNegative = true;
      line = pyStrip(line.slice(16));
    }
    if (isNegative) negativePrompt += (negativePrompt === '' ? '' : '\n') + line;
    else prompt += (prompt === '' ? '' : '\n') + line;
  }

  // A Map keeps Python's dict order (first insertion wins the slot) and treats "__proto__" as a plain key.
  const params = new Map<string, string>();
  for (const [key, raw] of findParams(lastLine)) {
    // A1111 indexes v[0] inside a try: an empty value raises and the pair is skipped.
    if (raw.length === 0) continue;
    const value = raw[0] === '"' && raw[raw.length - 1] === '"' ? unquoteInfotextValue(raw) : raw;
    const size = RE_IMAGESIZE.exec(value);
    if (size) {
      params.set(`${key}-1`, size[1]);
      params.set(`${key}-2`, size[2]);
    } else {
      params.set(key, value);
    }
  }
  return { prompt, negativePrompt, params: Object.fromEntries(params) };
}

/**
 * A number as Python's `str(float)` prints it: shortest round-trip digits, '.0' on integral values,
 * exponent form below 1e-4 or from 1e16 on ("1e-05", "1e+16"), "inf", "nan".
 */
export function formatPythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without digits gives the shortest digits that round-trip, as Python's repr does.
  const [mantissa, expText] = x.toExponential().split('e');
  const exp = Number(expText);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (exp < -4 || exp >= 16) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const expAbs = String(Math.abs(exp)).padStart(2, '0');
    return `${sign}${digits[0]}${frac}e${exp < 0 ? '-' : '+'}${expAbs}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const fracPart = digits.slice(exp + 1);
  return `${sign}${intPart}.${fracPart === '' ? '0' : fracPart}`;
}

/** An integer as Python's `str(int)` prints it (all digits, no exponent). */
export function formatPythonInt(n: number): string {
  if (!Number.isInteger(n)) throw new Error(`expected an integer for an int infotext field, got ${n}`);
  return BigInt(n).toString();
}

/** The generation settings A1111 writes, typed; see buildInfotextParams for the order and which are floats. */
export interface InfotextFields {
  readonly steps: number;
  readonly sampler: string;
  readonly scheduleType?: string;
  /** A float in A1111: 7 prints as "7.0". */
  readonly cfgScale: number;
  readonly imageCfgScale?: number;
  readonly seed: number;
  readonly faceRestoration?: string;
  readonly width: number;
  readonly height: number;
  /** First 10 hex chars of the model's sha256. */
  readonly modelHash?: string;
  readonly model?: string;
  readonly fp8Weight?: string;
  readonly vaeHash?: string;
  readonly vae?: string;
  /** Written with its strength only when the strength is not 0. */
  readonly variationSeed?: number;
  readonly variationSeedStrength?: number;
  readonly seedResizeFrom?: { readonly width: number; readonly height: number };
  /** img2img only; a float ("0.75", "1.0"). */
  readonly denoisingStrength?: number;
  readonly conditionalMaskWeight?: number;
  /** Written only when > 1. */
  readonly clipSkip?: number;
  /** Written only when not 0. */
  readonly ensd?: number;
  readonly tokenMergingRatio?: number;
  readonly initImageHash?: string;
  /** "CPU" or "NV"; "GPU" (A1111's default) is not written. */
  readonly rng?: string;
  readonly tiling?: boolean;
  /** A1111's extra_generation_params (Hires upscale, Lora hashes, …), in insertion order. */
  readonly extra?: ReadonlyArray<readonly [string, InfotextValue]>;
  readonly version?: string;
  readonly user?: string;
}

function optionalFloat(x: number | undefined): string | undefined {
  return x === undefined ? undefined : formatPythonFloat(x);
}

/** The params of formatInfotext in A1111 v1.10's key order, numbers printed as Python prints them. */
export function buildInfotextParams(f: InfotextFields): Array<[string, InfotextValue]> {
  const hasVariation = f.variationSeedStrength !== undefined && f.variationSeedStrength !== 0;
  const resize = f.seedResizeFrom;
  return [
    ['Steps', formatPythonInt(f.steps)],
    ['Sampler', f.sampler],
    ['Schedule type', f.scheduleType],
    ['CFG scale', formatPythonFloat(f.cfgScale)],
    ['Image CFG scale', optionalFloat(f.imageCfgScale)],
    ['Seed', formatPythonInt(f.seed)],
    ['Face restoration', f.faceRestoration],
    ['Size', `${formatPythonInt(f.width)}x${formatPythonInt(f.height)}`],
    ['Model hash', f.modelHash],
    ['Model', f.model],
    ['FP8 weight', f.fp8Weight],
    ['VAE hash', f.vaeHash],
    ['VAE', f.vae],
    ['Variation seed', hasVariation && f.variationSeed !== undefined ? formatPythonInt(f.variationSeed) : undefined],
    ['Variation seed strength', hasVariation ? optionalFloat(f.variationSeedStrength) : undefined],
    ['Seed resize from', resize && resize.width > 0 && resize.height > 0 ? `${resize.width}x${resize.height}` : undefined],
    ['Denoising strength', optionalFloat(f.denoisingStrength)],
    ['Conditional mask weight', optionalFloat(f.conditionalMaskWeight)],
    ['Clip skip', f.clipSkip !== undefined && f.clipSkip > 1 ? formatPythonInt(f.clipSkip) : undefined],
    ['ENSD', f.ensd !== undefined && f.ensd !== 0 ? formatPythonInt(f.ensd) : undefined],
    ['Token merging ratio', f.tokenMergingRatio ? formatPythonFloat(f.tokenMergingRatio) : undefined],
    ['Init image hash', f.initImageHash],
    ['RNG', f.rng !== undefined && f.rng !== 'GPU' ? f.rng : undefined],
    ['Tiling', f.tiling ? 'True' : undefined],
    ...(f.extra ?? []).map(([k, v]): [string, InfotextValue] => [k, v]),
    ['Version', f.version],
    ['User', f.user],
  ];
}
