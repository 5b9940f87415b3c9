/**
 * Releases the engine's sessions (EngineClient.unload) after the engine has been idle for the configured minutes,
 * so a model's gigabytes do not stay in memory between rare generations. No `vscode` import.
 */
import type { IDisposable } from '../util/disposable';

export interface IdleReleaseOptions {
  readonly unload: () => Promise<void>;
  /** Minutes of idleness before a release; 0 = never. Read at each touch. */
  readonly minutes: () => number;
  /** Whether a generation is running or queued (then nothing is released). */
  readonly isBusy: () => boolean;
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
  readonly clearTimer?: (handle: unknown) => void;
}

export class IdleReleaser implements IDisposable {
  private handle: unknown;
  private disposed = false;
  /** Releases done (a test hook). */
  releases = 0;

  constructor(private readonly o: IdleReleaseOptions) {}

  /** The engine did something: the idle clock starts again. */
  touch(): void {
    if (this.disposed) return;
    this.cancel();
    const minutes = this.o.minutes();
    if (!(minutes > 0)) return;
    const set = this.o.setTimer ?? ((fn, ms) => setTimeout(fn, ms).unref());
    this.handle = set(() => this.fire(), minutes * 60_000);
  }

  dispose(): void {
    this.disposed = true;
    this.cancel();
  }

  private fire(): void {
    this.handle = undefined;
    if (this.disposed || this.o.isBusy()) return;
    this.releases++;
    void this.o.unload().catch(() => undefined);
  }

  private cancel(): void {
    if (this.handle === undefined) return;
    (this.o.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout)))(this.handle);
    this.handle = undefined;
  }
}

/** The parts of GenerationHost the idle release needs. */
export interface IdleReleaseTarget {
  readonly engine: { unload(): Promise<void> };
  readonly service: {
    readonly queue: readonly unknown[];
    onJobEnded(listener: () => void): IDisposable;
  };
}

/** Releases the engine's sessions `minutes()` after the last job ended (when nothing is queued then). */
export function releaseWhenIdle(target: IdleReleaseTarget, minutes: () => number): IDisposable {
  const releaser = new IdleReleaser({ unload: () => target.engine.unload(), minutes, isBusy: () => target.service.queue.length > 0 });
  const sub = target.service.onJobEnded(() => releaser.touch());
  return { dispose: () => { sub.dispose(); releaser.dispose(); } };
}
