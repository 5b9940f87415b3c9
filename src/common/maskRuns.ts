/**
 * An inpainting mask as the panel sends it: run lengths over width×height pixels in row-major order, alternating
 * "keep" (0) and "repaint" (255), the first run a keep run (0 when the mask starts painted). Compact for a painted
 * mask (a 512×512 brush stroke is a few hundred numbers) and checked before anything is decoded.
 */

export interface MaskRuns {
  readonly width: number;
  readonly height: number;
  readonly runs: readonly number[];
}

/** Sides up to this (the engine's input-image limit) and at most this many runs (a mask of single-pixel stripes). */
export const MASK_RUNS_LIMITS = { sideMax: 16_384, runsMax: 1 << 22 } as const;

/** Runs of a mask whose bytes are 0 (keep) or anything else (repaint). */
export function encodeMaskRuns(mask: Uint8Array, width: number, height: number): MaskRuns {
  const runs: number[] = [];
  let painted = false;
  let length = 0;
  for (let i = 0; i < width * height; i++) {
    const p = mask[i] !== 0;
    if (p !== painted) {
      runs.push(length);
      painted = p;
      length = 0;
    }
    length++;
  }
  runs.push(length);
  return { width, height, runs };
}

/** Whether any pixel is painted. */
export function maskRunsPainted(m: MaskRuns): boolean {
  for (let i = 1; i < m.runs.length; i += 2) if (m.runs[i] > 0) return true;
  return false;
}

/** Validates runs from the webview and decodes them to gray bytes (0 / 255); a one-line problem otherwise. */
export function decodeMaskRuns(value: unknown): { ok: true; width: number; height: number; gray: Uint8Array } | { ok: false; problem: string } {
  if (typeof value !== 'object' || value === null) return { ok: false, problem: 'the mask should be {width, height, runs}' };
  const { width, height, runs } = value as Record<string, unknown>;
  const side = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MASK_RUNS_LIMITS.sideMax;
  if (!side(width) || !side(height)) return { ok: false, problem: `the mask's size should be whole numbers from 1 to ${MASK_RUNS_LIMITS.sideMax}` };
  if (!Array.isArray(runs) || runs.length === 0 || runs.length > MASK_RUNS_LIMITS.runsMax) {
    return { ok: false, problem: `the mask's runs should be a list of 1 to ${MASK_RUNS_LIMITS.runsMax} lengths` };
  }
  const total = width * height;
  let sum = 0;
  for (const r of runs) {
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 0 || r > total) return { ok: false, problem: 'the mask\'s runs should be whole numbers ≥ 0' };
    sum += r;
  }
  if (sum !== total) return { ok: false, problem: `the mask's runs cover ${sum} pixels, its size ${width}×${height} has ${total}` };
  const gray = new Uint8Array(total);
  let at = 0;
  runs.forEach((r, i) => {
    if (i % 2 === 1) gray.fill(255, at, at + (r as number));
    at += r as number;
  });
  return { ok: true, width, height, gray };
}
