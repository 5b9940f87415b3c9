/**
 * The text fixes CLIP's reference tokenizer applies before BPE: ftfy 6's `fix_text` with its default
 * configuration (ftfy is Python-only, so the fixes prompts meet are written out here) and Python's
 * `html.unescape`. fix_text works line by line and repeats its fixes on each line until nothing changes:
 * unescape_html, fix_encoding (mojibake), fix_c1_controls, fix_latin_ligatures, fix_character_width,
 * uncurl_quotes, fix_line_breaks, fix_surrogates, remove_terminal_escapes, remove_control_chars, NFC.
 */
import { HTML_ENTITY_DATA } from './htmlEntities';
import { CP1252_HIGH, fixMojibake } from './mojibake';

interface EntityTables {
  /** Every name with its ";" ("amp;") and every legacy name without it ("amp"), as html.entities.html5. */
  readonly html5: Map<string, string>;
  /** ftfy's table: "&name;" for every name, plus "&NAME;" for lower-case names whose capitals mean nothing else. */
  readonly ftfy: Map<string, string>;
}
let entityTables: EntityTables | undefined;

function getEntityTables(): EntityTables {
  if (entityTables !== undefined) return entityTables;
  const html5 = new Map<string, string>();
  for (const item of HTML_ENTITY_DATA.split(',')) {
    const colon = item.indexOf(':');
    const isLegacy = item.startsWith('!');
    const name = item.slice(isLegacy ? 1 : 0, colon);
    const value = String.fromCodePoint(...item.slice(colon + 1).split('+').map((hex) => parseInt(hex, 16)));
    html5.set(name + ';', value);
    if (isLegacy) html5.set(name, value);
  }
  entityTables = { html5, ftfy: new Map() };
  const ftfy = entityTables.ftfy;
  for (const [name, value] of html5) {
    if (!name.endsWith(';')) continue;
    ftfy.set('&' + name, value);
    const upper = '&' + name.toUpperCase();
    if (name === name.toLowerCase() && unescapeHtml(upper) === upper) ftfy.set(upper, value.toUpperCase());
  }
  return entityTables;
}

// ── Python's html.unescape ─────────────────────────────────────────────────────────────────────────────

const CHARREF_RE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

/** Numeric references that HTML5 reads as something else (Python's html._invalid_charrefs). */
function invalidCharref(code: number): string | undefined {
  if (code === 0) return '\ufffd';
  if (code === 0x0d) return '\r';
  if (code >= 0x80 && code <= 0x9f) return CP1252_HIGH[code - 0x80];
  return undefined;
}

/** Code points a numeric reference may not produce; they decode to nothing (html._invalid_codepoints). */
function isInvalidCodepoint(code: number): boolean {
  return (code >= 0x1 && code <= 0x8) || code === 0xb || (code >= 0xe && code <= 0x1f) ||
    (code >= 0x7f && code <= 0x9f) || (code >= 0xfdd0 && code <= 0xfdef) || (code & 0xfffe) === 0xfffe;
}

function decodeNumericRef(ref: string): string {
  const isHex = ref[1] === 'x' || ref[1] === 'X';
  const digits = ref.slice(isHex ? 2 : 1).replace(/;$/, '');
  const code = isHex ? parseInt(digits, 16) : parseInt(digits, 10);
  const replaced = invalidCharref(code);
  if (replaced !== undefined) return replaced;
  if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return '\ufffd';
  if (isInvalidCodepoint(code)) return '';
  return String.fromCodePoint(code);
}

/** Python's `html.unescape`: HTML5 named and numeric character references, legacy names without ";". */
export function unescapeHtml(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARREF_RE, (whole: string, ref: string) => {
    if (ref[0] === '#') return decodeNumericRef(ref);
    const { html5 } = getEntityTables();
    const value = html5.get(ref);
    if (value !== undefined) return value;
    const chars = Array.from(ref);
    for (let length = chars.length - 1; length > 1; length--) {
      const prefix = chars.slice(0, length).join('');
      const legacy = html5.get(prefix);
      if (legacy !== undefined) return legacy + chars.slice(length).join('');
    }
    return whole;
  });
}

// ── ftfy's fixers ──────────────────────────────────────────────────────────────────────────────────────

const FTFY_ENTITY_RE = /&#?[0-9A-Za-z]{1,24};/g;

/** ftfy's unescape_html: only references that end in ";", plus all-caps names (P&EACUTE;REZ). */
function unescapeHtmlStrict(text: string): string {
  return text.replace(FTFY_ENTITY_RE, (entity) => {
    const value = getEntityTables().ftfy.get(entity);
    if (value !== undefined) return value;
    if (entity.startsWith('&#')) {
      const decoded = unescapeHtml(entity);
      return decoded.includes(';') ? entity : decoded;
    }
    return entity;
  });
}

