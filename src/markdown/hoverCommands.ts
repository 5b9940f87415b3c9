/** The commands an image link's hover links to (src/markdown/imageHover.ts); the hover's MarkdownString trusts only these. */

/** The commands a hover links to; each takes one argument object (JSON in the link). */
export const HOVER_COMMANDS = {
  regenerate: 'inlineDiffusion.regenerateImage',
  variations: 'inlineDiffusion.imageVariations',
  openInPanel: 'inlineDiffusion.openImageInPanel',
  reveal: 'inlineDiffusion.revealImage',
} as const;

/** The argument of every hover command: the image file, and for Regenerate the link to point at the new one. */
export interface HoverCommandArgs {
  readonly file: string;
  /** The document holding the link (a URI string) and the offset of its `!`. */
  readonly document?: string;
  readonly offset?: number;
}
