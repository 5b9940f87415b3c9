/**
 * The host's generation queue: jobs from the panel and from "Illustrate Alt Text" run one at a time through the
 * engine client (one engine process, started on the first generation), each job one request per image of its
 * batch count. Emits queue changes, per-step progress with it/s and ETA, finished images and job ends; keeps this
 * session's images by id for Save / Insert / Open. No `vscode` import: node tests drive it with a fake engine.
 */
import * as crypto from 'node:crypto';
import type { GeneratedImage, GenerateRequest, RgbImage } from '../protocol/engineMessages';
import type { JobSource, JobSummary, PanelParams } from '../protocol/webviewMessages';
import type { ProgressMessage, ResultMessage } from './engineClient';
import { Disposable } from '../util/disposable';
import { Emitter } from '../util/emitter';
import { ProgressMeter } from './progressMeter';
import { imageParams } from './seedsAndSize';

export interface EngineLike {
  generate(request: GenerateRequest, opts: { onProgress?: (p: ProgressMessage) => void; signal?: AbortSignal }): Promise<ResultMessage>;
  /** Cancels the running request again: EngineClient then stops the engine at once (a second Cancel always kills). */
  cancel?(): void;
}

export interface JobSpec {
  readonly source: JobSource;
  /** With a concrete seed: image i uses params.seed + i. */
  readonly params: PanelParams;
  readonly requests: readonly GenerateRequest[];
}

export interface FinishedImage {
  readonly imageId: string;
  readonly jobId: number;
  readonly source: JobSource;
  readonly image: GeneratedImage;
  /** The parameters of this one image (its own seed, batch count 1). */
  readonly params: PanelParams;
  savedPath: string | null;
}

export type JobOutcome =
  | { readonly status: 'finished'; readonly images: readonly FinishedImage[] }
  | { readonly status: 'cancelled'; readonly images: readonly FinishedImage[] }
  | { readonly status: 'failed'; readonly images: readonly FinishedImage[]; readonly error: Error };

export interface Job {
  readonly id: number;
  readonly spec: JobSpec;
  readonly summary: JobSummary;
  readonly done: Promise<JobOutcome>;
}

export interface ProgressEvent {
  readonly jobId: number;
  readonly imageIndex: number;
  readonly imageCount: number;
  readonly step: number;
  readonly totalSteps: number;
  readonly stepMs: number;
  readonly itPerSec: number | null;
  readonly etaMs: number | null;
  readonly previews: readonly RgbImage[];
  /** With hires. fix: 1 (the first pass) or 2 (the hires pass). */
  readonly pass?: number;
}

interface QueuedJob extends Job {
  readonly controller: AbortController;
  readonly resolve: (outcome: JobOutcome) => void;
}

/** Images kept for Save / Insert / Open (older ones are dropped; their files stay). */
const KEPT_IMAGES = 200;

export class GenerationService extends Disposable {
  private readonly jobs: QueuedJob[] = [];
  private running: QueuedJob | undefined;
  private nextJobId = 1;
  private readonly session = crypto.randomBytes(4).toString('hex');
  private readonly images = new Map<string, FinishedImage>();

  private readonly queueEmitter = this._register(new Emitter<void>());
  private readonly progressEmitter = this._register(new Emitter<ProgressEvent>());
  private readonly imageEmitter = this._register(new Emitter<FinishedImage>());
  private readonly endEmitter = this._register(new Emitter<{ job: Job; outcome: JobOutcome }>());

  /** The queue changed (a job was added, started or ended). */
  readonly onDidChangeQueue = this.queueEmitter.event;
  readonly onProgress = this.progressEmitter.event;
  readonly onImage = this.imageEmitter.event;
  readonly onJobEnded = this.endEmitter.event;

  constructor(private readonly engine: EngineLike) {
    super();
  }

