/**
 * The only place that talks to the engine process (ARCHITECTURE.md). Forks src/engine/main.ts's bundle on the first
 * request, keeps pending requests by id, forwards progress, cancels cooperatively and kills the child when a cancel
 * is not honoured in time, and forks a fresh child after a crash. Imports nothing from `vscode`.
 */
import * as childProcess from 'node:child_process';
import * as os from 'node:os';
import { assertNever } from '../common/assertNever';
import type { ChildProcess } from 'node:child_process';
import type { EngineErrorCode, FromEngine, GenerateRequest, ToEngine } from '../protocol/engineMessages';

export type ProgressMessage = Extract<FromEngine, { type: 'progress' }>;
export type ResultMessage = Extract<FromEngine, { type: 'result' }>;
export type TokenCountsMessage = Extract<FromEngine, { type: 'tokenCounts' }>;
export type PreloadedMessage = Extract<FromEngine, { type: 'preloaded' }>;
export type LogLevel = 'info' | 'warn' | 'error';

export type EngineClientErrorCode = EngineErrorCode | 'crashed' | 'start-failed' | 'disposed';

export class EngineClientError extends Error {
  constructor(readonly code: EngineClientErrorCode, message: string) {
    super(message);
    this.name = 'EngineClientError';
  }
}

export interface EngineClientOptions {
  /** The bundled engine entry (dist/engine.js). */
  readonly enginePath: string;
  readonly execArgv?: string[];
  /** The child's environment; a function is asked again at each (re)start (e.g. after GPU support is installed). */
  readonly env?: NodeJS.ProcessEnv | (() => NodeJS.ProcessEnv);
  /** Engine log messages and the child's stdout/stderr lines. */
  readonly onLog?: (level: LogLevel, message: string) => void;
  /** Called when the child exits unexpectedly (not after kill/dispose). */
  readonly onCrash?: (description: string) => void;
  /** How long the child may take to say 'ready'. */
  readonly startTimeoutMs?: number;
  /** How long a cancelled generation may run on before the child is killed. */
  readonly cancelGraceMs?: number;
  /**
   * A cancel kills the engine at once (instead of letting it finish the running step) when that step has more than
   * this many ms left by the last step's time (default 1000): a full-size SD 1.5 step on a CPU takes seconds, and the
   * reload the kill costs is paid only by a next generation, which also frees the memory now.
   */
  readonly killCancelAboveMs?: number;
  /**
   * After such a kill, start the engine again at once and load the cancelled request's model (`preload`, default
   * true): the reload a kill costs (7.3 s for a full-size SD 1.5 here) then overlaps the user's next edit instead of
   * delaying the next Generate, and the Cancel itself still ends the generation at once.
   */
  readonly preloadAfterKill?: boolean;
  /** How long the child may take to exit after 'shutdown' on dispose before it is killed. */
  readonly shutdownGraceMs?: number;
  /**
   * Run the engine below normal priority (default true): a generation keeps every core busy, and the editor (the
   * extension host, the renderer) should stay responsive while it does.
   */
  readonly lowPriority?: boolean;
  /** Injection point for tests. */
  readonly fork?: typeof childProcess.fork;
}

interface Pending {
  readonly request: GenerateRequest;
  readonly resolve: (value: ResultMessage) => void;
  readonly reject: (err: EngineClientError) => void;
  readonly onProgress?: (p: ProgressMessage) => void;
  cancelTimer?: NodeJS.Timeout;
  /** When the last progress came and how long its step took: the running step's expected end. */
  lastStep?: { readonly atMs: number; readonly stepMs: number };
}

/**
 * What a cancel of the running generation does (issue 15): a second cancel always kills; a step expected to run on
 * for more than `killAboveMs` is not waited for (kill); otherwise, and before any step has reported (loading, the
 * first step: nothing to go by), the engine is asked to stop after its step, with the grace period's kill behind it.
 */
