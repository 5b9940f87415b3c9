/**
 * "Reuse Parameters from Image": a PNG's A1111 `parameters` text (ours or AUTOMATIC1111's) → panel parameters,
 * with a note for each value that could not be used. No `vscode` import.
 */
import type { PanelParams } from '../protocol/webviewMessages';
import { parseInfotext } from '../engine/infotext';
import { readPngText } from '../engine/image';
import { PANEL_LIMITS } from './panelLimits';
import { samplerIdFromA1111 } from './samplers';
import { samplerLabel } from '../common/infotextSummary';
import { hasInpaintFields, readInpaintInfotext } from '../common/inpaintInfotext';
import { seedsAndSizeFromInfotext } from './seedsAndSize';

export interface ModelRef {
  readonly id: string;
  /** The folder name: what the infotext's "Model:" holds. */
  readonly name: string;
}

export type ReusedParams =
  | { readonly ok: true; readonly params: PanelParams; readonly notes: readonly string[] }
  | { readonly ok: false; readonly reason: string };

function parseIntIn(text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  const n = Number(text.trim());
  return n >= min && n <= max ? n : undefined;
}

/** A1111's `Lora hashes` / `TI hashes` value ("name: hash, name: hash") as its entries. */
export function networkHashes(value: string | undefined): Array<{ name: string; hash: string }> {
  if (value === undefined) return [];
  return value.split(',').map((item) => {
    const at = item.lastIndexOf(':');
    return at < 0 ? { name: item.trim(), hash: '' } : { name: item.slice(0, at).trim(), hash: item.slice(at + 1).trim() };
  }).filter((e) => e.name !== '');
}

