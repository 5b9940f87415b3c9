/**
 * Finds markdown images (CommonMark syntax) around a cursor or selection, without `vscode`, so node tests load it.
 * Handles inline images `![alt](dest "title")` (also `![alt]()` and `<…>` destinations), reference images
 * `![alt][label]`, `![alt][]` and `![alt]` with or without a definition, nested brackets and backslash escapes.
 * Offsets are UTF-16 code unit offsets into the text, ranges end-exclusive.
 */

export interface TextRange {
  readonly start: number;
  readonly end: number;
}

export type ImageKind = 'inline' | 'reference';

export interface ImageLink {
  readonly kind: ImageKind;
  /** From `!` to the closing `)` or `]`. */
  readonly range: TextRange;
  /** Between `![` and its `]`. */
  readonly altRange: TextRange;
  /** The alt text as written (escapes and all). */
  readonly altSource: string;
  /** The alt text as a prompt: backslash escapes removed, whitespace collapsed, trimmed. */
  readonly prompt: string;
  /** inline: the destination as written, `<…>` included; empty range for `![alt]()`. */
  readonly destRange?: TextRange;
  /** reference: the label (the alt text for `![alt][]` and `![alt]`). */
  readonly label?: string;
}

/** A reference definition `[label]: destination "title"`. */
export interface LinkDefinition {
  readonly label: string;
  readonly destRange: TextRange;
}

export type IllustrateTarget =
  /** The cursor or selection is inside an image. */
  | { readonly kind: 'image'; readonly image: ImageLink }
  /** Plain text is selected: it becomes the prompt, and the selection becomes `![text](path)`. */
  | { readonly kind: 'text'; readonly range: TextRange; readonly source: string; readonly prompt: string };

const ASCII_PUNCTUATION = /[!-/:-@[-`{-~]/;

/** Removes CommonMark backslash escapes (a backslash before ASCII punctuation). */
export function unescapeMarkdown(text: string): string {
  return text.replace(/\\([!-/:-@[-`{-~])/g, '$1');
}

/** The prompt an alt text or selection stands for: escapes removed, whitespace collapsed, trimmed. */
export function toPrompt(text: string): string {
  return unescapeMarkdown(text).replace(/\s+/g, ' ').trim();
}

/** Escapes text for use as alt text inside `![…]`. */
export function escapeAltText(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/[\\[\]]/g, (c) => `\\${c}`);
}

function isBlankLineAt(text: string, newlineIndex: number): boolean {
  // a newline followed by optional spaces/tabs and another newline (or the end) ends the paragraph
  let i = newlineIndex + 1;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r')) i++;
  return i >= text.length || text[i] === '\n';
}

/** Index of the `]` closing the bracket opened just before `from`, or -1 (nested brackets, escapes, no blank line). */
function findClosingBracket(text: string, from: number, end: number): number {
  let depth = 0;
  for (let i = from; i < end; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < end && ASCII_PUNCTUATION.test(text[i + 1])) {
      i++;
    } else if (c === '[') {
      depth++;
    } else if (c === ']') {
      if (depth === 0) return i;
      depth--;
    } else if (c === '\n' && isBlankLineAt(text, i)) {
      return -1;
    }
  }
  return -1;
}

function skipSpaces(text: string, i: number, end: number): number {
  let newlines = 0;
  while (i < end && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r' || text[i] === '\n')) {
    if (text[i] === '\n' && ++newlines > 1) break;
    i++;
  }
  return i;
}

/** Parses `(dest "title")` starting at the `(`; returns the destination range and the index after `)`. */
function parseInlineTail(text: string, open: number, end: number): { destRange: TextRange; after: number } | undefined {
  let i = skipSpaces(text, open + 1, end);
  let destRange: TextRange;
  if (text[i] === '<') {
    const start = i;
    for (i++; i < end; i++) {
      const c = text[i];
      if (c === '\\' && i + 1 < end && ASCII_PUNCTUATION.test(text[i + 1])) i++;
      else if (c === '>' || c === '<' || c === '\n') break;
    }
    if (text[i] !== '>') return undefined;
    destRange = { start, end: i + 1 };
    i++;
  } else {
    const start = i;
    let parens = 0;
    for (; i < end; i++) {
      const c = text[i];
      if (c === '\\' && i + 1 < end && ASCII_PUNCTUATION.test(text[i + 1])) { i++; continue; }
      if (c === '(') parens++;
      else if (c === ')') { if (parens === 0) break; parens--; }
      else if (c <= ' ' || c === '\u007f') break;
    }
    if (parens !== 0) return undefined;
    destRange = { start, end: i };
  }
  const beforeTitle = i;
  i = skipSpaces(text, i, end);
  const quote = text[i];
  if ((quote === '"' || quote === "'" || quote === '(') && i > beforeTitle) {
    const close = quote === '(' ? ')' : quote;
    for (i++; i < end; i++) {
      const c = text[i];
      if (c === '\\' && i + 1 < end) i++;
      else if (c === close) break;
      else if (quote === '(' && c === '(') return undefined;
      else if (c === '\n' && isBlankLineAt(text, i)) return undefined;
    }
    if (text[i] !== close) return undefined;
    i = skipSpaces(text, i + 1, end);
  }
  if (text[i] !== ')') return undefined;
  return { destRange, after: i + 1 };
}