export function cancelAction(lastStep: { atMs: number; stepMs: number } | undefined, nowMs: number, alreadyCancelling: boolean,
  killAboveMs: number): 'kill' | 'cooperate' {
  if (alreadyCancelling) return 'kill';
  if (lastStep === undefined) return 'cooperate';
  return lastStep.stepMs - (nowMs - lastStep.atMs) > killAboveMs ? 'kill' : 'cooperate';
}

export class EngineClient {
  private child: ChildProcess | undefined;
  private ready: Promise<ChildProcess> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly queue: Array<{ readonly id: number; readonly request: GenerateRequest }> = [];
  private inFlight: number | undefined;
  private readonly unloads = new Map<number, () => void>();
  private readonly preloads = new Map<number, (answer: PreloadedMessage) => void>();
  private readonly counts = new Map<number, { resolve: (c: TokenCountsMessage) => void; reject: (e: Error) => void }>();
  private stderrTail: string[] = [];
  private disposed = false;

  constructor(private readonly options: EngineClientOptions) {}

  /** Whether an engine process is currently running. */
  get isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The running child's pid, if any. */
  get pid(): number | undefined {
    return this.isRunning ? this.child?.pid : undefined;
  }

  /** Generates; resolves with the engine's result or rejects with an EngineClientError (code 'cancelled' on cancel). */
  generate(request: GenerateRequest, opts: { onProgress?: (p: ProgressMessage) => void; signal?: AbortSignal } = {}): Promise<ResultMessage> {
    if (this.disposed) return Promise.reject(new EngineClientError('disposed', 'the engine client was disposed'));
    if (opts.signal?.aborted) return Promise.reject(new EngineClientError('cancelled', 'cancelled before it started'));
    const id = this.nextId++;
    const result = new Promise<ResultMessage>((resolve, reject) => {
      const onAbort = (): void => this.cancel(id);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = (): void => opts.signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        request,
        onProgress: opts.onProgress,
        resolve: (v) => { cleanup(); resolve(v); },
        reject: (e) => { cleanup(); reject(e); },
      });
      this.queue.push({ id, request });
    });
    this.ensureStarted().then(
      (child) => this.pump(child),
      (err: EngineClientError) => {
        this.dropQueued(id);
        this.settle(id)?.reject(err);
      },
    );
    return result;
  }

  /**
   * Loads what `request` would load and stops there (the engine's `preload`); resolves with its answer — `error` set
   * when the load failed (the next generation meets the same error and reports it). Starts the engine if needed.
   */
  preload(request: GenerateRequest): Promise<PreloadedMessage> {
    if (this.disposed) return Promise.reject(new EngineClientError('disposed', 'the engine client was disposed'));
    const id = this.nextId++;
    const answer = new Promise<PreloadedMessage>((resolve) => this.preloads.set(id, resolve));
    this.ensureStarted().then(
      (child) => this.send(child, { type: 'preload', id, request }),
      (err: EngineClientError) => this.settlePreload({ type: 'preloaded', id, loadMs: 0, error: err.message }),
    );
    return answer;
  }

  private settlePreload(answer: PreloadedMessage): void {
    this.preloads.get(answer.id)?.(answer);
    this.preloads.delete(answer.id);
  }

  /** A1111's token counts for the prompt fields, from the model folder's tokenizer (starts the engine if needed). */
  countTokens(modelDir: string, prompt: string, negativePrompt: string, steps: number, embeddingsDir?: string): Promise<TokenCountsMessage> {
    if (this.disposed) return Promise.reject(new EngineClientError('disposed', 'the engine client was disposed'));
    const id = this.nextId++;
    const answer = new Promise<TokenCountsMessage>((resolve, reject) => this.counts.set(id, { resolve, reject }));
    this.ensureStarted().then(
      (child) => this.send(child, { type: 'countTokens', id, modelDir, prompt, negativePrompt, steps, ...(embeddingsDir === undefined ? {} : { embeddingsDir }) }),
      (err: EngineClientError) => {
        this.counts.get(id)?.reject(err);
        this.counts.delete(id);
      },
    );
    return answer;
  }

  /**
   * Cancels one generation (or all). A queued one is dropped at once; the running one is cancelled cooperatively and
   * the engine is killed when it has not stopped after the grace period.
   */
  cancel(id?: number): void {
    const ids = id === undefined ? [...this.pending.keys()] : [id];
    for (const requestId of ids) {
      if (this.dropQueued(requestId)) {
        this.settle(requestId)?.reject(new EngineClientError('cancelled', 'cancelled before it started'));
        continue;
      }
      const entry = this.pending.get(requestId);
      if (!entry || requestId !== this.inFlight) continue;
      if (cancelAction(entry.lastStep, performance.now(), entry.cancelTimer !== undefined, this.options.killCancelAboveMs ?? 1000) === 'kill') {
        this.killForCancel(requestId, entry.cancelTimer !== undefined ? 'cancelled again: stopping the engine now'
          : 'cancelled mid-step: stopping the engine now rather than waiting for the step to end');
        continue;
      }
      if (this.child) this.send(this.child, { type: 'cancel', id: requestId });
      entry.cancelTimer = setTimeout(() => {
        if (this.inFlight !== requestId) return;
        this.killForCancel(requestId, `the engine did not stop within ${this.cancelGraceMs} ms of a cancel; killing it`);
      }, this.cancelGraceMs);
    }
  }

  /** Kills the engine for a cancelled request (it restarts on the next one) and rejects the request. */
  private killForCancel(requestId: number, why: string): void {
    this.options.onLog?.('warn', why);
    const child = this.child;
    this.detach();
    const entry = this.settle(requestId);
    entry?.reject(new EngineClientError('cancelled', 'cancelled (the engine was stopped)'));
    child?.kill('SIGKILL');
    if (this.queue.length) void this.ensureStarted().then((c) => this.pump(c), (err: EngineClientError) => this.rejectAll(err.code, err.message));
    else if (entry !== undefined && this.options.preloadAfterKill !== false) {
      this.options.onLog?.('info', 'loading the model again in a new engine process, for the next generation');
      void this.preload(entry.request).then((answer) => {
        if (answer.error !== undefined) this.options.onLog?.('info', `loading the model again failed: ${answer.error}`);
        else this.options.onLog?.('info', `model loaded again in ${Math.round(answer.loadMs)} ms`);
      }, () => undefined); // disposed meanwhile
    }
  }

  /** Hard stop: kills the engine now; pending requests reject with the given code. */
  kill(code: EngineClientErrorCode = 'cancelled', message = 'cancelled (the engine was stopped)'): void {
    const child = this.child;
    this.detach();
    this.rejectAll(code, message);
    child?.kill('SIGKILL');
  }

  /** Asks the engine to release its loaded model (sessions); a no-op when no engine runs. */
  async unload(timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || !this.isRunning) return;
    const id = this.nextId++;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { this.unloads.delete(id); resolve(); }, timeoutMs);
      this.unloads.set(id, () => { clearTimeout(timer); resolve(); });
      this.send(child, { type: 'unload', id });
    });
  }

  /** Shuts the engine down (killing it after a grace period); later calls reject with 'disposed'. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const child = this.child;
    this.detach();
    this.rejectAll('disposed', 'the engine client was disposed');
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, this.options.shutdownGraceMs ?? 2000);
      child.once('exit', () => { clearTimeout(timer); resolve(); });
      try {
        child.send({ type: 'shutdown' } satisfies ToEngine);
        child.disconnect();
      } catch {
        child.kill('SIGKILL');
      }
    });
  }

  private get cancelGraceMs(): number {
    return this.options.cancelGraceMs ?? 5000;
  }

  private ensureStarted(): Promise<ChildProcess> {
    if (this.ready && this.isRunning) return this.ready;
    this.stderrTail = [];
    const fork = this.options.fork ?? childProcess.fork;
    const child = fork(this.options.enginePath, [], {
      serialization: 'advanced',
      silent: true,
      execArgv: this.options.execArgv ?? [],
      env: withReturnedLargeAllocations((typeof this.options.env === 'function' ? this.options.env() : this.options.env) ?? process.env),
    });
    this.child = child;
    if (this.options.lowPriority !== false) lowerPriority(child, this.options.onLog);
    this.pipeLines(child, 'stdout', 'info');
    this.pipeLines(child, 'stderr', 'error');
    child.on('message', (raw: unknown) => this.onMessage(raw));
    let started = false;
    this.ready = new Promise<ChildProcess>((resolve, reject) => {
      const timer = setTimeout(() => {
        fail(new EngineClientError('start-failed', `the engine did not start within ${this.options.startTimeoutMs ?? 20_000} ms${this.describeStderr()}`));
        child.kill('SIGKILL');
      }, this.options.startTimeoutMs ?? 20_000);
      const onReady = (raw: unknown): void => {
        if (isFromEngine(raw) && raw.type === 'ready') {
          started = true;
          clearTimeout(timer);
          child.off('message', onReady);
          resolve(child);
        }
      };
      const fail = (err: EngineClientError): void => {
        clearTimeout(timer);
        child.off('message', onReady);
        reject(err);
      };
      child.on('message', onReady);
      child.once('error', (err) => fail(new EngineClientError('start-failed', `could not start the engine: ${err.message}`)));
      child.once('exit', (code, signal) => {
        if (!started) {
          if (this.child === child) this.detach();
          fail(new EngineClientError('start-failed', `the engine exited while starting (${describeExit(code, signal)})${this.describeStderr()}`));
        } else {
          this.onExit(child, code, signal);
        }
      });
    });
    return this.ready;
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return; // killed or disposed on purpose: already handled
    this.detach();
    const description = `the engine stopped unexpectedly (${describeExit(code, signal)})${this.describeStderr()}`;
    this.rejectAll('crashed', description);
    this.options.onCrash?.(description);
  }

  private onMessage(raw: unknown): void {
    if (!isFromEngine(raw)) {
      this.options.onLog?.('error', 'ignored a malformed message from the engine');
      return;
    }
    switch (raw.type) {
      case 'ready':
        break;
      case 'progress': {
        const entry = this.pending.get(raw.id);
        if (entry !== undefined) entry.lastStep = { atMs: performance.now(), stepMs: raw.stepMs };
        entry?.onProgress?.(raw);
        break;
      }
      case 'result':
        this.settle(raw.id)?.resolve(raw);
        break;
      case 'error':
        if (this.counts.has(raw.id)) {
          this.counts.get(raw.id)!.reject(new EngineClientError(raw.code, raw.message));
          this.counts.delete(raw.id);
          break;
        }
        this.settle(raw.id)?.reject(new EngineClientError(raw.code, raw.message));
        break;
      case 'unloaded':
        this.unloads.get(raw.id)?.();
        this.unloads.delete(raw.id);
        break;
      case 'preloaded':
        this.settlePreload(raw);
        break;
      case 'tokenCounts':
        this.counts.get(raw.id)?.resolve(raw);
        this.counts.delete(raw.id);
        break;
      case 'log':
        this.options.onLog?.(raw.level, raw.message);
        break;
      default:
        assertNever(raw, 'engine message');
    }
  }

  private settle(id: number): Pending | undefined {
    const entry = this.pending.get(id);
    if (!entry) return undefined;
    this.pending.delete(id);
    if (entry.cancelTimer) clearTimeout(entry.cancelTimer);
    if (this.inFlight === id) {
      this.inFlight = undefined;
      if (this.child) setImmediate(() => this.child && this.pump(this.child));
    }
    return entry;
  }

  private dropQueued(id: number): boolean {
    const index = this.queue.findIndex((q) => q.id === id);
    if (index >= 0) this.queue.splice(index, 1);
    return index >= 0;
  }

  /** Sends the next queued request when none is in flight: the engine runs one generation at a time anyway. */
  private pump(child: ChildProcess): void {
    if (this.inFlight !== undefined || child !== this.child) return;
    const next = this.queue.shift();
    if (!next) return;
    this.inFlight = next.id;
    this.send(child, { type: 'generate', id: next.id, request: next.request });
  }

  private rejectAll(code: EngineClientErrorCode, message: string): void {
    this.queue.length = 0;
    for (const c of this.counts.values()) c.reject(new EngineClientError(code, message));
    this.counts.clear();
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(new EngineClientError(code, message));
    for (const done of this.unloads.values()) done();
    this.unloads.clear();
    for (const id of [...this.preloads.keys()]) this.settlePreload({ type: 'preloaded', id, loadMs: 0, error: message });
  }

  private detach(): void {
    this.inFlight = undefined;
    this.child = undefined;
    this.ready = undefined;
  }

  private send(child: ChildProcess, msg: ToEngine): void {
    try {
      child.send(msg);
    } catch (err) {
      this.options.onLog?.('error', `could not send to the engine: ${(err as Error).message}`);
    }
  }

  private pipeLines(child: ChildProcess, stream: 'stdout' | 'stderr', level: LogLevel): void {
    let buffered = '';
    child[stream]?.setEncoding('utf8');
    child[stream]?.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (stream === 'stderr') this.stderrTail = [...this.stderrTail, line].slice(-20);
        this.options.onLog?.(level, line);
      }
    });
  }

  private describeStderr(): string {
    const tail = this.stderrTail.filter((l) => l.trim()).slice(-5);
    return tail.length ? `; last output:\n${tail.join('\n')}` : '';
  }
}

