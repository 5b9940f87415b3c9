/**
 * Plans the one text edit "Illustrate Alt Text" makes, on the document text as it is when the image is saved:
 * re-finds the image (or the selected text) the command started from when the document changed meanwhile, then
 * rewrites the link target, or says why it cannot. No `vscode` import: node tests load it.
 */
import type { IllustrateTarget, ImageLink, TextRange } from './altText';
import { escapeAltText, findDefinition, findImages, parseImageAt } from './altText';

export interface TextEdit {
  readonly range: TextRange;
  readonly newText: string;
}

export type EditPlan =
  | { readonly ok: true; readonly edit: TextEdit; readonly moved: boolean }
  | { readonly ok: false; readonly reason: string };

/** What the command remembers when it starts: the target and the source text it covered. */
export interface TargetSnapshot {
  readonly target: IllustrateTarget;
  /** The document text of the target's range (the whole image, or the selected text). */
  readonly source: string;
  /** Which of the identical copies of `source` in the document it was (0-based), and how many there were. */
  readonly occurrence: number;
  readonly occurrences: number;
}

function occurrencesOf(text: string, source: string): number[] {
  const starts: number[] = [];
  if (source === '') return starts;
  for (let i = text.indexOf(source); i >= 0; i = text.indexOf(source, i + 1)) starts.push(i);
  return starts;
}

export function snapshotTarget(text: string, target: IllustrateTarget): TargetSnapshot {
  const range = target.kind === 'image' ? target.image.range : target.range;
  const source = text.slice(range.start, range.end);
  const starts = occurrencesOf(text, source);
  return { target, source, occurrence: Math.max(0, starts.indexOf(range.start)), occurrences: starts.length };
}

/** A document change as VS Code reports it: offsets into the text before the change. */
export interface TextChange {
  readonly rangeOffset: number;
  readonly rangeLength: number;
  readonly text: string;
}

/**
 * Moves a range through one batch of changes (all offsets relative to the text before the batch, as in one
 * onDidChangeTextDocument event). Undefined when a change touches the inside of the range.
 */
export function mapRange(range: TextRange, changes: readonly TextChange[]): TextRange | undefined {
  let delta = 0;
  for (const c of changes) {
    if (c.rangeOffset + c.rangeLength <= range.start) delta += c.text.length - c.rangeLength; // before it (or right at its start)
    else if (c.rangeOffset < range.end) return undefined; // inside it
  }
  return { start: range.start + delta, end: range.end + delta };
}

function nearest<T>(items: T[], startOf: (item: T) => number, origin: number): T | undefined {
  return items.reduce<T | undefined>((best, item) =>
    best === undefined || Math.abs(startOf(item) - origin) < Math.abs(startOf(best) - origin) ? item : best, undefined);
}

function describe(prompt: string): string {
  return `“${prompt.length > 50 ? `${prompt.slice(0, 50)}…` : prompt}”`;
}

/**
 * Finds the snapshot's image again: at its range moved through the edits (`mapped`, when the host tracked them)
 * with the same text; else the same copy among identical images when their number did not change; else the
 * identical image nearest its old place; else the nearest image with the same alt text.
 */
export function relocateImage(text: string, snapshot: TargetSnapshot & { target: { kind: 'image' } }, mapped?: TextRange): ImageLink | undefined {
  const old = snapshot.target.image;
  for (const range of mapped ? [mapped, old.range] : [old.range]) {
    if (text.slice(range.start, range.end) !== snapshot.source) continue;
    const again = parseImageAt(text, range.start);
    if (again && again.range.end === range.end) return again;
  }
  const origin = mapped?.start ?? old.range.start;
  const images = findImages(text);
  const same = images.filter((im) => text.slice(im.range.start, im.range.end) === snapshot.source);
  if (same.length === snapshot.occurrences && same.length > snapshot.occurrence) return same[snapshot.occurrence];
  if (same.length) return nearest(same, (im) => im.range.start, origin);
  const sameAlt = images.filter((im) => im.altSource === old.altSource);
  return nearest(sameAlt, (im) => im.range.start, origin);
}

/** The edit that points an image at `destination` (already encoded). */
export function linkEditFor(text: string, image: ImageLink, destination: string): TextEdit {
  if (image.kind === 'inline' && image.destRange) return { range: image.destRange, newText: destination };
  const definition = image.label === undefined ? undefined : findDefinition(text, image.label);
  if (definition) return { range: definition.destRange, newText: destination };
  // a reference without a definition becomes an inline image
  return { range: { start: image.altRange.end, end: image.range.end }, newText: `](${destination})` };
}

/**
 * Plans the edit on the current text. `changed` says whether the document changed since the snapshot (its version);
 * unchanged documents take the snapshot's ranges as they are. `mapped` is the target's range moved through the
 * edits made meanwhile, when the host could follow them.
 */
export function planLinkEdit(text: string, snapshot: TargetSnapshot, destination: string, versionChanged: boolean, mapped?: TextRange): EditPlan {
  const { target } = snapshot;
  const original = target.kind === 'image' ? target.image.range : target.range;
  // a document closed and reopened may have its version number back: trust the text, not the number
  const changed = versionChanged || text.slice(original.start, original.end) !== snapshot.source;
  if (target.kind === 'image') {
    const image = changed ? relocateImage(text, { ...snapshot, target }, mapped) : target.image;
    if (!image) {
      return { ok: false, reason: `the image ${describe(target.image.prompt)} is no longer in the document (it changed during the generation)` };
    }
    return { ok: true, edit: linkEditFor(text, image, destination), moved: image.range.start !== target.image.range.start };
  }
  const markdown = `![${escapeAltText(target.source)}](${destination})`;
  let range: TextRange | undefined = target.range;
  if (changed) {
    const candidates = mapped ? [mapped, target.range] : [target.range];
    range = candidates.find((r) => text.slice(r.start, r.end) === snapshot.source);
    if (!range) {
      const starts = occurrencesOf(text, snapshot.source);
      const start = starts.length === snapshot.occurrences && starts.length > snapshot.occurrence
        ? starts[snapshot.occurrence] : nearest(starts, (s) => s, mapped?.start ?? target.range.start);
      range = start === undefined ? undefined : { start, end: start + snapshot.source.length };
    }
  }
  if (!range) {
    return { ok: false, reason: `the selected text ${describe(target.prompt)} is no longer in the document (it changed during the generation)` };
  }
  return { ok: true, edit: { range, newText: markdown }, moved: range.start !== target.range.start };
}
