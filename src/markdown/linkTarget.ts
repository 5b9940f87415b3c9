/**
 * The link a markdown document uses for a saved image: the file's path relative to the document's folder, with
 * forward slashes, percent-encoding only what a CommonMark link destination cannot hold as it is (spaces, parentheses,
 * angle brackets, `%`, `#`, `?`, control characters). No `vscode` import: node tests load it.
 */
import * as path from 'node:path';

/** Characters that break or change a bare link destination; everything else (Unicode included) stays readable. */
const NEEDS_ENCODING = /[\u0000-\u0020\u007f%()<>#?\\]/g;

/** Percent-encodes one path segment for a link destination. */
export function encodeLinkSegment(segment: string): string {
  return segment.replace(NEEDS_ENCODING, (c) =>
    Array.from(new TextEncoder().encode(c), (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
}

/**
 * The link destination from a document to a file. Both paths absolute, in the style of `pathApi` (posix or win32,
 * the platform's by default). A file on another Windows drive gets an absolute `file:///` URL.
 */
export function linkDestination(documentPath: string, filePath: string, pathApi: path.PlatformPath = path): string {
  const relative = pathApi.relative(pathApi.dirname(documentPath), filePath);
  if (pathApi.isAbsolute(relative)) {
    const parts = relative.split(/[\\/]+/).filter((p) => p !== '');
    return `file:///${parts.map((p, i) => (i === 0 && /^[A-Za-z]:$/.test(p) ? p : encodeLinkSegment(p))).join('/')}`;
  }
  return relative.split(pathApi.sep).map(encodeLinkSegment).join('/');
}

/** A destination for a file when the document has no folder (untitled): the absolute path as a `file:` URL. */
export function absoluteLinkDestination(filePath: string, pathApi: path.PlatformPath = path): string {
  const parts = pathApi.resolve(filePath).split(/[\\/]+/).filter((p) => p !== '');
  const encoded = parts.map((p, i) => (i === 0 && /^[A-Za-z]:$/.test(p) ? p : encodeLinkSegment(p))).join('/');
  return `file:///${encoded}`;
}
