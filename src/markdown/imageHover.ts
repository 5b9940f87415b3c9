/**
 * What a hover on a markdown image link shows when its file is a PNG with parameters (ours or AUTOMATIC1111's):
 * the picture, its prompt and settings, and command links (Regenerate, Variations, Open in Panel, Reveal). The image
 * under the cursor and its file are found by imageTarget.ts. No `vscode` import: node tests load it.
 */
import * as path from 'node:path';
import { parseInfotext } from '../engine/infotext';
import { oneLine, samplerLabel } from '../common/infotextSummary';
import { HOVER_COMMANDS, type HoverCommandArgs } from './hoverCommands';
import { readPngHead } from './pngHead';

export { HOVER_COMMANDS, type HoverCommandArgs } from './hoverCommands';
export { imageFileAt } from './imageTarget';

/** Hovers read at most this much of a file (its head: size and text chunks). */
export const HOVER_READ_BYTES = 256 * 1024;

/** Escapes text for markdown (every ASCII punctuation character that could start syntax). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, (c) => `\\${c}`);
}

/** A link title between double quotes: quotes, backslashes and control characters (a file name may hold them) dropped. */
function linkTitle(text: string): string {
  return text.replace(/["\\\u0000-\u001f\u007f]/g, '');
}

function commandLink(title: string, command: string, args: HoverCommandArgs, tooltip: string): string {
  return `[${title}](command:${command}?${encodeURIComponent(JSON.stringify([args]))} "${linkTitle(tooltip)}")`;
}

export interface HoverContent {
  /** The markdown of the hover (commands links included: the MarkdownString trusts only HOVER_COMMANDS). */
  readonly markdown: string;
}

/**
 * The hover for a PNG with a `parameters` text; undefined for one without (then the hover says nothing).
 * `imageUri` is the file as a URI string the hover can show.
 */
export function hoverContent(o: {
  readonly file: string; readonly imageUri: string; readonly width: number; readonly height: number;
  readonly text: Record<string, string>; readonly document: string; readonly offset: number;
}): HoverContent | undefined {
  const infotext = o.text.parameters;
  if (infotext === undefined) return undefined;
  const parsed = parseInfotext(infotext);
  const prompt = oneLine(parsed.prompt);
  const negativePrompt = oneLine(parsed.negativePrompt);
  const { params } = parsed;
  const shown = Math.max(128, Math.min(256, o.width || 256)); // small pictures (the embedded model's 64²) shown larger
  const lines = [
    `![${escapeMarkdown(prompt.slice(0, 100))}](${o.imageUri}|width=${shown})`,
    '',
    `**${escapeMarkdown(prompt)}**`,
  ];
  if (negativePrompt) lines.push('', `Negative: ${escapeMarkdown(negativePrompt)}`);
  const sampler = samplerLabel(params);
  const settings: Array<[string, string | undefined]> = [
    ['Steps', params.Steps], ['Sampler', sampler], ['CFG scale', params['CFG scale']], ['Seed', params.Seed],
    ['Size', params.Size ?? `${o.width}x${o.height}`], ['Model', params.Model],
  ];
  lines.push('', settings.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}: ${escapeMarkdown(String(v))}`).join(' · '));
  if (params['Denoising strength'] !== undefined) lines.push('', `Made from another image (denoising strength ${escapeMarkdown(params['Denoising strength'])})`);
  const args: HoverCommandArgs = { file: o.file, document: o.document, offset: o.offset };
  lines.push('', [
    commandLink('Regenerate', HOVER_COMMANDS.regenerate, args, 'The same parameters with a new seed; the link then points at the new image'),
    commandLink('Variations', HOVER_COMMANDS.variations, { file: o.file }, 'Make variations of this image: its seed with new variation seeds, in the panel'),
    commandLink('Open in Panel', HOVER_COMMANDS.openInPanel, { file: o.file }, 'Load these parameters into the Generate Image panel'),
    commandLink('Reveal', HOVER_COMMANDS.reveal, { file: o.file }, `Reveal ${path.basename(o.file)} in the Explorer`),
  ].join(' · '));
  return { markdown: lines.join('\n') };
}

/** The hover of a PNG file (its head read, at most HOVER_READ_BYTES); undefined for a file without parameters or unreadable. */
export async function hoverForFile(file: string, imageUri: string, document: string, offset: number): Promise<HoverContent | undefined> {
  let head;
  try {
    head = await readPngHead(file, HOVER_READ_BYTES);
  } catch {
    return undefined; // not a PNG we can read: the hover says nothing rather than an error on mouse-over
  }
  return hoverContent({ file, imageUri, width: head.width, height: head.height, text: head.text, document, offset });
}

/** Accepts a hover command's argument (it comes back through a command link: `unknown` until checked). */
export function parseHoverArgs(value: unknown): HoverCommandArgs | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.file !== 'string' || !path.isAbsolute(v.file) || !/\.png$/i.test(v.file)) return undefined;
  if (v.document !== undefined && typeof v.document !== 'string') return undefined;
  if (v.offset !== undefined && !(typeof v.offset === 'number' && Number.isInteger(v.offset) && v.offset >= 0)) return undefined;
  return { file: v.file, document: v.document as string | undefined, offset: v.offset as number | undefined };
}
