/** The `inline-diffusion` command line; runs the engine in-process, on a worker thread (src/cli/engineWorker.ts). Exit codes: 0 ok, 1 failed, 2 bad input, 130 cancelled. */
import { version } from '../package.json';
import { parseCommandLine } from './cli/args';
import { runDownload } from './cli/download';
import { describeFailure } from './cli/failure';
import { generateInWorker, isEngineWorker, serveEngineWorker } from './cli/engineWorker';
import { runGenerate, wantsWorker } from './cli/generate';
import { signalWarm } from './launch/warmEvent';

async function main(argv: string[]): Promise<number> {
  let command;
  try {
    command = parseCommandLine(argv);
  } catch (err) {
    return fail(err);
  }
  if (command.kind === 'help') {
    // asked for: stdout, success; no command at all: a usage error
    (command.asked ? process.stdout : process.stderr).write(`${command.text}\n`);
    return command.asked ? 0 : 2;
  }
  if (command.kind === 'version') {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const controller = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\ncancelling after the current step… (Ctrl+C again to stop at once)\n');
    controller.abort();
    process.once('SIGINT', stopAtOnce);
  });
  if (command.kind === 'download') {
    try {
      await runDownload(command.args, { stdout: process.stdout, stderr: process.stderr, env: process.env }, controller.signal);
      return 0;
    } catch (err) {
      return fail(err);
    }
  }
  try {
    // Full-size models: the engine on a worker thread, so this thread stays free for a second Ctrl+C during a long step.
    const summary = await runGenerate(command.args, { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() }, controller.signal, false,
      (info) => (wantsWorker(info) ? (request, opts) => generateInWorker(request, opts) : undefined));
    if (command.args.json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      process.stderr.write(`seed ${summary.seeds.join(', ')} · ${summary.sampler} · ${summary.steps} steps · CFG ${summary.cfg} · `
        + `${summary.width}×${summary.height} · ${(summary.timingsMs.total / 1000).toFixed(2)} s\n`);
      for (const file of summary.files) process.stdout.write(`${file}\n`);
    }
    signalWarm(); // a whole generation has run: the compile cache (src/launch/) can keep what it compiled
    return 0;
  } catch (err) {
    return fail(err);
  }
}

/**
 * The second Ctrl+C: the process ends now, mid-step. Files are written only by this thread, synchronously, so no
 * write is ever in progress when this handler runs (nothing half-written). The engine worker cannot be stopped from
 * here (ONNX Runtime's run() does not return until its step ends, and process.exit() waits for it), so the default
 * SIGINT action ends the process: exit status 130 as the shell reports it.
 */
function stopAtOnce(): void {
  process.stderr.write('\nstopped\n');
  process.removeAllListeners('SIGINT');
  process.kill(process.pid, 'SIGINT');
}

function fail(err: unknown): number {
  const failure = describeFailure(err);
  process.stderr.write(`${failure.text}\n`);
  return failure.exitCode;
}

/**
 * Exits once stdout and stderr have taken everything written (pipes are asynchronous on macOS). Exiting rather than
 * letting the event loop run dry skips waiting for V8's background compiles of loops that will never run again and
 * the teardown of the sessions: ~3 ms of a 0.3 s run on the embedded model.
 */
function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const flushed = (): void => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
}

if (isEngineWorker()) serveEngineWorker();
else main(process.argv.slice(2)).then(exitWhenFlushed);