const fromEngineTypes = new Set(['ready', 'progress', 'result', 'error', 'unloaded', 'preloaded', 'tokenCounts', 'log']);

/** Accepts what arrives from the engine process as a FromEngine message. */
export function isFromEngine(value: unknown): value is FromEngine {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !fromEngineTypes.has(type)) return false;
  if (type === 'ready' || type === 'log') return true;
  return typeof (value as { id?: unknown }).id === 'number';
}

/**
 * The engine process's environment with glibc's `MALLOC_MMAP_THRESHOLD_` at 4 MiB unless the user set one: each
 * allocation that large is mapped on its own and given back to the system when freed, so what loading a model leaves
 * behind (the text encoder's load buffers, ONNX Runtime's graph copies) does not stay in the heap through the denoise
 * and the decode, while the many smaller allocations of a step stay in the heap as before. Measured on full-size
 * SD 1.5 fp32 (issue 15, bench/real/engineRun.ts, runs interleaved): whole-generation peak RSS 5.44–5.79 GiB
 * without, 5.34–5.37 GiB with 4 MiB (1.39× the weights; quiet machine: steps 4.3–4.7 s either way), 5.23 GiB with
 * 128 KiB (whose steps looked a few per cent slower on a busy machine). Other C libraries (macOS, Windows, musl)
 * ignore the variable.
 */
export function withReturnedLargeAllocations(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.MALLOC_MMAP_THRESHOLD_ === undefined ? { ...env, MALLOC_MMAP_THRESHOLD_: String(4 * 1024 * 1024) } : env;
}

function lowerPriority(child: ChildProcess, onLog: EngineClientOptions['onLog']): void {
  if (child.pid === undefined) return;
  try {
    os.setPriority(child.pid, os.constants.priority.PRIORITY_BELOW_NORMAL);
  } catch (err) {
    onLog?.('info', `could not lower the engine's priority: ${(err as Error).message}`);
  }
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `signal ${signal}`;
  return `exit code ${code}`;
}
