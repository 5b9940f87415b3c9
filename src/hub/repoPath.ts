/**
 * Paths a Hub answer names (a repo's file list, a revision, a subfolder) become paths on this disk, so each is
 * checked before anything is joined to a folder: one validator for every repo path, and a containment check
 * (symlinks resolved) for every place a file is written, linked or deleted.
 */
import * as path from 'node:path';
import { isWithin, realPathOfNearest } from '../util/isInside';
import { HubError } from './hubError';

/** What is wrong with a repo path ("unet/model.onnx"), or undefined when it is a safe relative path. */
export function repoPathProblem(p: string): string | undefined {
  if (p === '') return 'it is empty';
  if (p.includes('\0')) return 'it contains a NUL character';
  if (p.includes('\\')) return 'it contains a backslash';
  if (p.startsWith('/')) return 'it is an absolute path';
  if (/^[A-Za-z]:/.test(p)) return 'it starts with a drive letter';
  for (const segment of p.split('/')) {
    if (segment === '') return 'it has an empty segment (//, or a / at the start or end)';
    if (segment === '.' || segment === '..') return `it has a "${segment}" segment`;
    if (/[\u0000-\u001f]/.test(segment)) return 'it contains a control character';
    // Windows: "a:b" names an NTFS alternate data stream, and Win32 drops a trailing dot or space (".. " is "..")
    if (segment.includes(':')) return 'it contains a ":"';
    if (/[. ]$/.test(segment)) return 'a segment ends in a dot or a space';
  }
  return undefined;
}

/** Throws a HubError ('bad-response') naming the path and what is wrong with it. */
export function assertRepoPath(p: string, what: string): void {
  const problem = repoPathProblem(p);
  if (problem !== undefined) {
    throw new HubError('bad-response', `${what} names an unsafe path ${JSON.stringify(p)} (${problem}): nothing was downloaded`);
  }
}



/**
 * Throws unless `target` lies inside `root`, both as written and with the symlinks of the parts that exist
 * resolved (a folder linked out of the root does not count as inside). `target` itself is not followed: it may
 * be a link this code is about to replace.
 */
export function assertInside(root: string, target: string, what: string): void {
  const parent = path.dirname(path.resolve(target));
  if (isWithin(path.resolve(root), path.resolve(target))
    && isWithin(realPathOfNearest(root), path.join(realPathOfNearest(parent), path.basename(target)))) return;
  throw new HubError('bad-response', `${what}: ${target} would be outside ${root}; nothing was written there`);
}
