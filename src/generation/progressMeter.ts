import { formatDuration } from '../common/formatDuration';

/** Speed and time left for a job of `imageCount` images × `totalSteps` steps, from the engine's per-step times. */
export class ProgressMeter {
  private readonly recentMs: number[] = [];

  constructor(private readonly window = 8) {}

  /** Records one step's duration; returns it/s and the ETA in ms over the steps still to come. */
  record(stepMs: number, step: number, totalSteps: number, imageIndex: number, imageCount: number): { itPerSec: number | null; etaMs: number | null } {
    if (Number.isFinite(stepMs) && stepMs > 0) {
      this.recentMs.push(stepMs);
      if (this.recentMs.length > this.window) this.recentMs.shift();
    }
    if (this.recentMs.length === 0) return { itPerSec: null, etaMs: null };
    const meanMs = this.recentMs.reduce((a, b) => a + b, 0) / this.recentMs.length;
    const stepsLeft = (totalSteps - step) + (imageCount - imageIndex - 1) * totalSteps;
    return { itPerSec: 1000 / meanMs, etaMs: Math.max(0, stepsLeft) * meanMs };
  }
}

/** "step 3/20 · 4.1 it/s · ETA 5s" (with "image 2/4 · " in front for a batch count, "hires pass · " with hires. fix). */
export function formatProgress(p: { step: number; totalSteps: number; itPerSec: number | null; etaMs: number | null; imageIndex: number; imageCount: number; pass?: number }): string {
  const parts: string[] = [];
  if (p.imageCount > 1) parts.push(`image ${p.imageIndex + 1}/${p.imageCount}`);
  if (p.pass !== undefined) parts.push(p.pass === 2 ? 'hires pass' : 'first pass');
  parts.push(`step ${p.step}/${p.totalSteps}`);
  if (p.itPerSec !== null) parts.push(p.itPerSec >= 1 ? `${p.itPerSec.toFixed(1)} it/s` : `${(1 / p.itPerSec).toFixed(1)} s/it`);
  if (p.etaMs !== null) parts.push(`ETA ${formatDuration(p.etaMs / 1000)}`);
  return parts.join(' · ');
}
