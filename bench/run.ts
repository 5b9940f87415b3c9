/**
 * `npm run bench`: engine benchmarks as ratios against a baseline measured in the same run, or medians.
 *  1. A whole CLI generation vs the bare ONNX Runtime session runs it needs (bench/bareOrt.mjs), both as whole
 *     processes with the same thread count, alternating; target ratio ≤ 1.05 on the embedded model. The CLI as it
 *     runs after its first generation (compile cache written), and without the cache.
 *  2. Preview cost per step for 1×4×64×64 latents (target ≤ 2 ms).
 *  3. Engine process start (fork → ready) and model load (the engine's own load timing).
 * Options (environment): BENCH_RUNS (default 11), BENCH_STEPS (20), BENCH_THREADS (engine default), BENCH_MODEL.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultModelDir } from '../src/engine/model';
import { EngineClient } from '../src/generation/engineClient';
import { readModelFolder } from '../src/engine/model';
import { defaultThreadCount } from '../src/engine/onnx';
import { makePreviewer } from '../src/engine/engine';
import { defaultRequest } from '../src/engine/request';

const root = path.resolve(__dirname, '..');
const runs = Number(process.env.BENCH_RUNS ?? 11);
const steps = Number(process.env.BENCH_STEPS ?? 20);
const threads = Number(process.env.BENCH_THREADS ?? defaultThreadCount());
const modelDir = process.env.BENCH_MODEL ? path.resolve(process.env.BENCH_MODEL) : defaultModelDir(path.join(root, 'src', 'engine', 'model'));

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function timeProcess(args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

async function benchCliVsBare(width: number, height: number): Promise<void> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'inline-diffusion-bench-'));
  // The CLI as a user runs it after their first generation (its compile cache written: src/launch/), and without
  // the cache (the first run after an install or an update), alternating with the bare runs.
  const warm = { ...process.env, INLINE_DIFFUSION_COMPILE_CACHE: path.join(out, 'compile-cache') };
  const cold = { ...process.env, INLINE_DIFFUSION_COMPILE_CACHE: '0' };
  const cli: number[] = [];
  const cliCold: number[] = [];
  const bare: number[] = [];
  const cliArgs = (i: number): string[] => [path.join(root, 'dist', 'cli.js'), 'generate', '--prompt', 'a red circle on a blue background',
    '--model', modelDir, '--steps', String(steps), '--seed', String(i), '--threads', String(threads), '--provider', 'cpu',
    '--quiet', '--out', path.join(out, `bench-${i}.png`)];
  const bareArgs = [path.join(root, 'bench', 'bareOrt.mjs'), modelDir, String(steps), String(threads), String(width), String(height)];
  timeProcess(cliArgs(999), warm); // warms the file cache for both, and writes the compile cache
  timeProcess(bareArgs);
  for (let i = 0; i < runs; i++) {
    cli.push(timeProcess(cliArgs(i), warm));
    bare.push(timeProcess(bareArgs));
    cliCold.push(timeProcess(cliArgs(runs + i), cold));
  }
  fs.rmSync(out, { recursive: true, force: true });
  const ratio = median(cli) / median(bare);
  console.log(`cli generation vs bare ONNX Runtime (${steps} steps, ${width}×${height}, ${threads} threads, ${runs} runs each):`);
  console.log(`  cli median ${median(cli).toFixed(0)} ms, bare median ${median(bare).toFixed(0)} ms, ratio ${ratio.toFixed(3)} (target ≤ 1.05)`);
  console.log(`  cli without its compile cache (first run after install): median ${median(cliCold).toFixed(0)} ms, `
    + `ratio ${(median(cliCold) / median(bare)).toFixed(3)}`);
}

function benchPreview(): void {
  const latents = new Float32Array(4 * 64 * 64).map((_, i) => Math.sin(i));
  const preview = makePreviewer({ factors: [[0.3512, 0.2297, 0.3227], [0.325, 0.4974, 0.235], [-0.2829, 0.1762, 0.2721], [-0.212, -0.2616, -0.7177]], bias: [0, 0, 0] });
  for (let i = 0; i < 50; i++) preview(latents, [1, 4, 64, 64]);
  const times: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t = performance.now();
    preview(latents, [1, 4, 64, 64]);
    times.push(performance.now() - t);
  }
  console.log(`preview of 1×4×64×64 latents: median ${median(times).toFixed(3)} ms, max ${Math.max(...times).toFixed(3)} ms (target ≤ 2 ms)`);
}

async function benchEngineStart(): Promise<void> {
  const info = await readModelFolder(modelDir);
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inline-diffusion-bench-cc-'));
  const envs = {
    warm: { ...process.env, INLINE_DIFFUSION_COMPILE_CACHE: cacheDir },
    cold: { ...process.env, INLINE_DIFFUSION_COMPILE_CACHE: '0' },
  };
  const starts = { warm: [] as number[], cold: [] as number[] };
  const loads: number[] = [];
  const once = async (env: NodeJS.ProcessEnv, seed: number): Promise<{ startMs: number; loadMs: number }> => {
    const client = new EngineClient({ enginePath: path.join(root, 'dist', 'engine.js'), env });
    const t = performance.now();
    const result = await client.generate({ ...defaultRequest(info), prompt: 'a red circle', steps: 1, seed, threads, executionProvider: 'cpu' });
    const startMs = performance.now() - t - result.timingsMs.total;
    await client.dispose();
    return { startMs, loadMs: result.timingsMs.load };
  };
  await once(envs.warm, 0); // its first generation writes the engine's compile cache
  for (let i = 0; i < runs; i++) {
    for (const kind of ['warm', 'cold'] as const) {
      const r = await once(envs[kind], i);
      starts[kind].push(r.startMs);
      if (kind === 'warm') loads.push(r.loadMs);
    }
  }
  fs.rmSync(cacheDir, { recursive: true, force: true });
  console.log(`engine process start (fork → first request answered, less its work): median ${median(starts.warm).toFixed(0)} ms `
    + `(${median(starts.cold).toFixed(0)} ms without its compile cache)`);
  console.log(`model load in the engine: median ${median(loads).toFixed(0)} ms`);
}

async function main(): Promise<void> {
  const info = await readModelFolder(modelDir);
  const request = defaultRequest(info);
  console.log(`model ${modelDir} (native ${request.width}×${request.height})`);
  benchPreview();
  await benchEngineStart();
  await benchCliVsBare(request.width, request.height);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
