/**
 * Validation of what the gallery webview posts, as src/panel/webviewMessageGuards.ts does for the panel: `unknown`
 * until accepted. Every path must be one the host listed, so a message can never name another file. No `vscode`.
 */
import type { FromGallery, GalleryAction } from '../protocol/galleryMessages';
import { describeValue } from '../engine/request';

export type ParsedGalleryMessage =
  | { readonly ok: true; readonly message: FromGallery }
  | { readonly ok: false; readonly problem: string };

const ACTIONS: readonly GalleryAction[] = ['reuse', 'useAsInput', 'insert', 'reveal', 'copyPath', 'delete'];
/** Thumbnails asked for at once (a screenful or two). */
export const MAX_THUMBS_ASKED = 200;

/** Accepts a message from the gallery as a FromGallery; `isListed` says whether a path is one of the listed images. */
export function parseFromGallery(value: unknown, isListed: (path: string) => boolean): ParsedGalleryMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, problem: `message: expected an object, got ${describeValue(value)}` };
  const v = value as Record<string, unknown>;
  const bad = (problem: string): ParsedGalleryMessage => ({ ok: false, problem });
  switch (v.type) {
    case 'ready':
      return { ok: true, message: { type: 'ready' } };
    case 'thumbs': {
      if (!Array.isArray(v.paths) || v.paths.length > MAX_THUMBS_ASKED) {
        return bad(`thumbs: expected a list of at most ${MAX_THUMBS_ASKED} listed images, got ${describeValue(v.paths)}`);
      }
      const unknown = v.paths.find((p) => typeof p !== 'string' || !isListed(p));
      if (unknown !== undefined) return bad(`thumbs: expected listed images, got ${describeValue(unknown)}`);
      return { ok: true, message: { type: 'thumbs', paths: v.paths as string[] } };
    }
    case 'action':
      if (typeof v.action !== 'string' || !(ACTIONS as readonly string[]).includes(v.action)) {
        return bad(`action: expected one of ${ACTIONS.join(', ')}, got ${describeValue(v.action)}`);
      }
      if (typeof v.path !== 'string' || !isListed(v.path)) return bad(`action: expected a listed image, got ${describeValue(v.path)}`);
      return { ok: true, message: { type: 'action', action: v.action as GalleryAction, path: v.path } };
    default:
      return bad(`message: unknown type ${describeValue(v.type)} (expected ready, thumbs or action)`);
  }
}
