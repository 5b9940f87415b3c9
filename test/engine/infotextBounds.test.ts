import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInfotext } from '../../src/engine/infotext';
import { lcg } from '../fixtures/lcg';

// Issue 12 row 2: "Reuse Parameters from Image" parses a PNG's `parameters` text anyone can craft. Before the fix
// A1111's regexes ran backtracking over it: `a` + 100k spaces + `a` took 68 s, 40k letters 4.5 s.
const BOUND_MS = 50;

/** The best of three runs: a complexity guard, not a speed test, so a stall of the shared machine must not count. */
function timed(text: string): number {
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    parseInfotext(text);
    best = Math.min(best, performance.now() - t0);
    if (best > 1000) break; // quadratic: no need to wait for three
  }
  return best;
}

const HOSTILE: Array<[string, string]> = [
  ['a + 20k spaces + a', `a${' '.repeat(20_000)}a`],
  ['40k letters', 'x'.repeat(40_000)],
  ['40k letters and spaces', 'ab '.repeat(13_000)],
  ['20k tabs between words', `a${'\t'.repeat(20_000)}b: c`],
  ['unclosed quotes', 'k: "aaa, '.repeat(6_000)],
  ['a long key before a comma', `${'k'.repeat(30_000)}, a: b`],
  ['64 KB of spaces on the params line', `prompt\n${' '.repeat(65_536)}x`],
];

for (const [name, text] of HOSTILE) {
  test(`parses ${name} (${text.length} characters) in under ${BOUND_MS} ms`, () => {
    const ms = timed(text);
    assert.ok(ms < BOUND_MS, `${ms.toFixed(1)} ms`);
  });
}

// The reference: A1111's re_param and str.strip as the parser wrote them before, for texts short enough that
// their backtracking does not matter.
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_WORD = '\\p{L}\\p{N}_';
const RE_PARAM = new RegExp(`[${PY_SPACE}]*([${PY_WORD}][${PY_WORD} \\-/]+):[${PY_SPACE}]*("(?:\\\\[^\\n]|[^\\\\"])+"|[^,]*)(?:,|$)`, 'gu');
const RE_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'gu');
const RE_IMAGESIZE = /^(\p{Nd}+)x(\p{Nd}+)$/u;

function referenceParse(text: string): ReturnType<typeof parseInfotext> {
  const strip = (s: string): string => s.replace(RE_STRIP, '');
  const find = (line: string): Array<[string, string]> => [...line.matchAll(RE_PARAM)].map((m) => [m[1], m[2]]);
  const lines = strip(text).split('\n');
  let lastLine = lines.pop() ?? '';
  if (find(lastLine).length < 3) {
    lines.push(lastLine);
    lastLine = '';
  }
  let prompt = '';
  let negativePrompt = '';
  let isNegative = false;
  for (const rawLine of lines) {
    let line = strip(rawLine);
    if (line.startsWith('Negative prompt:')) {
      isNegative = true;
      line = strip(line.slice(16));
    }
    if (isNegative) negativePrompt += (negativePrompt === '' ? '' : '\n') + line;
    else prompt += (prompt === '' ? '' : '\n') + line;
  }
  const params = new Map<string, string>();
  for (const [key, raw] of find(lastLine)) {
    if (raw.length === 0) continue;
    let value = raw;
    if (raw[0] === '"' && raw[raw.length - 1] === '"') {
      try {
        const d: unknown = JSON.parse(raw);
        if (typeof d === 'string') value = d;
      } catch { /* kept */ }
    }
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

test('the linear parser reads every text exactly as A1111\'s regexes do (20,000 random texts)', () => {
  const alphabet = ['a', 'b', 'Z', '1', '_', ' ', ' ', ':', ':', ',', ',', '"', '"', '\\', '\n', '\n', '-', '/', '\t', 'é', '٣', '\u3000', 'x', '8', '𝔘', '😀', '\ud800'];
  const next = lcg(12);
  for (let n = 0; n < 20_000; n++) {
    const length = (next() >>> 8) % 40;
    let text = '';
    for (let i = 0; i < length; i++) text += alphabet[(next() >>> 8) % alphabet.length];
    assert.deepEqual(parseInfotext(text), referenceParse(text), JSON.stringify(text));
  }
});
