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

/** How far "Illustrate Alt Text" looks each side of the cursor or selection: an image's syntax is short. */
export const ILLUSTRATE_WINDOW = 4096;

/** Longest reference label CommonMark allows. */
const MAX_LABEL = 999;

function isBlankLineAt(text: string, newlineIndex: number, end: number): boolean {
  // a newline followed by optional spaces/tabs and another newline (or the end) ends the paragraph
  let i = newlineIndex + 1;
  while (i < end && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r')) i++;
  return i >= end || text[i] === '\n';
}

function isEscapeAt(text: string, i: number, end: number): boolean {
  return text[i] === '\\' && i + 1 < end && ASCII_PUNCTUATION.test(text[i + 1]);
}

const STOP_SPACE = 0;
const STOP_CLOSE = 1;
const STOP_UNBALANCED = 2;

/**
 * One linear pass over text[from, end) that answers, in constant time, the two questions whose naive answers scan
 * to the end of the text for every `![` (quadratic on hostile text): where the `]` closing each `[` is, and where
 * an inline destination starting at an index stops.
 */
class BracketIndex {
  private readonly closing: Int32Array;
  private readonly stopAt: Int32Array;
  private readonly stopKind: Uint8Array;

  constructor(text: string, private readonly from: number, private readonly end: number) {
    const n = end - from;
    this.closing = new Int32Array(n).fill(-1);
    const open: number[] = [];
    for (let i = from; i < end; i++) {
      const c = text[i];
      if (isEscapeAt(text, i, end)) i++;
      else if (c === '[') open.push(i);
      else if (c === ']') { const o = open.pop(); if (o !== undefined) this.closing[o - from] = i; }
      else if (c === '\n' && isBlankLineAt(text, i, end)) open.length = 0;
    }
    // where a destination scan starting at i (with no open parenthesis) stops, computed from the end backwards
    this.stopAt = new Int32Array(n + 2);
    this.stopKind = new Uint8Array(n + 2);
    this.stopAt[n] = end; this.stopAt[n + 1] = end;
    for (let k = n - 1; k >= 0; k--) {
      const i = from + k;
      const c = text[i];
      if (c <= ' ' || c === '\u007f') { this.stopAt[k] = i; this.stopKind[k] = STOP_SPACE; }
      else if (isEscapeAt(text, i, end)) { this.stopAt[k] = this.stopAt[k + 2]; this.stopKind[k] = this.stopKind[k + 2]; }
      else if (c === ')') { this.stopAt[k] = i; this.stopKind[k] = STOP_CLOSE; }
      else if (c === '(') {
        const inner = this.stopAt[k + 1];
        if (this.stopKind[k + 1] === STOP_CLOSE) {
          const after = inner + 1 - from;
          this.stopAt[k] = this.stopAt[after]; this.stopKind[k] = this.stopKind[after];
        } else {
          this.stopAt[k] = inner; this.stopKind[k] = STOP_UNBALANCED;
        }
      } else { this.stopAt[k] = this.stopAt[k + 1]; this.stopKind[k] = this.stopKind[k + 1]; }
    }
  }

  /** Index of the `]` closing the `[` at `open`, or -1 (nested brackets, escapes, no blank line). */
  closingBracket(open: number): number {
    return open < this.from || open >= this.end ? -1 : this.closing[open - this.from];
  }

  /** Where an unbracketed destination starting at `start` ends, or -1 when its parentheses do not balance. */
  destinationEnd(start: number): number {
    const k = start - this.from;
    if (k < 0 || k > this.end - this.from) return -1;
    return this.stopKind[k] === STOP_UNBALANCED ? -1 : this.stopAt[k];
  }
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
function parseInlineTail(text: string, open: number, end: number, index: BracketIndex): { destRange: TextRange; after: number } | undefined {
  let i = skipSpaces(text, open + 1, end);
  let destRange: TextRange;
  if (text[i] === '<') {
    const start = i;
    for (i++; i < end; i++) {
      const c = text[i];
      if (isEscapeAt(text, i, end)) i++;
      else if (c === '>' || c === '<' || c === '\n') break;
    }
    if (text[i] !== '>') return undefined;
    destRange = { start, end: i + 1 };
    i++;
  } else {
    const start = i;
    i = index.destinationEnd(start);
    if (i < 0) return undefined;
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
      else if (c === '\n' && isBlankLineAt(text, i, end)) return undefined;
    }
    if (text[i] !== close) return undefined;
    i = skipSpaces(text, i + 1, end);
  }
  if (text[i] !== ')') return undefined;
  return { destRange, after: i + 1 };
}

/** An image's syntax found, before any of its text is copied out. */
interface ImageBounds {
  readonly kind: ImageKind;
  readonly bang: number;
  /** The `]` ending the alt text. */
  readonly close: number;
  readonly end: number;
  readonly destRange?: TextRange;
  /** A full reference `![alt][label]`'s label range (a blank label means the alt text). */
  readonly labelRange?: TextRange;
}

function parseBoundsAt(text: string, bang: number, end: number, index: BracketIndex): ImageBounds | undefined {
  if (text[bang] !== '!' || text[bang + 1] !== '[') return undefined;
  if (isEscaped(text, bang)) return undefined;
  const close = index.closingBracket(bang + 1);
  if (close < 0) return undefined;
  const next = text[close + 1];
  if (next === '(') {
    const tail = parseInlineTail(text, close + 1, end, index);
    if (!tail) return undefined;
    return { kind: 'inline', bang, close, end: tail.after, destRange: tail.destRange };
  }
  if (next === '[') {
    // a label is at most 999 characters: look no further for its `]`
    const labelStart = close + 2;
    const limit = Math.min(end, labelStart + MAX_LABEL + 1);
    let labelEnd = labelStart;
    while (labelEnd < limit && text[labelEnd] !== ']') labelEnd++;
    if (labelEnd < limit && text[labelEnd] === ']' && !/(^|[^\\])\[/.test(text.slice(labelStart, labelEnd))) {
      return { kind: 'reference', bang, close, end: labelEnd + 1, labelRange: { start: labelStart, end: labelEnd } };
    }
  }
  return { kind: 'reference', bang, close, end: close + 1 };
}

function toImage(text: string, b: ImageBounds): ImageLink {
  const altRange = { start: b.bang + 2, end: b.close };
  const altSource = text.slice(altRange.start, altRange.end);
  const base = { range: { start: b.bang, end: b.end }, altRange, altSource, prompt: toPrompt(altSource) };
  if (b.kind === 'inline') return { kind: 'inline', ...base, destRange: b.destRange };
  const label = b.labelRange ? text.slice(b.labelRange.start, b.labelRange.end) : '';
  return { kind: 'reference', ...base, label: label.trim() === '' ? altSource : label };
}

/** Parses the image whose `!` is at `bang`, or undefined when `![` there starts no image. */
export function parseImageAt(text: string, bang: number, end = text.length): ImageLink | undefined {
  if (text[bang] !== '!' || text[bang + 1] !== '[') return undefined;
  const bounds = parseBoundsAt(text, bang, end, new BracketIndex(text, bang, end));
  return bounds && toImage(text, bounds);
}

function isEscaped(text: string, index: number): boolean {
  let backslashes = 0;
  for (let i = index - 1; i >= 0 && text[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 1;
}

/** The syntax of every image starting in [from, to) and ending by `end`, in one linear pass. */
function findBounds(text: string, from: number, to: number, end: number): ImageBounds[] {
  const index = new BracketIndex(text, from, end);
  const found: ImageBounds[] = [];
  for (let i = text.indexOf('![', from); i >= 0 && i < to; i = text.indexOf('![', i + 1)) {
    const bounds = parseBoundsAt(text, i, end, index);
    if (bounds) found.push(bounds);
  }
  return found;
}

/** Every image that starts in [from, to), images nested in another image's alt text included. */
export function findImages(text: string, from = 0, to = text.length): ImageLink[] {
  return findBounds(text, from, to, text.length).map((b) => toImage(text, b));
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
function containsCursor(image: ImageBounds, offset: number): boolean {
  return (image.bang + 2 <= offset && offset <= image.close) || (image.bang < offset && offset < image.end);
}

function innermost(images: ImageBounds[]): ImageBounds | undefined {
  return images.reduce<ImageBounds | undefined>((best, im) =>
    best === undefined || im.end - im.bang < best.end - best.bang ? im : best, undefined);
}

function isBlank(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (text[i] > ' ') return false;
  return true;
}

/**
 * The paragraph around an offset: from the line after the previous blank line to just before the next one,
 * looked for only inside [lo, hi).
 */
export function paragraphAround(text: string, offset: number, lo = 0, hi = text.length): TextRange {
  const lineStart = (i: number): number => { while (i > lo && text[i - 1] !== '\n') i--; return i; };
  const lineEnd = (i: number): number => { while (i < hi && text[i] !== '\n') i++; return i; };
  let start = lineStart(offset);
  while (start > lo) {
    const previous = lineStart(start - 1);
    if (isBlank(text, previous, start - 1)) break;
    start = previous;
  }
  let end = lineEnd(offset);
  while (end < hi) {
    const next = lineEnd(end + 1);
    if (isBlank(text, end + 1, next)) break;
    end = next;
  }
  return { start, end };
}

/**
 * What "Illustrate Alt Text" acts on for a selection [selStart, selEnd): the innermost image containing the
 * cursor or the whole selection, else the selected text when it is not blank, else nothing. Only the text within
 * ILLUSTRATE_WINDOW of the selection is read, in linear time, so it is cheap on every cursor move.
 */
export function findIllustrateTarget(text: string, selStart: number, selEnd = selStart): IllustrateTarget | undefined {
  const start = Math.min(selStart, selEnd);
  const end = Math.max(selStart, selEnd);
  const lo = Math.max(0, start - ILLUSTRATE_WINDOW);
  const hi = Math.min(text.length, end + ILLUSTRATE_WINDOW);
  const paragraph = paragraphAround(text, start, lo, hi);
  const images = findBounds(text, paragraph.start, Math.max(end, paragraph.end), hi);
  const hits = start === end
    ? images.filter((im) => containsCursor(im, start))
    : images.filter((im) => im.bang <= start && end <= im.end
      && (containsCursor(im, start) || start === im.bang) && (containsCursor(im, end) || end === im.end));
  const image = innermost(hits);
  if (image) return { kind: 'image', image: toImage(text, image) };
  if (start === end) return undefined;
  const source = text.slice(start, end);
  const prompt = toPrompt(source);
  return prompt ? { kind: 'text', range: { start, end }, source, prompt } : undefined;
}
