/**
 * Cancel in the extension at full size, for `npm run bench:real` (part hostcancel): the engine process as the
 * extension host drives it — EngineClient (src/generation/engineClient.ts) forking dist/engine.js, the same protocol
 * — on a full-size model, 4 steps at 512² with previews. Each cancel comes 1 s into step 2 (step 1's progress + 1 s):
 *  - wait: a client that never kills (killCancelAboveMs: Infinity): Cancel → the engine finishes its step and
 *    reports cancelled (idle, model still loaded); then the next generation (1 step, TAESD decode) on the warm engine;
 *  - second: the same client, Cancel and a second Cancel 200 ms later (always a kill);
 *  - kill: the host's default (kill when more than 1 s of the step is left): Cancel → the request rejects and the
 *    process is gone, and the client starts a new engine and loads the model there at once (preload); a next
 *    generation at once waits for that load (nextAfterKill), one after the user's edit of 12 s finds it done
 *    (nextAfterKillAndEdit); preloadMs: from the Cancel to the preload's answer.
 * Prints one JSON line. Usage: node --import tsx bench/real/hostCancel.ts MODEL_DIR THREADS   (needs `npm run build`)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineClient, EngineClientError, type ProgressMessage } from '../../src/generation/engineClient';
import type { GenerateRequest } from '../../src/protocol/engineMessages';

const [modelDir, threads] = process.argv.slice(2);
const enginePath = path.resolve(__dirname, '..', '..', 'dist', 'engine.js');

const request = (steps: number, vaeDecode: 'auto' | 'fast'): GenerateRequest => ({
  modelDir, prompt: 'a lighthouse on a cliff at dusk', negativePrompt: null, sampler: 'euler', steps, cfgScale: 7.5, seed: 1,
  width: 512, height: 512, batchSize: 1, initImage: null, strength: 0.75, previews: true, rng: 'cpu', vaeDecode,
  executionProvider: 'cpu', threads: Number(threads),
});

/** When the client last said it had loaded the model again after a kill (its preload). */
let reloadedAt = 0;

const client = (killCancelAboveMs?: number): EngineClient => new EngineClient({
  enginePath, startTimeoutMs: 120_000, cancelGraceMs: 120_000, ...(killCancelAboveMs === undefined ? {} : { killCancelAboveMs }),
  onLog: (level, message) => {
    if (/^model loaded again/.test(message)) reloadedAt = performance.now();
    if (level !== 'info') process.stderr.write(`${level}: ${message}\n`);
  },
});

const EDIT_MS = 12_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves when the process `pid` has ended: no longer there, or a zombie (its memory freed; polled every 5 ms). */
async function gone(pid: number): Promise<void> {
  for (;;) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return;
    }
    if (/^\d+ \(.*\) [ZX]/.test(stat)) return;
    await sleep(5);
  }
}

interface CancelFigures {
  /** From Generate to step 1's progress (engine start + load + text encoder + step 1 when cold). */
  toFirstStepMs: number;
  /** Step 1's time as the engine reported it. */
  step1Ms: number;
  /** From the (last) Cancel to the request's rejection: the host sees the generation stopped. */
  cancelToRejectMs: number;
  /** From the (last) Cancel to the engine process's exit (null: it lives on, idle). */
  cancelToExitMs: number | null;
  /** With a second Cancel: from the first one to the rejection (null: no second Cancel was needed). */
  firstCancelToRejectMs: number | null;
  /** How the request ended (the client's error code and message). */
  outcome: string;
}

/** One 4-step generation cancelled 1 s into step 2 (`twice`: a second Cancel 200 ms after the first). */
async function cancelled(c: EngineClient, twice: boolean): Promise<CancelFigures> {
  const start = performance.now();
  let step1: ProgressMessage | undefined;
  let step1At = 0;
  const abort = new AbortController();
  let cancelAt = 0;
  let firstCancelAt: number | null = null;
  let settled = false;
  let pid: number | undefined;
  let exitAt: number | null = null;
  const done = c.generate(request(4, 'auto'), {
    signal: abort.signal,
    onProgress: (p) => {
      if (step1 !== undefined) return;
      step1 = p;
      step1At = performance.now();
      pid = c.pid;
      setTimeout(() => {
        cancelAt = performance.now();
        if (pid !== undefined) void gone(pid).then(() => { exitAt = performance.now(); });
        if (!twice) {
          abort.abort();
          return;
        }
        c.cancel();
        setTimeout(() => {
          if (settled) return; // the first Cancel already stopped it
          firstCancelAt = cancelAt;
          cancelAt = performance.now();
          c.cancel();
        }, 200);
      }, 1000);
    },
  });
  let outcome = 'finished (not cancelled)';
  try {
    await done;
  } catch (e) {
    outcome = e instanceof EngineClientError ? `${e.code}: ${e.message}` : String(e);
  }
  settled = true;
  const rejectAt = performance.now();
  // a killed engine's exit (its memory freed) may follow the rejection: waited for up to 10 s
  for (let waited = 0; outcome.includes('engine was stopped') && exitAt === null && waited < 10_000; waited += 10) await sleep(10);
  return { toFirstStepMs: step1At - start, step1Ms: step1?.stepMs ?? NaN, cancelToRejectMs: rejectAt - cancelAt,
    cancelToExitMs: exitAt === null ? null : exitAt - cancelAt, firstCancelToRejectMs: firstCancelAt === null ? null : rejectAt - firstCancelAt, outcome };
}

/** A 1-step generation (TAESD decode): Generate → step 1's progress and → the result. */
async function next(c: EngineClient): Promise<{ toFirstStepMs: number; totalMs: number; loadMs: number; stepMs: number; textEncoderMs: number;
  startAndLoadMs: number }> {
  const start = performance.now();
  let first = 0;
  const r = await c.generate(request(1, 'fast'), { onProgress: () => { first ||= performance.now(); } });
  const stepMs = r.timingsMs.unetSteps[0];
  // what comes before the text encoder: the engine process's start (after a kill) and the model's load
  return { toFirstStepMs: first - start, totalMs: performance.now() - start, loadMs: r.timingsMs.load, stepMs, textEncoderMs: r.timingsMs.textEncoder,
    startAndLoadMs: first - start - stepMs - r.timingsMs.textEncoder };
}

async function main(): Promise<void> {
  const patient = client(Infinity);
  const warmUp = await next(patient); // the engine started and the model loaded, as after a first generation
  const wait = await cancelled(patient, false);
  const nextAfterWait = await next(patient);
  const second = await cancelled(patient, true);
  await patient.dispose();

  const host = client();
  await next(host);
  const kill = await cancelled(host, false);
  const nextAfterKill = await next(host);
  const kill2 = await cancelled(host, false);
  const killedAt = performance.now() - kill2.cancelToRejectMs;
  await sleep(EDIT_MS);
  const preloadMs = reloadedAt > killedAt ? reloadedAt - killedAt : null;
  const nextAfterKillAndEdit = await next(host);
  await host.dispose();
  process.stdout.write(`${JSON.stringify({ warmUp, wait, nextAfterWait, second, kill, nextAfterKill, kill2, preloadMs, editMs: EDIT_MS, nextAfterKillAndEdit })}\n`);
}

main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
