/**
 * "Illustrate Document" without `vscode`: finds the images of a markdown document that still need a picture (an
 * empty target, or a relative path missing on disk; `http(s):`, `data:` and other URLs are left alone), in every form
 * altText.ts parses (inline, `<…>` destinations, titles, reference images with or without a definition), skipping
 * front matter, fenced code blocks and code spans. Reads the document's options from its front matter
 * (`inline-diffusion: {style, negative, model, seed}`) and, on Apply, finds each image again in the text as it is then.
 */
import * as yaml from 'js-yaml';
import { firstLine } from '../common/firstLine';
import type { ImageLink, TextRange } from './altText';
import { findDefinition, findImages, normalizeLabel } from './altText';
import { classifyTarget, type TargetState } from './imageTarget';
import { planLinkEdit, snapshotTarget, type TargetSnapshot, type TextEdit } from './linkEdit';
import { isRecord } from '../common/isRecord';

export { classifyTarget, decodeDestination, type TargetState } from './imageTarget';

/** The front matter key this extension reads. */
export const FRONT_MATTER_KEY = 'inline-diffusion';

export interface DocumentOptions {
  /** Appended to every prompt (", " between), e.g. "watercolor, soft light". */
  readonly style: string;
  readonly negative: string;
  /** A model id or folder name; null when not given (or ignored: untrusted workspace). */
  readonly model: string | null;
  /** The first image's seed (row i, candidate j: seed + i·N + j); null = random. */
  readonly seed: number | null;
}

export const NO_OPTIONS: DocumentOptions = { style: '', negative: '', model: null, seed: null };

export interface FrontMatter {
  /** The front matter block, `---` lines included; undefined when the document has none. */
  readonly range: TextRange | undefined;
  readonly options: DocumentOptions;
  /** One line each: what could not be used and why. */
  readonly problems: readonly string[];
}

/** The largest seed a front matter may give (the engine's LIMITS.seedMax). */
const SEED_MAX = 4294967295;