  /** Queues a job; it runs after the ones before it. */
  enqueue(spec: JobSpec): Job {
    if (this.isDisposed) throw new Error('the generation service was disposed');
    if (spec.requests.length === 0) throw new Error('a job needs at least one request');
    const id = this.nextJobId++;
    let resolve!: (outcome: JobOutcome) => void;
    const done = new Promise<JobOutcome>((r) => { resolve = r; });
    const job: QueuedJob = {
      id, spec, done, resolve, controller: new AbortController(),
      summary: { jobId: id, source: spec.source, prompt: spec.params.prompt, imageCount: spec.requests.length, seed: spec.params.seed },
    };
    this.jobs.push(job);
    this.queueEmitter.fire();
    this.pump();
    return job;
  }

  /** Cancels one job (queued or running), or every job when no id is given. */
  cancel(jobId?: number): void {
    const targets = jobId === undefined ? [...this.jobs] : this.jobs.filter((j) => j.id === jobId);
    // a second Cancel of the running job: its signal has already fired, so ask the engine client directly
    if (this.running !== undefined && targets.includes(this.running) && this.running.controller.signal.aborted) this.engine.cancel?.();
    for (const job of targets) job.controller.abort();
    const before = this.jobs.length;
    for (const job of targets) {
      if (job === this.running) continue;
      this.jobs.splice(this.jobs.indexOf(job), 1);
      this.end(job, { status: 'cancelled', images: [] });
    }
    if (this.jobs.length !== before) this.queueEmitter.fire();
  }

  /** Jobs in order; the running one first. */
  get queue(): readonly JobSummary[] {
    return this.jobs.map((j) => j.summary);
  }

  get runningJobId(): number | null {
    return this.running?.id ?? null;
  }

  getImage(imageId: string): FinishedImage | undefined {
    return this.images.get(imageId);
  }

  /** Drops an image from those kept for Save / Insert / Open; true when it was held. */
  forget(imageId: string): boolean {
    return this.images.delete(imageId);
  }

  override dispose(): void {
    this.cancel();
    super.dispose();
  }

  private pump(): void {
    if (this.running || this.isDisposed) return;
    const job = this.jobs[0];
    if (!job) return;
    this.running = job;
    this.queueEmitter.fire();
    void this.run(job).catch((err: unknown): JobOutcome => ({
      status: 'failed', images: [], error: err instanceof Error ? err : new Error(String(err)),
    })).then((outcome) => {
      this.running = undefined;
      this.jobs.splice(this.jobs.indexOf(job), 1);
      this.end(job, outcome);
      this.queueEmitter.fire();
      this.pump();
    });
  }

  private async run(job: QueuedJob): Promise<JobOutcome> {
    const images: FinishedImage[] = [];
    const meter = new ProgressMeter();
    const count = job.spec.requests.length;
    for (let i = 0; i < count; i++) {
      if (job.controller.signal.aborted) return { status: 'cancelled', images };
      const request = job.spec.requests[i];
      try {
        const result = await this.engine.generate(request, {
          signal: job.controller.signal,
          onProgress: (p) => {
            const { itPerSec, etaMs } = meter.record(p.stepMs, p.step, p.totalSteps, i, count);
            this.progressEmitter.fire({
              jobId: job.id, imageIndex: i, imageCount: count, step: p.step, totalSteps: p.totalSteps, stepMs: p.stepMs,
              itPerSec, etaMs, previews: p.previews, ...(p.pass === undefined ? {} : { pass: p.pass }),
            });
          },
        });
        for (const image of result.images) {
          const finished: FinishedImage = {
            imageId: `${this.session}-${job.id}-${images.length}`, jobId: job.id, source: job.spec.source, image, savedPath: null,
            params: imageParams(job.spec.params, image.seed, i),
          };
          images.push(finished);
          this.keep(finished);
          this.imageEmitter.fire(finished);
        }
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        if (job.controller.signal.aborted || (error as { code?: unknown }).code === 'cancelled') return { status: 'cancelled', images };
        return { status: 'failed', images, error };
      }
    }
    return { status: 'finished', images };
  }

  private keep(image: FinishedImage): void {
    this.images.set(image.imageId, image);
    while (this.images.size > KEPT_IMAGES) this.images.delete(this.images.keys().next().value as string);
  }

  private end(job: QueuedJob, outcome: JobOutcome): void {
    job.resolve(outcome);
    this.endEmitter.fire({ job, outcome });
  }
}