/** Parses the image whose `!` is at `bang`, or undefined when `![` there starts no image. */
export function parseImageAt(text: string, bang: number, end = text.length): ImageLink | undefined {
  if (text[bang] !== '!' || text[bang + 1] !== '[') return undefined;
  if (isEscaped(text, bang)) return undefined;
  const altStart = bang + 2;
  const close = findClosingBracket(text, altStart, end);
  if (close < 0) return undefined;
  const altRange = { start: altStart, end: close };
  const altSource = text.slice(altStart, close);
  const base = { altRange, altSource, prompt: toPrompt(altSource) };
  const next = text[close + 1];
  if (next === '(') {
    const tail = parseInlineTail(text, close + 1, end);
    if (!tail) return undefined;
    return { kind: 'inline', range: { start: bang, end: tail.after }, destRange: tail.destRange, ...base };
  }
  if (next === '[') {
    const labelEnd = text.indexOf(']', close + 2);
    const label = labelEnd < 0 ? '' : text.slice(close + 2, labelEnd);
    if (labelEnd >= 0 && label.length <= 999 && !/(^|[^\\])\[/.test(label)) {
      return { kind: 'reference', range: { start: bang, end: labelEnd + 1 }, label: label.trim() === '' ? altSource : label, ...base };
    }
  }
  return { kind: 'reference', range: { start: bang, end: close + 1 }, label: altSource, ...base };
}

function isEscaped(text: string, index: number): boolean {
  let backslashes = 0;
  for (let i = index - 1; i >= 0 && text[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 1;
}

/** Every image that starts in [from, to), images nested in another image's alt text included. */
export function findImages(text: string, from = 0, to = text.length): ImageLink[] {
  const images: ImageLink[] = [];
  for (let i = text.indexOf('![', from); i >= 0 && i < to; i = text.indexOf('![', i + 1)) {
    const image = parseImageAt(text, i);
    if (image) images.push(image);
  }
  return images;
}

/** Label matching as CommonMark does it: case-folded, inner whitespace collapsed. */
export function normalizeLabel(label: string): string {
  return label.trim().replace(/\s+/g, ' ').toLowerCase().toUpperCase();
}

/** The reference definition for a label, or undefined. */
export function findDefinition(text: string, label: string): LinkDefinition | undefined {
  const wanted = normalizeLabel(label);
  const re = /^ {0,3}\[((?:[^\]\\\n]|\\.){1,999})\]:[ \t]*\n?[ \t]*(<[^<>\n]*>|\S+)/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (normalizeLabel(m[1]) !== wanted) continue;
    const destStart = m.index + m[0].length - m[2].length;
    return { label: m[1], destRange: { start: destStart, end: destStart + m[2].length } };
  }
  return undefined;
}

/** Where a cursor counts as inside an image: anywhere in its alt text (edges included) or strictly inside its syntax. */
function containsCursor(image: ImageLink, offset: number): boolean {
  return (image.altRange.start <= offset && offset <= image.altRange.end)
    || (image.range.start < offset && offset < image.range.end);
}

function innermost(images: ImageLink[]): ImageLink | undefined {
  return images.reduce<ImageLink | undefined>((best, im) =>
    best === undefined || im.range.end - im.range.start < best.range.end - best.range.start ? im : best, undefined);
}

/** The paragraph around an offset: from the line after the previous blank line to just before the next one. */
export function paragraphAround(text: string, offset: number): TextRange {
  const isBlank = (from: number, to: number): boolean => text.slice(from, to).trim() === '';
  let start = text.lastIndexOf('\n', offset - 1) + 1;
  while (start > 0) {
    const previous = text.lastIndexOf('\n', start - 2) + 1;
    if (isBlank(previous, start - 1)) break;
    start = previous;
  }
  let end = text.indexOf('\n', offset);
  while (end >= 0) {
    const next = text.indexOf('\n', end + 1);
    if (isBlank(end + 1, next < 0 ? text.length : next)) break;
    end = next;
  }
  return { start, end: end < 0 ? text.length : end };
}

/**
 * What "Illustrate Alt Text" acts on for a selection [selStart, selEnd): the innermost image containing the
 * cursor or the whole selection, else the selected text when it is not blank, else nothing.
 */
export function findIllustrateTarget(text: string, selStart: number, selEnd = selStart): IllustrateTarget | undefined {
  const start = Math.min(selStart, selEnd);
  const end = Math.max(selStart, selEnd);
  const paragraph = paragraphAround(text, start);
  const images = findImages(text, paragraph.start, Math.max(end, paragraph.end));
  const hits = start === end
    ? images.filter((im) => containsCursor(im, start))
    : images.filter((im) => im.range.start <= start && end <= im.range.end
      && (containsCursor(im, start) || start === im.range.start) && (containsCursor(im, end) || end === im.range.end));
  const image = innermost(hits);
  if (image) return { kind: 'image', image };
  if (start === end) return undefined;
  const source = text.slice(start, end);
  const prompt = toPrompt(source);
  return prompt ? { kind: 'text', range: { start, end }, source, prompt } : undefined;
}
