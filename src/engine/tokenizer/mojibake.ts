/**
 * The common mojibake: UTF-8 bytes that were read as Windows-1252 or Latin-1 ("cafÃ©" for "café",
 * "â€œ" for "“"). ftfy's fix_encoding also handles other single-byte encodings and scores text with a
 * badness heuristic; this keeps to its Windows-1252/Latin-1 plan, with a stricter test instead of the
 * heuristic: a run is only re-read when its bytes are valid UTF-8 and stand for Latin letters, general
 * punctuation, € or ™, or emoji — what prompts pasted from such text carry.
 */
/** Windows-1252 for bytes 0x80–0x9F; the five unassigned bytes stay as their C1 code points ("sloppy"). */
export const CP1252_HIGH =
  '\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f' +
  '\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178';

/** The byte a character was decoded from under sloppy Windows-1252 or Latin-1, or -1 when neither. */
function byteOf(code: number): number {
  if (code < 0x100) return code;
  const index = CP1252_HIGH.indexOf(String.fromCharCode(code));
  return index === -1 ? -1 : 0x80 + index;
}

/** Characters standing for bytes 0x80–0xBF (UTF-8 continuation bytes). */
const CONT = '\\x80-\\xbf\\u0152\\u0153\\u0160\\u0161\\u0178\\u017d\\u017e\\u0192\\u02c6\\u02dc\\u2013\\u2014' +
  '\\u2018-\\u201a\\u201c-\\u201e\\u2020-\\u2022\\u2026\\u2030\\u2039\\u203a\\u20ac\\u2122';
/** Runs of what look like UTF-8 sequences read as Windows-1252: a lead byte's character and its continuations. */
const RUN_RE = new RegExp(
  `(?<![${CONT}])(?:[\\xc2-\\xdf][${CONT}]|[\\xe0-\\xef][${CONT}]{2}|[\\xf0-\\xf4][${CONT}]{3})+`, 'g');
/** What a lone 2-byte sequence from "Â" or "Ã" plausibly stood for: Latin-1 letters and symbols. */
const PLAUSIBLE_SINGLE_RE = /^[\u00a0-\u00ff]$/u;
/**
 * What longer runs plausibly stood for: letters, marks, numbers, punctuation and symbols, spaces; no private use.
 * Made on first use, like the decoder below: V8 takes ~0.4 ms to parse these classes, and most prompts are ASCII.
 */
let plausibleRe: RegExp | undefined;
let strictUtf8: { decode(bytes: Uint8Array): string } | undefined;

/** The bytes characters were decoded from, or undefined when one is in neither encoding. */
function toBytes(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const byte = byteOf(text.charCodeAt(i));
    if (byte === -1) return undefined;
    bytes[i] = byte;
  }
  return bytes;
}

function decodeStrict(bytes: Uint8Array): string | undefined {
  try {
    strictUtf8 ??= new TextDecoder('utf-8', { fatal: true });
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Re-reads a run as UTF-8 when it holds a C1 control (mojibake for sure) or what comes out is plausible:
 * one 2-byte character must come from "Â" or "Ã" (Latin-1 letters and symbols), one 3-byte character must come from "â" or "ã"
 * (punctuation, symbols, CJK punctuation, kana), longer runs letters, marks, numbers, punctuation, symbols.
 */
function decodeRun(run: string): string {
  const bytes = toBytes(run);
  const decoded = bytes === undefined ? undefined : decodeStrict(bytes);
  if (decoded === undefined) return run;
  if (/[\x80-\x9f]/.test(run)) return decoded;
  if (run.length === 2) return /^[\xc2\xc3]/.test(run) && PLAUSIBLE_SINGLE_RE.test(decoded) ? decoded : run;
  if (run.length === 3 && !/^[\xe2\xe3]/.test(run)) return run;
  plausibleRe ??= /^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]+$/u;
  return plausibleRe.test(decoded) ? decoded : run;
}

/**
 * Fixes each run of mojibake; repeats, so that mojibake of mojibake comes back too. Text with C1 controls is
 * mojibake for sure (ftfy's heuristic says so too): if all of it reads as UTF-8, all of it is re-read.
 */
export function fixMojibake(text: string): string {
  let current = text;
  for (;;) {
    if (!/[\x80-\x9f\xc2-\xf4]/.test(current)) return current;
    const bytes = /[\x80-\x9f]/.test(current) ? toBytes(current) : undefined;
    const whole = bytes === undefined ? undefined : decodeStrict(bytes);
    const next = whole ?? current.replace(RUN_RE, decodeRun);
    if (next === current) return current;
    current = next;
  }
}
