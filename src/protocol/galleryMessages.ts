/**
 * Messages between the host and the image gallery (webview/gallery/). Declared once here, imported with
 * `import type` by both sides.
 */

/** One image of the gallery: its file and what its `parameters` text says (empty strings when it has none). */
export interface GalleryItem {
  /** The absolute path (the id every action refers to). */
  readonly path: string;
  /** Workspace-relative (or absolute) path for display. */
  readonly label: string;
  readonly mtimeMs: number;
  readonly width: number;
  readonly height: number;
  readonly prompt: string;
  readonly model: string;
  readonly sampler: string;
  readonly seed: string;
}

/** Host → gallery webview. */
export type ToGallery =
  /**
   * The images, newest first (sent on ready and whenever the folders change): with many, first the newest page
   * (`complete` false), then all. `folders` names where it looked.
   */
  | { readonly type: 'items'; readonly items: readonly GalleryItem[]; readonly folders: readonly string[]; readonly complete: boolean }
  /** A thumbnail asked for (a data: URL), or null when the file could not be read as an image. */
  | { readonly type: 'thumb'; readonly path: string; readonly src: string | null }
  /** A one-line message. */
  | { readonly type: 'notice'; readonly level: 'error' | 'info'; readonly message: string };

export type GalleryAction = 'reuse' | 'useAsInput' | 'insert' | 'reveal' | 'copyPath' | 'delete';

/** Gallery webview → host. */
export type FromGallery =
  /** The webview has loaded and wants the items. */
  | { readonly type: 'ready' }
  /** Thumbnails of the images now on screen. */
  | { readonly type: 'thumbs'; readonly paths: readonly string[] }
  /** An action on one image. */
  | { readonly type: 'action'; readonly action: GalleryAction; readonly path: string };
