/** Download progress: bytes done of the total, a smoothed speed and an ETA, reported at most every `intervalMs`. */

export interface DownloadProgress {
  /** Repo path of the file being fetched (null before the first file and once every file is verified). */
  readonly file: string | null;
  readonly fileIndex: number;
  readonly fileCount: number;
  readonly fileBytesDone: number;
  readonly fileBytesTotal: number;
  /** Bytes present of every selected file (kept from earlier runs included). */
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** Bytes per second over the last few seconds of this run (0 until measurable). */
  readonly bytesPerSecond: number;
  /** Seconds left at that speed; null while unknown. */
  readonly etaSeconds: number | null;
  readonly phase: 'listing' | 'downloading' | 'verifying' | 'installing' | 'done';
}

export type ProgressListener = (p: DownloadProgress) => void;

const WINDOW_MS = 5000;

export class ProgressTracker {
  private readonly samples: Array<{ t: number; bytes: number }> = [];
  private lastEmit = -Infinity;
  private state: Omit<DownloadProgress, 'bytesPerSecond' | 'etaSeconds'>;

  constructor(
    private readonly listener: ProgressListener | undefined,
    private readonly intervalMs: number,
    bytesTotal: number,
    fileCount: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.state = { file: null, fileIndex: 0, fileCount, fileBytesDone: 0, fileBytesTotal: 0, bytesDone: 0, bytesTotal, phase: 'listing' };
  }

  get bytesDone(): number {
    return this.state.bytesDone;
  }

  /** Sets fields and reports at once (phase and file changes are always reported). */
  update(change: Partial<DownloadProgress>, force = true): void {
    this.state = { ...this.state, ...change };
    this.emit(force);
  }

  /** Counts `n` freshly received bytes; reports when the interval has passed. */
  addBytes(n: number): void {
    this.state = { ...this.state, fileBytesDone: this.state.fileBytesDone + n, bytesDone: this.state.bytesDone + n };
    const t = this.now();
    this.samples.push({ t, bytes: this.state.bytesDone });
    while (this.samples.length > 2 && t - this.samples[0].t > WINDOW_MS) this.samples.shift();
    this.emit(false);
  }

  /** Forgets `n` bytes (a partial file that had to start again). */
  dropBytes(n: number): void {
    this.state = { ...this.state, fileBytesDone: Math.max(0, this.state.fileBytesDone - n), bytesDone: Math.max(0, this.state.bytesDone - n) };
    this.samples.length = 0;
  }

  snapshot(): DownloadProgress {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const dt = first && last ? (last.t - first.t) / 1000 : 0;
    const bytesPerSecond = dt >= 0.2 ? (last.bytes - first.bytes) / dt : 0;
    const left = Math.max(0, this.state.bytesTotal - this.state.bytesDone);
    const etaSeconds = this.state.phase === 'done' ? 0 : bytesPerSecond > 0 ? left / bytesPerSecond : null;
    return { ...this.state, bytesPerSecond, etaSeconds };
  }

  private emit(force: boolean): void {
    if (this.listener === undefined) return;
    const t = this.now();
    if (!force && t - this.lastEmit < this.intervalMs) return;
    this.lastEmit = t;
    this.listener(this.snapshot());
  }
}