/** Panel parameters from infotext, starting from `current` for whatever the text lacks or has wrong. */
export function paramsFromInfotext(infotext: string, current: PanelParams, models: readonly ModelRef[]): { params: PanelParams; notes: string[] } {
  const { prompt, negativePrompt, params: p } = parseInfotext(infotext);
  const notes: string[] = [];
  const L = PANEL_LIMITS;
  const next: { -readonly [K in keyof PanelParams]: PanelParams[K] } = { ...current, prompt, negativePrompt, batchCount: 1 };
  const steps = parseIntIn(p.Steps, 1, L.stepsMax);
  if (steps !== undefined) next.steps = steps;
  else if (p.Steps !== undefined) notes.push(`Steps "${p.Steps}" is not a whole number from 1 to ${L.stepsMax}; kept ${current.steps}`);
  if (p.Sampler !== undefined) {
    const id = samplerIdFromA1111(p.Sampler, p['Schedule type'], p.Version);
    if (id !== undefined) next.sampler = id;
    if (id !== undefined && /^dpmpp_2m_sde/.test(id)) {
      notes.push(`A1111 draws ${p.Sampler}'s noise from a Brownian tree, this extension from the seed's generator as diffusers does: the same seed gives another picture`);
    }
    if (id === undefined) notes.push(`the sampler "${samplerLabel(p)}" is not one this extension has; kept the current one`);
  }
  const cfg = p['CFG scale'] === undefined ? undefined : Number(p['CFG scale']);
  if (cfg !== undefined && Number.isFinite(cfg) && cfg >= 0 && cfg <= L.cfgMax) next.cfgScale = cfg;
  else if (p['CFG scale'] !== undefined) notes.push(`CFG scale "${p['CFG scale']}" is not a number from 0 to ${L.cfgMax}; kept ${current.cfgScale}`);
  const seed = parseIntIn(p.Seed, 0, L.seedMax);
  if (seed !== undefined) {
    next.seed = seed;
    next.randomSeed = false;
  } else if (p.Seed !== undefined) {
    notes.push(`Seed "${p.Seed}" is not a whole number from 0 to ${L.seedMax}; kept the current seed`);
  }
  const sizeOk = (n: number | undefined): n is number => n !== undefined && n % L.sizeMultiple === 0;
  const width = parseIntIn(p['Size-1'], L.sizeMin, L.sizeMax);
  const height = parseIntIn(p['Size-2'], L.sizeMin, L.sizeMax);
  if (sizeOk(width) && sizeOk(height)) {
    next.width = width;
    next.height = height;
  } else if (p.Size !== undefined || p['Size-1'] !== undefined) {
    notes.push(`Size "${p.Size ?? `${p['Size-1']}x${p['Size-2']}`}" is not two multiples of ${L.sizeMultiple} from ${L.sizeMin} to ${L.sizeMax}; kept ${current.width}×${current.height}`);
  }
  if (p.Model !== undefined) {
    const model = models.find((m) => m.name === p.Model);
    if (model) next.model = model.id;
    else notes.push(`the model "${p.Model}" is not installed; kept the current model`);
  }
  // A1111's parser: no "Clip skip" means 1.
  const clipSkip = p['Clip skip'] === undefined ? 1 : parseIntIn(p['Clip skip'], 1, L.clipSkipMax);
  if (clipSkip !== undefined) next.clipSkip = clipSkip;
  else notes.push(`Clip skip "${p['Clip skip']}" is not a whole number from 1 to ${L.clipSkipMax}; kept the current one`);
  if (p.Emphasis !== undefined && p.Emphasis !== 'Original') {
    const setting = new Map([['No norm', 'no-norm'], ['None', 'none']]).get(p.Emphasis);
    notes.push(`the image was made with Emphasis "${p.Emphasis}"${setting === undefined ? '' : `: set inlineDiffusion.emphasis to "${setting}" to weigh its prompt the same way`}`);
  }
  // "Old prompt editing timelines: True" (A1111 ≥ 1.6 with its use_old_scheduling on), or what A1111's backcompat
  // (infotext_versions.py, auto_backcompat on by default) reads into an image of a version before 1.6 with "[" in the prompt.
  const version = /^v?(\d+)\.(\d+)/.exec((p.Version ?? '').trim());
  const before16 = version !== null && (Number(version[1]) < 1 || (Number(version[1]) === 1 && Number(version[2]) < 6));
  next.oldPromptEditingTimelines = p['Old prompt editing timelines'] === 'True' || (before16 && prompt.includes('['));
  if (!next.oldPromptEditingTimelines) delete next.oldPromptEditingTimelines;
  const { hiresRead } = seedsAndSizeFromInfotext(p, next, notes);
  if (p['Denoising strength'] !== undefined && !hiresRead) {
    // img2img (A1111 also writes it for hires. fix, read above as the hires strength): the strength comes back; the input image is not in the PNG
    const strength = Number(p['Denoising strength']);
    if (p['Denoising strength'].trim() !== '' && Number.isFinite(strength) && strength >= 0 && strength <= 1) next.strength = strength;
    else notes.push(`Denoising strength "${p['Denoising strength']}" is not a number from 0 to 1; kept the current one`);
    notes.push('the image was made from another image (image to image), which a PNG does not hold: choose the input image again');
  }
  const loras = networkHashes(p['Lora hashes']);
  if (loras.length > 0) {
    notes.push(`the image used the LoRAs ${loras.map((l) => `${l.name} (${l.hash})`).join(', ')}: the <lora:…> tags in its prompt apply them `
      + 'from the LoRA folder (inlineDiffusion.loraFolder) when files of those names are there');
  }
  const embeddings = networkHashes(p['TI hashes']);
  if (embeddings.length > 0) {
    notes.push(`the image used the embeddings ${embeddings.map((l) => `${l.name} (${l.hash})`).join(', ')}: their names in the prompts apply them `
      + 'from the embeddings folder (inlineDiffusion.embeddingsFolder)');
  }
  if (hasInpaintFields(p)) {
    // inpainted: A1111's mask settings come back for the mask editor; the mask itself is not in the PNG
    const { fields, notes: maskNotes } = readInpaintInfotext(p);
    next.maskSettings = fields;
    notes.push(...maskNotes, 'the image was inpainted: its mask settings were loaded, the mask itself is not in a PNG: paint it again');
  }
  return { params: next, notes };
}

/** The same from a PNG file's bytes. */
export function paramsFromPng(png: Uint8Array, current: PanelParams, models: readonly ModelRef[]): ReusedParams {
  let text: Record<string, string>;
  try {
    text = readPngText(png);
  } catch (err) {
    return { ok: false, reason: `it is not a readable PNG (${(err as Error).message})` };
  }
  return paramsFromPngText(text, current, models);
}

/** The same from a PNG's text chunks already read (a capped head: src/markdown/pngHead.ts). */
export function paramsFromPngText(text: Readonly<Record<string, string>>, current: PanelParams, models: readonly ModelRef[]): ReusedParams {
  const infotext = text.parameters;
  if (infotext === undefined) {
    return { ok: false, reason: 'it has no "parameters" text: it was not made by Inline Diffusion or AUTOMATIC1111, or its metadata was removed' };
  }
  return { ok: true, ...paramsFromInfotext(infotext, current, models) };
}
