/**
 * "Add Model…" checks a folder before it joins the list: readModelFolder (the parts, their ONNX files, tokenizer,
 * scheduler) and modelFamily (which family, from its configs), plus sizes and a precision guess from the UNet's
 * weight bytes — all without ONNX Runtime. What the engine cannot run (an SDXL refiner, SD3/Flux) is
 * refused by the folder reader with the reason.
 * No `vscode` import.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatBytes } from '../hub/hubError';
import { detectModelFamily, type FamilyInfo } from '../engine/model';
import { readModelFolder } from '../engine/model';
import type { ModelInfo } from '../engine/model';
import { familyName } from './modelChoices';

/** UNet parameters of SD 1.x / 2.x (≈ 860 M): fp32 ≈ 3.4 GB, fp16 ≈ 1.7 GB. */
const SD_UNET_PARAMS = 860e6;
/** UNet parameters of SDXL (≈ 2.57 G): fp32 ≈ 10.3 GB, fp16 ≈ 5.1 GB. */
const SDXL_UNET_PARAMS = 2.567e9;

export interface ModelInspection {
  readonly info: ModelInfo;
  readonly family: FamilyInfo;
  /** Bytes per part folder (unet/ with its external weights, text_encoder/, …). */
  readonly parts: ReadonlyArray<{ readonly name: string; readonly bytes: number }>;
  readonly totalBytes: number;
  /** From the UNet's size; 'unknown' for models far from SD's / SDXL's size (tiny test models). */
  readonly precision: 'fp16' | 'fp32' | 'unknown';
}

function folderBytes(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    try {
      const st = fs.statSync(p); // follows HF cache symlinks into blobs/
      total += st.isDirectory() ? folderBytes(p) : st.size;
    } catch {
      // a dangling link counts nothing
    }
  }
  return total;
}

/** Guesses fp16 / fp32 from the UNet's bytes (2 or 4 bytes a parameter). */
export function guessPrecision(unetBytes: number, family: FamilyInfo['family']): ModelInspection['precision'] {
  const params = family === 'sdxl' ? SDXL_UNET_PARAMS : SD_UNET_PARAMS;
  if (unetBytes < 0.25 * params) return 'unknown';
  return unetBytes / params < 3 ? 'fp16' : 'fp32';
}

/** Reads and checks a model folder; throws the folder reader's error (which names the missing or broken file). */
export async function inspectModelFolder(dir: string): Promise<ModelInspection> {
  const info = await readModelFolder(dir);
  const family = detectModelFamily(info.dir);
  const parts = ['unet', 'text_encoder', 'text_encoder_2', 'vae_decoder', 'vae_encoder', 'tokenizer', 'tokenizer_2', 'scheduler']
    .filter((name) => fs.existsSync(path.join(info.dir, name)))
    .map((name) => ({ name, bytes: folderBytes(path.join(info.dir, name)) }));
  const unetBytes = parts.find((p) => p.name === 'unet')?.bytes ?? 0;
  return {
    info, family, parts, totalBytes: parts.reduce((s, p) => s + p.bytes, 0),
    precision: guessPrecision(unetBytes, family.family),
  };
}

/** One line for a message: "SD-Turbo, fp16, 2.6 GB: unet 1.7 GB, text_encoder 681 MB, …". */
export function describeInspection(m: ModelInspection): string {
  const precision = m.precision === 'unknown' ? '' : `, ${m.precision}`;
  const parts = m.parts.map((p) => `${p.name} ${formatBytes(p.bytes)}`).join(', ');
  const img2img = m.info.hasVaeEncoder ? '' : ' (no vae_encoder: no img2img)';
  return `${familyName(m.family.family)}${precision}, ${formatBytes(m.totalBytes)}: ${parts}${img2img}`;
}