/** Reads the YAML front matter (`---` on the first line up to a `---` or `...` line). */
export function readFrontMatter(text: string, opts: { readonly trusted: boolean } = { trusted: true }): FrontMatter {
  const m = /^---[ \t]*\r?\n([\s\S]*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/m.exec(text);
  if (!m || m.index !== 0) return { range: undefined, options: NO_OPTIONS, problems: [] };
  const range = { start: 0, end: m[0].length };
  let data: unknown;
  try {
    data = yaml.load(m[1], { schema: yaml.CORE_SCHEMA });
  } catch (err) {
    return { range, options: NO_OPTIONS, problems: [`the front matter is not valid YAML (${firstLine((err as Error).message)}); its options were not used`] };
  }
  const section = isRecord(data) ? data[FRONT_MATTER_KEY] : undefined;
  if (section === undefined || section === null) return { range, options: NO_OPTIONS, problems: [] };
  if (!isRecord(section)) {
    return { range, options: NO_OPTIONS, problems: [`front matter "${FRONT_MATTER_KEY}": expected a mapping {style, negative, model, seed}, got ${describe(section)}`] };
  }
  const problems: string[] = [];
  const textOf = (key: 'style' | 'negative'): string => {
    const v = section[key];
    if (v === undefined || v === null) return '';
    if (typeof v === 'string' || typeof v === 'number') return String(v).trim();
    problems.push(`front matter "${FRONT_MATTER_KEY}.${key}": expected text, got ${describe(v)}; ignored`);
    return '';
  };
  for (const key of Object.keys(section)) {
    if (!['style', 'negative', 'model', 'seed'].includes(key)) problems.push(`front matter "${FRONT_MATTER_KEY}.${key}": unknown key (expected style, negative, model or seed); ignored`);
  }
  let model: string | null = null;
  if (section.model !== undefined && section.model !== null) {
    if (typeof section.model !== 'string' || section.model.trim() === '') {
      problems.push(`front matter "${FRONT_MATTER_KEY}.model": expected a model name, got ${describe(section.model)}; ignored`);
    } else if (!opts.trusted) {
      problems.push(`front matter "${FRONT_MATTER_KEY}.model" is ignored in an untrusted workspace (like the model setting)`);
    } else {
      model = section.model.trim();
    }
  }
  let seed: number | null = null;
  if (section.seed !== undefined && section.seed !== null) {
    const s = section.seed;
    if (typeof s === 'number' && Number.isInteger(s) && s >= 0 && s <= SEED_MAX) seed = s;
    else problems.push(`front matter "${FRONT_MATTER_KEY}.seed": expected a whole number from 0 to ${SEED_MAX}, got ${describe(s)}; a random seed is used`);
  }
  return { range, options: { style: textOf('style'), negative: textOf('negative'), model, seed }, problems };
}

/** The prompt an image is generated from: its alt text, then the document's style. */
export function promptWithStyle(prompt: string, style: string): string {
  const p = prompt.trim();
  const s = style.trim();
  if (!s) return p;
  return p ? `${p}, ${s}` : s;
}

/** One image that needs a picture. */
export interface DocumentImage {
  readonly image: ImageLink;
  /** The alt text as a prompt (without the document's style). */
  readonly prompt: string;
  readonly state: TargetState;
  /** For a reference image: the normalized label, whose definition (if any) Apply rewrites. */
  readonly definitionKey: string | null;
  /** What Apply needs to find it again in a changed document. */
  readonly snapshot: TargetSnapshot;
}

export interface DocumentScan {
  readonly images: readonly DocumentImage[];
  /** Images passed over, one line each (no alt text; sharing a definition with an earlier one). */
  readonly skipped: readonly string[];
  readonly frontMatter: FrontMatter;
}

/** Ranges where `![` is not an image: fenced code blocks and code spans (and the front matter). */
export function codeRanges(text: string, from = 0): TextRange[] {
  const ranges: TextRange[] = [];
  const fence = /^ {0,3}(`{3,}|~{3,})[^\n]*$/gm;
  fence.lastIndex = from;
  let outsideFrom = from;
  const spansUpTo = (end: number): void => {
    // a code span: a run of n backticks up to the next run of exactly n (CommonMark 6.1)
    for (let i = text.indexOf('`', outsideFrom); i >= 0 && i < end;) {
      let n = 1;
      while (text[i + n] === '`') n++;
      let close = -1;
      for (let j = text.indexOf('`', i + n); j >= 0 && j < end; j = text.indexOf('`', j)) {
        let k = 1;
        while (text[j + k] === '`') k++;
        if (k === n) { close = j; break; }
        j += k;
      }
      if (close < 0) { i = text.indexOf('`', i + n); continue; }
      ranges.push({ start: i, end: close + n });
      i = text.indexOf('`', close + n);
    }
  };
  for (let m = fence.exec(text); m; m = fence.exec(text)) {
    const marker = m[1];
    const close = new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}[ \\t]*$`, 'gm');
    close.lastIndex = m.index + m[0].length;
    const c = close.exec(text);
    const end = c ? c.index + c[0].length : text.length;
    spansUpTo(m.index);
    ranges.push({ start: m.index, end });
    outsideFrom = end;
    fence.lastIndex = end;
  }
  spansUpTo(text.length);
  return ranges;
}

function inside(ranges: readonly TextRange[], offset: number): boolean {
  return ranges.some((r) => r.start <= offset && offset < r.end);
}

export interface ScanOptions {
  /** The document's folder (undefined for an untitled document: only empty targets qualify). */
  readonly documentDir: string | undefined;
  readonly exists: (file: string) => boolean;
  /** Whether the workspace is trusted (front matter `model` is ignored otherwise). */
  readonly trusted: boolean;
}

/**
 * Every image needing a picture, in document order. Nested images count once (the outer one's alt text holds the
 * inner's syntax, so only images not inside another image's alt text are taken). Two reference images with the same
 * label share a definition: the first one is illustrated, the later ones show its picture.
 */
export function scanDocument(text: string, opts: ScanOptions): DocumentScan {
  const frontMatter = readFrontMatter(text, { trusted: opts.trusted });
  const skip = [...(frontMatter.range ? [frontMatter.range] : []), ...codeRanges(text, frontMatter.range?.end ?? 0)];
  const all = findImages(text).filter((im) => !inside(skip, im.range.start));
  const outer = all.filter((im) => !all.some((o) => o !== im && o.altRange.start <= im.range.start && im.range.end <= o.altRange.end));
  const images: DocumentImage[] = [];
  const skipped: string[] = [];
  const seenDefinitions = new Map<string, string>();
  for (const image of outer) {
    let written: string;
    let definitionKey: string | null = null;
    if (image.kind === 'inline') {
      written = image.destRange ? text.slice(image.destRange.start, image.destRange.end) : '';
    } else {
      const definition = image.label === undefined ? undefined : findDefinition(text, image.label);
      written = definition ? text.slice(definition.destRange.start, definition.destRange.end) : '';
      definitionKey = normalizeLabel(image.label ?? image.altSource);
      // a shortcut `![alt]` with neither a definition nor words is no image at all
    }
    const state = classifyTarget(written, opts.documentDir, opts.exists);
    if (state.kind !== 'empty' && state.kind !== 'missing') continue;
    if (!image.prompt) {
      skipped.push(`${quote(text.slice(image.range.start, image.range.end))} has no alt text to illustrate`);
      continue;
    }
    if (definitionKey !== null) {
      const first = seenDefinitions.get(definitionKey);
      if (first !== undefined) {
        skipped.push(`“${image.prompt}” uses the same reference [${image.label}] as “${first}”, so it shows that picture`);
        continue;
      }
      seenDefinitions.set(definitionKey, image.prompt);
    }
    images.push({ image, prompt: image.prompt, state, definitionKey, snapshot: snapshotTarget(text, { kind: 'image', image }) });
  }
  return { images, skipped, frontMatter };
}

/** One chosen picture for Apply: the image as scanned, the link destination of its saved file, the range followed since. */
export interface ChosenLink {
  readonly snapshot: TargetSnapshot;
  readonly destination: string;
  /** The image's range moved through the edits made since the scan (undefined when an edit touched it). */
  readonly mapped?: TextRange;
}

export interface ApplyPlan {
  /** Non-overlapping edits on the current text, in document order. */
  readonly edits: readonly TextEdit[];
  /** Per chosen link (same order): null when planned, else why it was skipped. */
  readonly problems: ReadonlyArray<string | null>;
}

/**
 * Plans every link edit on the text as it is now: each image found again (by its range followed through the edits,
 * else by its text and occurrence order, else the nearest with the same alt text; see linkEdit.ts). One that cannot
 * be found, or that lands on an image another choice already rewrites, is skipped with a reason.
 */
export function planDocumentEdits(text: string, versionChanged: boolean, chosen: readonly ChosenLink[]): ApplyPlan {
  const edits: TextEdit[] = [];
  const problems: Array<string | null> = [];
  for (const c of chosen) {
    const plan = planLinkEdit(text, c.snapshot, c.destination, versionChanged, c.mapped);
    if (!plan.ok) {
      problems.push(plan.reason);
      continue;
    }
    const clash = edits.find((e) => e.range.start < plan.edit.range.end && plan.edit.range.start < e.range.end
      || (e.range.start === plan.edit.range.start && e.range.end === plan.edit.range.end));
    if (clash) {
      problems.push(`the image “${c.snapshot.target.kind === 'image' ? c.snapshot.target.image.prompt : ''}” could not be told apart from another one after the document changed`);
      continue;
    }
    edits.push(plan.edit);
    problems.push(null);
  }
  edits.sort((a, b) => a.range.start - b.range.start);
  return { edits, problems };
}

/** Applies non-overlapping edits to a text (tests, and the preview of what Apply will write). */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.range.start - a.range.start)) out = out.slice(0, e.range.start) + e.newText + out.slice(e.range.end);
  return out;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function quote(source: string): string {
  return source.length > 40 ? `${source.slice(0, 40)}…` : source;
}