const C1_RE = /[\x80-\x9f]/g;
/** C1 controls are Windows-1252 bytes read as Latin-1; read them as Windows-1252, as browsers do. */
export function fixC1Controls(text: string): string {
  return text.replace(C1_RE, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]);
}

const LIGATURES: Record<string, string> = {
  'Ĳ': 'IJ', 'ĳ': 'ij', 'ŉ': 'ʼn', 'Ǳ': 'DZ', 'ǲ': 'Dz', 'ǳ': 'dz', 'Ǆ': 'DŽ', 'ǅ': 'Dž', 'ǆ': 'dž',
  'Ǉ': 'LJ', 'ǈ': 'Lj', 'ǉ': 'lj', 'Ǌ': 'NJ', 'ǋ': 'Nj', 'ǌ': 'nj',
  'ﬀ': 'ff', 'ﬁ': 'fi', 'ﬂ': 'fl', 'ﬃ': 'ffi', 'ﬄ': 'ffl', 'ﬅ': 'ſt', 'ﬆ': 'st',
};
const LIGATURE_RE = new RegExp(`[${Object.keys(LIGATURES).join('')}]`, 'g');

/** Full-width ASCII, half-width katakana/Hangul (U+FF01–U+FFEF) to their NFKC forms; U+3000 to a space. */
const WIDTH_RE = /[\u3000\uff01-\uffef]/g;
function fixCharacterWidth(text: string): string {
  return text.replace(WIDTH_RE, (c) => (c === '\u3000' ? ' ' : c.normalize('NFKC')));
}

function uncurlQuotes(text: string): string {
  return text.replace(/[\u201c-\u201f]/g, '"').replace(/[\u02bc\u2018-\u201b]/g, "'");
}

function fixLineBreaks(text: string): string {
  return text.replace(/\r\n|[\r\u2028\u2029\u0085]/g, '\n');
}

/** A JS string holds surrogate pairs as the characters they encode already; lone halves become U+FFFD. */
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
function fixSurrogates(text: string): string {
  return text.replace(LONE_SURROGATE_RE, '\ufffd');
}

/** ANSI terminal escapes ("\x1b[36;44m"); Python's \d there is any decimal digit. */
const TERMINAL_ESCAPE_RE = /\x1b\[(?:\p{Nd}|;)*[a-zA-Z]/gu;

/** Controls with no visible effect: C0 except tab/LF/FF/CR, DEL, U+206A–206F, BOM, U+FFF9–FFFC. */
const CONTROL_RE = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;

/** ftfy's fix_and_explain on one segment (one line): every fix, repeated until the text stops changing. */
function fixSegment(segment: string, unescape: boolean): string {
  let text = segment;
  for (;;) {
    const before = text;
    if (unescape) text = unescapeHtmlStrict(text);
    text = fixMojibake(text);
    text = fixC1Controls(text);
    text = text.replace(LIGATURE_RE, (c) => LIGATURES[c]);
    text = fixCharacterWidth(text);
    text = uncurlQuotes(text);
    text = fixLineBreaks(text);
    text = fixSurrogates(text);
    text = text.replace(TERMINAL_ESCAPE_RE, '');
    text = text.replace(CONTROL_RE, '');
    text = text.normalize('NFC');
    if (text === before) return text;
  }
}

const UNTOUCHED_RE = /^[\t\n\x20-\x25\x27-\x7e]*$/;

/**
 * ftfy.fix_text with its defaults. Lines are fixed one at a time; from the first line that contains "<"
 * on, the text is taken for HTML and entities are left alone (ftfy's unescape_html="auto").
 */
export function fixText(text: string): string {
  // Printable ASCII, tab and newline without "&" (most prompts): no fix below changes a character of it.
  return UNTOUCHED_RE.test(text) ? text : fixTextLines(text);
}

/** fixText without its shortcut for plain ASCII (the test that shows the shortcut changes nothing runs this). */
export function fixTextLines(text: string): string {
  let unescape = true;
  let out = '';
  let pos = 0;
  while (pos < text.length) {
    const lineEnd = text.indexOf('\n', pos);
    const end = lineEnd === -1 ? text.length : lineEnd + 1;
    const segment = text.slice(pos, end);
    if (unescape && segment.includes('<')) unescape = false;
    out += fixSegment(segment, unescape);
    pos = end;
  }
  return out;
}
