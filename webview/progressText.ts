/** The numbers of a progress line (the webview's copy of the host's format: only data crosses the door). */
export interface ProgressText {
  readonly step: number;
  readonly totalSteps: number;
  readonly itPerSec: number | null;
  readonly etaMs: number | null;
  readonly imageIndex: number;
  readonly imageCount: number;
  /** With hires. fix: 1 (the first pass) or 2 (the hires pass). */
  readonly pass?: number;
}

/** "step 3/20 · 4.1 it/s · ETA 5s", with "image 2/4 · " in front for a batch count. */
export function formatProgress(p: ProgressText): string {
  const parts: string[] = [];
  if (p.imageCount > 1) parts.push(`image ${p.imageIndex + 1}/${p.imageCount}`);
  if (p.pass !== undefined) parts.push(p.pass === 2 ? 'hires pass' : 'first pass');
  parts.push(`step ${p.step}/${p.totalSteps}`);
  if (p.itPerSec !== null) parts.push(p.itPerSec >= 1 ? `${p.itPerSec.toFixed(1)} it/s` : `${(1 / p.itPerSec).toFixed(1)} s/it`);
  if (p.etaMs !== null) {
    const s = Math.round(p.etaMs / 1000);
    parts.push(`ETA ${s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`}`);
  }
  return parts.join(' · ');
}
