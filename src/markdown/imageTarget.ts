/**
 * Where a markdown image's link points: empty, a local file (there or missing), or a URL; and the PNG under a cursor.
 * Small and stateless: activation's hover provider uses it to decide whether an image link is worth a hover (the
 * rest of the hover loads with the host). No `vscode` import.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageLink } from './altText';
import { findDefinition, findIllustrateTarget } from './altText';

/** Where an image's target points, as far as "needs a picture" goes. */
export type TargetState =
  | { readonly kind: 'empty' }
  | { readonly kind: 'missing'; readonly path: string }
  | { readonly kind: 'present'; readonly path: string }
  | { readonly kind: 'url' }
  | { readonly kind: 'absolute' };

/** Decodes a written destination: `<…>` removed, backslash escapes and percent-encoding undone. */
export function decodeDestination(written: string): string {
  let d = written.trim();
  if (d.startsWith('<') && d.endsWith('>')) d = d.slice(1, -1);
  d = d.replace(/\\([!-/:-@[-`{-~])/g, '$1');
  try {
    return decodeURI(d);
  } catch {
    return d;
  }
}

/**
 * Classifies a destination relative to the document's folder; `exists` answers for absolute file paths. A query or
 * fragment (`a.png#x`) is cut off first. `file:` URLs count as paths; any other scheme is a URL.
 */
export function classifyTarget(written: string, documentDir: string | undefined, exists: (file: string) => boolean): TargetState {
  const d = decodeDestination(written);
  if (d === '') return { kind: 'empty' };
  if (/^file:/i.test(d)) {
    let file: string;
    try {
      file = fileURLToPath(d);
    } catch {
      return { kind: 'url' };
    }
    return exists(file) ? { kind: 'present', path: file } : { kind: 'missing', path: file };
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(d)) return { kind: 'url' }; // http:, https:, data:, mailto:, vscode:… (not C:\)
  if (path.isAbsolute(d) || d.startsWith('/') || documentDir === undefined) return { kind: 'absolute' };
  const file = path.resolve(documentDir, d.replace(/[?#].*$/, ''));
  return exists(file) ? { kind: 'present', path: file } : { kind: 'missing', path: file };
}

/**
 * The image under the cursor and the local file its link points at (inline destination or reference definition).
 * `mayRead` (an untrusted workspace: inside its folders only) is asked before anything about a file is looked up.
 */
export function imageFileAt(text: string, offset: number, documentDir: string, exists: (file: string) => boolean,
  mayRead: (file: string) => boolean = () => true): { image: ImageLink; file: string } | undefined {
  const target = findIllustrateTarget(text, offset);
  if (target?.kind !== 'image') return undefined;
  const { image } = target;
  let written: string | undefined;
  if (image.kind === 'inline') written = image.destRange ? text.slice(image.destRange.start, image.destRange.end) : undefined;
  else if (image.label !== undefined) {
    const definition = findDefinition(text, image.label);
    written = definition ? text.slice(definition.destRange.start, definition.destRange.end) : undefined;
  }
  if (!written) return undefined;
  const state = classifyTarget(written, documentDir, (file) => mayRead(file) && exists(file));
  if (state.kind !== 'present' || !/\.png$/i.test(state.path) || !mayRead(state.path)) return undefined;
  return { image, file: state.path };
}
