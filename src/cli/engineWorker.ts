/**
 * The CLI's engine on a worker thread (issue 15, cancel at real scale): ONNX Runtime's create() and run() block
 * their thread for a whole model load or UNet call (~9 s a step for SD 1.5 on a laptop CPU), so the engine runs
 * here and the main thread stays free for Ctrl+C. The main thread writes every file (outputs and previews), so a
 * second Ctrl+C that ends the process at once can never leave one half-written.
 * Messages: main → worker `{ kind: 'generate', request, modelInfo }`, `{ kind: 'cancel' }`;
 * worker → main `log`, `progress`, `done` (the GenerateOutput) or `failed` (the error as data).
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { GenerateRequest } from '../protocol/engineMessages';
import { Engine, EngineError, type GenerateOutput, type GenerateProgress } from '../engine/engine';
import { ModelError } from '../engine/model';
import type { ModelInfo } from '../engine/model';

/** The role a worker started by runInWorker is given (its workerData). */
export const ENGINE_WORKER_ROLE = 'inline-diffusion-cli-engine';

type ToWorker = { kind: 'generate'; request: GenerateRequest; modelInfo?: ModelInfo } | { kind: 'cancel' };
type FromWorker =
  | { kind: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { kind: 'progress'; progress: GenerateProgress }
  | { kind: 'done'; output: GenerateOutput }
  | { kind: 'failed'; error: { type: 'engine' | 'model' | 'other'; code?: string; kind?: string; file?: string; message: string; stack?: string } };

/** Whether this thread is the CLI's engine worker. */
export function isEngineWorker(): boolean {
  return !isMainThread && (workerData as { role?: string } | null)?.role === ENGINE_WORKER_ROLE;
}

/** The worker's side: one generation per `generate` message, cancelled by `cancel`. */
export function serveEngineWorker(): void {
  const port = parentPort;
  if (port === null) throw new Error('serveEngineWorker: not a worker thread');
  const post = (m: FromWorker): void => port.postMessage(m);
  const engine = new Engine({ log: (level, message) => post({ kind: 'log', level, message }) });
  let controller: AbortController | undefined;
  port.on('message', (m: ToWorker) => {
    if (m.kind === 'cancel') {
      controller?.abort();
      return;
    }
    controller = new AbortController();
    engine.generate(m.request, { signal: controller.signal, modelInfo: m.modelInfo, onProgress: (progress) => post({ kind: 'progress', progress }) })
      .then((output) => post({ kind: 'done', output }), (e: unknown) => post({ kind: 'failed', error: errorAsData(e) }));
  });
}

function errorAsData(e: unknown): Extract<FromWorker, { kind: 'failed' }>['error'] {
  if (e instanceof EngineError) return { type: 'engine', code: e.code, message: e.message };
  if (e instanceof ModelError) return { type: 'model', kind: e.kind, file: e.file, message: e.message };
  return { type: 'other', message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined };
}

function errorFromData(d: Extract<FromWorker, { kind: 'failed' }>['error']): Error {
  if (d.type === 'engine') return new EngineError(d.code as EngineError['code'], d.message);
  if (d.type === 'model') return new ModelError(d.kind as ModelError['kind'], d.file ?? '', d.message);
  const error = new Error(d.message);
  if (d.stack !== undefined) error.stack = d.stack;
  return error;
}

export interface WorkerGenerateOptions {
  readonly signal?: AbortSignal;
  readonly modelInfo?: ModelInfo;
  readonly onProgress?: (p: GenerateProgress) => void;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/**
 * The script a worker runs: the CLI's launcher beside the bundle (dist/cli.js, through the compile cache) when this
 * is the bundle, else this very file's module (tests under tsx).
 */
function workerScript(): string {
  const launcher = join(__dirname, 'cli.js');
  return __filename.endsWith('cli-main.js') && existsSync(launcher) ? launcher : __filename;
}

/**
 * One generation on a fresh engine worker; `signal` cancels it between steps. The worker is left to the process's
 * exit (unref'd): ending it mid-run would abort ONNX Runtime (REFERENCE.md), and the CLI exits next.
 */
export function generateInWorker(request: GenerateRequest, opts: WorkerGenerateOptions = {}, script = workerScript()): Promise<GenerateOutput> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(script, { workerData: { role: ENGINE_WORKER_ROLE }, stdout: false, stderr: false });
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      worker.unref();
      fn();
    };
    const onAbort = (): void => worker.postMessage({ kind: 'cancel' } satisfies ToWorker);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: FromWorker) => {
      if (m.kind === 'log') opts.log?.(m.level, m.message);
      else if (m.kind === 'progress') opts.onProgress?.(m.progress);
      else if (m.kind === 'done') finish(() => resolve(m.output));
      else finish(() => reject(errorFromData(m.error)));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the engine worker exited (${code}) before finishing`))));
    worker.postMessage({ kind: 'generate', request, modelInfo: opts.modelInfo } satisfies ToWorker);
    if (opts.signal?.aborted) onAbort();
  });
}
