import { formatDuration } from '../common/formatDuration';
import { nowMs } from '../engine/clock';

/** A one-line progress bar on a terminal stream: "step 7/20 [######------] 3.41 it/s, ETA 4s". */
export class ProgressBar {
  private startedMs = 0;
  private lastLength = 0;

  constructor(private readonly stream: NodeJS.WriteStream, private readonly width = 24) {}

  start(): void {
    this.startedMs = nowMs();
  }

  update(step: number, total: number): void {
    const elapsedS = (nowMs() - this.startedMs) / 1000;
    const rate = elapsedS > 0 ? step / elapsedS : 0;
    const etaS = rate > 0 ? (total - step) / rate : 0;
    const filled = Math.round((step / total) * this.width);
    const line = `step ${step}/${total} [${'#'.repeat(filled)}${'-'.repeat(this.width - filled)}] `
      + `${formatRate(rate)}, ETA ${formatDuration(etaS)}`;
    this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.lastLength - line.length))}`);
    this.lastLength = line.length;
  }

  finish(): void {
    if (this.lastLength > 0) this.stream.write('\n');
    this.lastLength = 0;
  }
}

export function formatRate(itPerS: number): string {
  return itPerS >= 1 || itPerS === 0 ? `${itPerS.toFixed(2)} it/s` : `${(1 / itPerS).toFixed(2)} s/it`;
}
