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
}

export function snapshotTarget(text: string, target: IllustrateTarget): TargetSnapshot {
  const range = target.kind === 'image' ? target.image.range : target.range;
  return { target, source: text.slice(range.start, range.end) };
}

function nearest<T>(items: T[], startOf: (item: T) => number, origin: number): T | undefined {
  return items.reduce<T | undefined>((best, item) =>
    best === undefined || Math.abs(startOf(item) - origin) < Math.abs(startOf(best) - origin) ? item : best, undefined);
}

function describe(prompt: string): string {
  return `“${prompt.length > 50 ? `${prompt.slice(0, 50)}…` : prompt}”`;
}

/** Finds the snapshot's image again: at its old range with the same text, else the nearest identical image, else the nearest image with the same alt text. */
export function relocateImage(text: string, snapshot: TargetSnapshot & { target: { kind: 'image' } }): ImageLink | undefined {
  const old = snapshot.target.image;
  if (text.slice(old.range.start, old.range.end) === snapshot.source) {
    const again = parseImageAt(text, old.range.start);
    if (again && again.range.end === old.range.end) return again;
  }
  const images = findImages(text);
  const same = images.filter((im) => text.slice(im.range.start, im.range.end) === snapshot.source);
  if (same.length) return nearest(same, (im) => im.range.start, old.range.start);
  const sameAlt = images.filter((im) => im.altSource === old.altSource);
  return nearest(sameAlt, (im) => im.range.start, old.range.start);
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
 * unchanged documents take the snapshot's ranges as they are.
 */
export function planLinkEdit(text: string, snapshot: TargetSnapshot, destination: string, changed: boolean): EditPlan {
  const { target } = snapshot;
  if (target.kind === 'image') {
    const image = changed ? relocateImage(text, { ...snapshot, target }) : target.image;
    if (!image) {
      return { ok: false, reason: `the image ${describe(target.image.prompt)} is no longer in the document (it changed during the generation)` };
    }
    return { ok: true, edit: linkEditFor(text, image, destination), moved: image.range.start !== target.image.range.start };
  }
  const markdown = `![${escapeAltText(target.source)}](${destination})`;
  let range: TextRange | undefined = target.range;
  if (changed && text.slice(range.start, range.end) !== snapshot.source) {
    const starts: number[] = [];
    for (let i = text.indexOf(snapshot.source); i >= 0; i = text.indexOf(snapshot.source, i + 1)) starts.push(i);
    const start = nearest(starts, (s) => s, target.range.start);
    range = start === undefined ? undefined : { start, end: start + snapshot.source.length };
  }
  if (!range) {
    return { ok: false, reason: `the selected text ${describe(target.prompt)} is no longer in the document (it changed during the generation)` };
  }
  return { ok: true, edit: { range, newText: markdown }, moved: range.start !== target.range.start };
}
