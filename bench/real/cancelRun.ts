/**
 * Cancel latency of the CLI at full size, for `npm run bench:real`: dist/cli.js generates 4 steps at 512² with
 * previews; at step 1's preview it gets one SIGINT (waits out the running step, exit 130) or two 200 ms apart
 * (ends at once). Prints one JSON line: ms from the last SIGINT to exit for each, the first step's ms, and any file
 * left in the output folders besides the finished steps' previews.
 * Usage: node --import tsx bench/real/cancelRun.ts MODEL_DIR THREADS
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const [modelDir, threads] = process.argv.slice(2);
const cli = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

function run(times: 1 | 2, dir: string): Promise<{ ms: number; code: number | null; signal: string | null; stepMs: number }> {
  fs.mkdirSync(dir, { recursive: true });
  return new Promise((resolve) => {
    const start = performance.now();
    const child = spawn(process.execPath, [cli, 'generate', '--prompt', 'a boat', '--model', modelDir, '--steps', '4', '--threads', threads,
      '--width', '512', '--height', '512', '--seed', '1', '--previews', path.join(dir, 'previews'), '--out', path.join(dir, 'out.png')], { stdio: 'ignore' });
    let last = 0;
    let stepAt = 0;
    const poll = setInterval(() => {
      if (!fs.existsSync(path.join(dir, 'previews', 'step-001.png'))) return;
      clearInterval(poll);
      stepAt = performance.now();
      child.kill('SIGINT');
      last = performance.now();
      if (times === 2) setTimeout(() => { child.kill('SIGINT'); last = performance.now(); }, 200);
    }, 20);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      resolve({ ms: performance.now() - last, code, signal, stepMs: stepAt - start });
    });
  });
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cancel-'));
  try {
    const once = await run(1, path.join(work, 'once'));
    const twice = await run(2, path.join(work, 'twice'));
    const leftovers = ['once', 'twice'].flatMap((d) => fs.readdirSync(path.join(work, d), { recursive: true }).map((f) => `${d}/${String(f)}`))
      .filter((f) => !/\/previews(\/step-00\d\.png)?$/.test(f));
    process.stdout.write(`${JSON.stringify({ onceMs: once.ms, onceExit: once.code, twiceMs: twice.ms, twiceSignal: twice.signal,
      loadAndFirstStepMs: once.stepMs, leftovers })}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
