/**
 * `npm run bench:real -- --diffusers PATH [--cache DIR] [--python PY] [--steps N] [--threads N] [--provider cpu|cuda]
 *  [--sdxl] [--vae-sizes 512,1024,2048] [--only a,b]`: issue 15's measurements on full-width SD 1.5 with random
 * weights (bench/real/build_models.py builds them once into the cache folder, default
 * ~/.cache/inline-diffusion-bench-real; never in the repository, never in `npm test`). Every measurement is a whole
 * child process (peak RSS is the process's); ratios are between runs of this one invocation. Prints a table and
 * writes bench-output/real-<time>.json. Other measurements plug in through bench/real/extraMeasurements.ts.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { decodePlan, modelWeightsBytes, untiledDecodeBytes } from '../src/engine/model';
import { defaultThreadCount } from '../src/engine/onnx';
import { EXTRA_MEASUREMENTS, type RealBenchContext } from './real/extraMeasurements';

const root = path.resolve(__dirname, '..');
const { values } = parseArgs({
  options: {
    diffusers: { type: 'string' }, cache: { type: 'string' }, python: { type: 'string' }, steps: { type: 'string' },
    threads: { type: 'string' }, provider: { type: 'string' }, sdxl: { type: 'boolean' }, 'vae-sizes': { type: 'string' },
    only: { type: 'string' }, help: { type: 'boolean' }, 'sdxl-max-gib': { type: 'string' },
  },
});
const usage = 'usage: npm run bench:real -- --diffusers PATH [--cache DIR] [--python PY] [--steps N] [--threads N] '
  + '[--provider cpu|cuda] [--sdxl] [--sdxl-max-gib N] [--vae-sizes 512,1024,2048] [--only matmul,flops,engine,bare,torch,fp16,load,vae,cancel,hostcancel,extension,extra,sdxl]';
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

/** Everything that is missing, said at once; exits 2 when anything is. */
function checkPrerequisites(): { diffusersSrc: string; python: string } {
  const missing: string[] = [];
  const python = values.python ?? process.env.PYTHON ?? 'python3';
  let diffusersSrc = '';
  if (values.diffusers === undefined) missing.push('--diffusers PATH: a diffusers checkout (its src/ or the folder holding src/diffusers)');
  else {
    const given = path.resolve(values.diffusers);
    diffusersSrc = fs.existsSync(path.join(given, 'diffusers', '__init__.py')) ? given : path.join(given, 'src');
    if (!fs.existsSync(path.join(diffusersSrc, 'diffusers', '__init__.py'))) missing.push(`--diffusers: no diffusers package under ${given} (expected src/diffusers/__init__.py)`);
  }
  const probe = spawnSync(python, ['-c', 'import torch, transformers, onnx, onnxruntime, safetensors; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    missing.push(`Python with torch, transformers, onnx, onnxruntime and safetensors (${python}: ${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}); `
      + 'pass --python or set PYTHON');
  }
  if (values.provider !== undefined && !['cpu', 'cuda'].includes(values.provider)) missing.push(`--provider: expected cpu or cuda, got ${values.provider}`);
  if (missing.length > 0) {
    process.stderr.write(`bench:real cannot run:\n- ${missing.join('\n- ')}\n${usage}\n`);
    process.exit(2);
  }
  return { diffusersSrc, python };
}

const { diffusersSrc, python } = checkPrerequisites();
const cache = path.resolve(values.cache ?? path.join(os.homedir(), '.cache', 'inline-diffusion-bench-real'));
const steps = Number(values.steps ?? 3);
const threads = Number(values.threads ?? defaultThreadCount());
const provider = (values.provider ?? 'cpu') as 'cpu' | 'cuda';
const vaeSizes = (values['vae-sizes'] ?? '512,1024').split(',').map(Number);
const only = values.only === undefined ? undefined : new Set(values.only.split(','));
const want = (name: string): boolean => only === undefined || only.has(name);
const sd15Fp32 = path.join(cache, 'sd15-fp32');
const sd15Fp16 = path.join(cache, 'sd15-fp16');
const sdxlFp16 = path.join(cache, 'sdxl-fp16');
const torchDir = path.join(cache, 'torch');
const tsx = ['--import', 'tsx'];

function log(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** Runs at nice 10 (the machine is shared) and returns the last stdout line as JSON. */
function runJson(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const r = spawnSync('nice', ['-n', '10', command, ...args], { cwd: root, encoding: 'utf8', env: { ...env, ATEN_CPU_CAPABILITY: 'avx2' }, maxBuffer: 1 << 26 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(last) as Record<string, unknown>;
}

/** runJson for one measurement of the table: a failure is logged and recorded as { error }, the run goes on. */
function measure(command: string, args: readonly string[]): Record<string, unknown> {
  try {
    // the load average at the end of each measurement: timings on this shared machine are read beside it
    return { ...runJson(command, args), loadavg: os.loadavg() };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    log(`failed: ${error.slice(0, 500)}`);
    return { error };
  }
}

function build(): void {
  const done = ['DONE-sd15-fp32', 'DONE-sd15-fp16', ...(values.sdxl ? ['DONE-sdxl-fp16'] : [])].every((f) => fs.existsSync(path.join(cache, f)));
  if (done) return;
  const free = os.freemem() / 2 ** 30;
  log(`building full-width SD 1.5 (fp32, fp16) into ${cache} (~15 min, ~12 GB of memory; ${free.toFixed(1)} GiB free now)`);
  const r = spawnSync('nice', ['-n', '10', python, path.join(root, 'bench', 'real', 'build_models.py'), '--diffusers-src', diffusersSrc, '--out', cache,
    ...(values.sdxl ? ['--sdxl'] : [])], { stdio: 'inherit', env: { ...process.env, ATEN_CPU_CAPABILITY: 'avx2', PYTHONPATH: diffusersSrc } });
  // SDXL is optional: its build failing (e.g. stopped by its memory guard) leaves SD 1.5 to measure, and says so
  if (r.status !== 0 && !(values.sdxl && ['DONE-sd15-fp32', 'DONE-sd15-fp16'].every((f) => fs.existsSync(path.join(cache, f))))) {
    throw new Error(`build_models.py failed (${r.status})`);
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** First two calls apart, the steady median of the rest. */
const split = (xs: readonly number[]): { first: number[]; steady: number } => ({ first: xs.slice(0, 2), steady: median(xs.length > 2 ? xs.slice(2) : xs) });
const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;
const s1 = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** Bytes of a folder's files in the page cache now (fincore, util-linux); NaN without fincore. */
function resident(dir: string): number {
  const files = fs.readdirSync(dir, { recursive: true }).map((f) => path.join(dir, String(f))).filter((f) => fs.lstatSync(f).isFile());
  const r = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', ...files], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split('\n').reduce((sum, line) => sum + Number(line.trim()), 0) : NaN;
}

/** Drops a folder's files from the page cache (posix_fadvise DONTNEED): the next load reads the disk. */
function evict(dir: string): void {
  spawnSync(python, ['-c', `import os,sys
for d,_,fs in os.walk(sys.argv[1]):
  for f in fs:
    p=os.path.join(d,f)
    if os.path.islink(p): continue
    fd=os.open(p,os.O_RDONLY); os.fsync(fd) if False else None; os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED); os.close(fd)`, dir]);
}

async function main(): Promise<void> {
  fs.mkdirSync(cache, { recursive: true });
  build();
  const result: Record<string, unknown> = {
    machine: { cpus: os.cpus()[0]?.model, logical: os.cpus().length, memory: gib(os.totalmem()), node: process.version, platform: `${os.platform()} ${os.release()}`, loadavg: os.loadavg() },
    settings: { steps, threads, provider, size: 512, sampler: 'Euler', cfg: 7.5 },
    weightsBytes: { fp32: modelWeightsBytes(sd15Fp32, ['text_encoder', 'unet', 'vae_decoder']), fp16: modelWeightsBytes(sd15Fp16, ['text_encoder', 'unet', 'vae_decoder']) },
  };
  const rows: string[][] = [];
  const outDir = path.join(root, 'bench-output');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `real-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  // written after every measurement: a run stopped early keeps what it measured
  const save = (): void => fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`results go to ${path.relative(root, file)}`);
  const engineArgs = (dir: string, n: number, vae: string): string[] => [...tsx, 'bench/real/engineRun.ts', dir, String(n), String(threads), '512', vae, provider];
  const torchArgs = (what: string, extra: string[] = []): string[] => [path.join(root, 'bench', 'real', 'torch_bench.py'), what, '--diffusers-src', diffusersSrc,
    '--torch-dir', torchDir, '--threads', String(threads), '--device', provider, ...extra];

  type EngineOut = { timingsMs: { load: number; unetSteps: number[]; vae: number; total: number; textEncoder: number }; peakRssBytes: number; wallMs: number; warnings: string[] };
  if (want('engine')) {
    log(`engine fp32: ${steps} steps at 512², full VAE decode`);
    const e = measure(process.execPath, engineArgs(sd15Fp32, steps, 'full')) as unknown as EngineOut;
    result.engineFp32 = e;
    save();
  }
  if (want('bare')) {
    for (const variant of ['engine', 'unfused', 'mempattern-on', 'arena-off']) {
      log(`bare ONNX Runtime UNet (${variant} options): ${steps} calls`);
      result[`bare-${variant}`] = measure(process.execPath, [...tsx, 'bench/real/bareUnet.ts', sd15Fp32, String(steps), String(threads), '512', variant, provider]);
      save();
    }
    save();
  }
  if (want('torch')) {
    log(`diffusers/PyTorch UNet: ${steps} calls; VAE decode 512²`);
    result.torchUnet = measure(python, torchArgs('unet', ['--steps', String(steps), '--size', '512']));
    result.torchVae = measure(python, torchArgs('vae', ['--size', '512']));
    save();
  }
  if (want('fp16')) {
    // fp16 on the CPU: the engine's fp32 copy (issue 15), made by the first run into a cache folder of the bench's own
    // (emptied first), reused by the second; then the fp16 graph as it is
    const fp32Cache = path.join(cache, 'fp32-copies');
    fs.rmSync(fp32Cache, { recursive: true, force: true });
    process.env.INLINE_DIFFUSION_FP32_CACHE = fp32Cache;
    log(`engine fp16 from its fp32 copy, first load (converts into ${fp32Cache}): ${steps} steps at 512²`);
    result.engineFp16CopyFirst = measure(process.execPath, engineArgs(sd15Fp16, steps, 'full'));
    save();
    log(`engine fp16 from its fp32 copy, later load: ${steps} steps at 512²`);
    result.engineFp16Copy = measure(process.execPath, engineArgs(sd15Fp16, steps, 'full'));
    delete process.env.INLINE_DIFFUSION_FP32_CACHE;
    save();
    log(`engine fp16 graph as it is: ${steps} steps at 512²`);
    process.env.BENCH_FP32_COPIES = '0';
    result.engineFp16 = measure(process.execPath, engineArgs(sd15Fp16, steps, 'full'));
    delete process.env.BENCH_FP32_COPIES;
    result['bare-fp16'] = measure(process.execPath, [...tsx, 'bench/real/bareUnet.ts', sd15Fp16, String(steps), String(threads), '512', 'engine', provider]);
    save();
  }
  if (want('flops')) {
    log('FLOPs of one UNet call (batch 2, 512²)');
    result.flops = measure(python, torchArgs('flops', ['--size', '512']));
    save();
  }
  if (want('matmul') && provider === 'cpu') {
    log('fp32 MatMul peak (ONNX Runtime, 4096²)');
    result.matmul = measure(python, [path.join(root, 'bench', 'real', 'torch_bench.py'), 'matmul', '--threads', String(threads)]);
    save();
  }
  if (want('load')) {
    // cold: the model's files dropped from the page cache with posix_fadvise(DONTNEED) (only these files: dropping
    // /proc/sys/vm/drop_caches would empty every other process's cache too), checked with fincore before the load
    const runs: Record<string, unknown>[] = [];
    for (const cache of ['cold', 'warm', 'cold', 'warm'] as const) {
      if (cache === 'cold') evict(sd15Fp32);
      const residentBytes = resident(sd15Fp32);
      log(`engine: ${cache} load (${gib(residentBytes)} of the model's files in the page cache), 1 step, TAESD decode`);
      const e = measure(process.execPath, engineArgs(sd15Fp32, 1, 'fast')) as unknown as EngineOut;
      runs.push({ cache, residentBytesBefore: residentBytes, loadMs: e.timingsMs?.load, peakRssBytes: e.peakRssBytes, loadavg: (e as { loadavg?: number[] }).loadavg, error: (e as { error?: string }).error });
      result.load = { runs };
      save();
    }
    const ms = (c: string): number[] => runs.filter((r) => r.cache === c && typeof r.loadMs === 'number').map((r) => r.loadMs as number);
    result.load = { runs, coldMs: ms('cold'), warmMs: ms('warm') };
    if (ms('cold').length && ms('warm').length) rows.push(['model load fp32 (cold / warm page cache)', `${ms('cold').map(s1).join(', ')} / ${ms('warm').map(s1).join(', ')}`]);
    save();
  }
  if (want('vae')) {
    const decodes: Record<string, unknown>[] = [];
    for (const size of vaeSizes) {
      for (const mode of ['full', 'tiled', 'taesd']) {
        if (mode === 'tiled' && size <= 512) continue; // not larger than a tile: diffusers does not tile
        const estimate = untiledDecodeBytes(size, size, 8);
        // what the engine's "auto" picks at this size on this machine (its memory budget against os.totalmem())
        const auto = decodePlan('auto', size, size, 8, 512, os.totalmem());
        if (mode === 'full' && estimate > 0.5 * os.totalmem()) {
          decodes.push({ mode, size, auto, untiledEstimateBytes: estimate, skipped: `the untiled ${size}² decode needs ~${gib(estimate)} of working memory by the engine's estimate `
            + `(${gib((size / 8) ** 4 * 4)} of it the mid-block attention map), beside the VAE's weights: more than half of this ${gib(os.totalmem())} machine` });
          continue;
        }
        log(`VAE decode ${size}² ${mode}`);
        decodes.push({ mode, size, auto, untiledEstimateBytes: estimate, ...measure(process.execPath, [...tsx, 'bench/real/vaeDecode.ts', sd15Fp32, String(size), mode, String(threads), provider]) });
        result.vaeDecode = decodes;
        save();
      }
    }
    result.vaeDecode = decodes;
    save();
  }
  if (want('cancel')) {
    log('CLI cancel: Ctrl+C once (waits out the step) and twice (stops at once)');
    result.cancel = measure(process.execPath, [...tsx, 'bench/real/cancelRun.ts', sd15Fp32, String(threads)]);
    save();
  }
  if (want('hostcancel')) {
    log('extension cancel: the engine process through EngineClient — waiting out the step, a second Cancel, killing it and the reload after');
    result.hostCancel = measure(process.execPath, [...tsx, 'bench/real/hostCancel.ts', sd15Fp32, String(threads)]);
    save();
  }
  if (want('extension')) {
    log(`the extension host (stub vscode, real host code and engine process): two ${Math.max(steps, 4)}-step generations from the panel`);
    result.extension = measure(process.execPath, [...tsx, 'bench/real/extensionRun.ts', sd15Fp32, String(Math.max(steps, 4)), String(threads)]);
    save();
  }
  if (want('extra') && EXTRA_MEASUREMENTS.length > 0) {
    const ctx: RealBenchContext = { cache, sd15Fp32, sd15Fp16, torchDir, diffusersSrc, python, threads, steps, provider, runJson };
    const extra: Record<string, unknown> = {};
    for (const m of EXTRA_MEASUREMENTS) {
      log(`extra: ${m.name}`);
      extra[m.name] = await m.run(ctx);
    }
    result.extra = extra;
  }
  if (values.sdxl && want('sdxl')) {
    if (fs.existsSync(path.join(cache, 'DONE-sdxl-fp16'))) {
      // under a memory ceiling: an fp16 SDXL on the CPU outgrew 21 GB here once (ONNX Runtime computes fp16 in fp32);
      // the engine runs it from its fp32 copy (issue 15), made by the first run into the bench's own cache folder
      // --sdxl-max-gib: a higher ceiling where the machine is not shared (never past 90 % of its memory)
      const asked = values['sdxl-max-gib'] === undefined ? 14 : Number(values['sdxl-max-gib']);
      if (!(asked > 0)) throw new Error(`--sdxl-max-gib: "${values['sdxl-max-gib']}" is not a positive number of GiB`);
      const ceiling = Math.min(asked, (values['sdxl-max-gib'] === undefined ? 0.6 : 0.9) * os.totalmem() / 2 ** 30).toFixed(1);
      const fp32Cache = path.join(cache, 'fp32-copies');
      log(`engine SDXL fp16 (from its fp32 copy in ${fp32Cache}): 2 steps at 1024², tiled VAE decode (stopped past ${ceiling} GiB)`);
      process.env.INLINE_DIFFUSION_FP32_CACHE = fp32Cache;
      process.env.BENCH_LOG_INFO = '1';
      result.sdxl = measure(process.execPath, [...tsx, 'bench/real/rssGuard.ts', ceiling, process.execPath, ...tsx, 'bench/real/engineRun.ts', sdxlFp16, '2',
        String(threads), '1024', 'tiled', provider]);
      delete process.env.BENCH_LOG_INFO;
      delete process.env.INLINE_DIFFUSION_FP32_CACHE;
    } else {
      result.sdxl = { skipped: `SDXL was not built (${path.join(cache, 'sdxl-fp16')}): build_models.py --sdxl failed or was stopped; see its output` };
    }
    save();
  }

  save();
  table(result, rows);
  process.stdout.write(`\nwritten ${path.relative(root, file)}\n`);
}

/** The README table: one row per figure. */
function table(r: Record<string, unknown>, rows: string[][]): void {
  const weights = (r.weightsBytes as { fp32: number; fp16: number });
  const e = r.engineFp32 as { timingsMs: { load: number; unetSteps: number[]; vae: number }; peakRssBytes: number } | undefined;
  const bare = r['bare-engine'] as { stepMs: number[]; peakRssBytes: number; loadMs: number } | undefined;
  const torchUnet = r.torchUnet as { stepMs: number[]; peakRssBytes: number } | undefined;
  const flops = (r.flops as { flops: number } | undefined)?.flops;
  const peak = (r.matmul as { gflops: number } | undefined)?.gflops;
  if (e?.timingsMs) {
    const st = split(e.timingsMs.unetSteps);
    rows.push(['engine UNet step fp32 (first two; steady median)', `${st.first.map(s1).join(', ')}; ${s1(st.steady)}`]);
    if (bare?.stepMs) {
      const b = split(bare.stepMs);
      rows.push(['bare ORT UNet step, same options (first two; steady)', `${b.first.map(s1).join(', ')}; ${s1(b.steady)}`]);
      rows.push(['engine / bare ORT (steady; goal ≤ 1.02)', (st.steady / b.steady).toFixed(3)]);
    }
    if (torchUnet?.stepMs) {
      const t = split(torchUnet.stepMs);
      rows.push(['diffusers/PyTorch UNet step (first two; steady)', `${t.first.map(s1).join(', ')}; ${s1(t.steady)}`]);
      rows.push(['engine / PyTorch (steady)', (st.steady / t.steady).toFixed(3)]);
    }
    if (flops !== undefined) {
      const rate = flops / (st.steady / 1000) / 1e9;
      rows.push(['UNet FLOPs per step (batch 2, 512²)', `${(flops / 1e12).toFixed(3)} TFLOP → ${rate.toFixed(0)} GFLOP/s`]);
      if (peak !== undefined) rows.push(['ORT fp32 MatMul 4096² peak; step efficiency', `${peak.toFixed(0)} GFLOP/s; ${(100 * rate / peak).toFixed(0)} %`]);
    }
    rows.push(['engine VAE decode 512² (full)', s1(e.timingsMs.vae)]);
    rows.push(['engine peak RSS, whole generation fp32 (× weights; goal ≤ 1.4)', `${gib(e.peakRssBytes)} (${(e.peakRssBytes / weights.fp32).toFixed(2)}× ${gib(weights.fp32)})`]);
  }
  for (const v of ['engine', 'unfused', 'mempattern-on', 'arena-off']) {
    const b = r[`bare-${v}`] as { stepMs: number[]; peakRssBytes: number } | undefined;
    const label = v === 'engine' ? 'engine options (mem pattern off, attention fused)' : v === 'unfused' ? 'attention not fused' : `${v}, attention fused`;
    if (b?.stepMs) rows.push([`bare ORT UNet, ${label}: steady step; peak RSS`, `${s1(split(b.stepMs).steady)}; ${gib(b.peakRssBytes)}`]);
  }
  if (torchUnet?.peakRssBytes) rows.push(['PyTorch UNet peak RSS (UNet only)', gib(torchUnet.peakRssBytes)]);
  const tv = r.torchVae as { ms: number } | undefined;
  if (tv?.ms) rows.push(['PyTorch VAE decode 512²', s1(tv.ms)]);
  type Fp16Run = { timingsMs: { unetSteps: number[]; load: number }; peakRssBytes: number; fp32CopyMs?: number; loadavg?: number[] } | undefined;
  const f16 = r.engineFp16 as Fp16Run;
  if (f16?.timingsMs) rows.push(['engine fp16 graph as it is: steady step; load; peak RSS (× fp16 weights)', `${s1(split(f16.timingsMs.unetSteps).steady)}; ${s1(f16.timingsMs.load)}; ${gib(f16.peakRssBytes)} (${(f16.peakRssBytes / weights.fp16).toFixed(2)}×)`]);
  for (const [key, label] of [['engineFp16CopyFirst', 'first load, converts'], ['engineFp16Copy', 'later load']] as const) {
    const c = r[key] as Fp16Run;
    if (!c?.timingsMs) continue;
    rows.push([`engine fp16 from its fp32 copy (${label}): conversion; load; steady step; peak RSS (× fp32 weights)`,
      `${c.fp32CopyMs ? s1(c.fp32CopyMs) : '–'}; ${s1(c.timingsMs.load)}; ${s1(split(c.timingsMs.unetSteps).steady)}; ${gib(c.peakRssBytes)} (${(c.peakRssBytes / weights.fp32).toFixed(2)}×)`]);
  }
  const autoSaid = new Set<number>();
  for (const d of (r.vaeDecode as Array<{ mode: string; size: number; ms?: number; tiles?: number; peakRssBytes?: number; addedBytes?: number; skipped?: string; error?: string; auto?: string }> | undefined) ?? []) {
    if (d.auto !== undefined && !autoSaid.has(d.size)) {
      autoSaid.add(d.size);
      rows.push([`VAE decode ${d.size}²: the engine's "auto" picks`, d.auto]);
    }
    if (d.error !== undefined) continue;
    rows.push([`VAE decode ${d.size}² ${d.mode}${d.tiles ? ` (${d.tiles} tiles)` : ''}`, d.skipped ? `skipped: ${d.skipped}` : `${s1(d.ms ?? NaN)}; peak RSS ${gib(d.peakRssBytes ?? NaN)} (+${gib(d.addedBytes ?? NaN)} for the decode)`]);
  }
  const c = r.cancel as { onceMs?: number; twiceMs?: number; leftovers?: string[] } | undefined;
  if (c) rows.push(['CLI cancel during a step: Ctrl+C once → exit (waits out the step); twice → exit', `${s1(c.onceMs ?? NaN)}; ${s1(c.twiceMs ?? NaN)}; files left: ${(c.leftovers ?? []).length}`]);
  type CancelFig = { step1Ms: number; cancelToRejectMs: number; cancelToExitMs: number | null };
  type NextFig = { toFirstStepMs: number; startAndLoadMs: number };
  const hc = r.hostCancel as { wait?: CancelFig; second?: CancelFig; kill?: CancelFig; nextAfterWait?: NextFig; nextAfterKill?: NextFig;
    nextAfterKillAndEdit?: NextFig; preloadMs?: number | null; editMs?: number } | undefined;
  if (hc?.wait && hc.kill && hc.second) {
    const exit = (f: CancelFig): string => (f.cancelToExitMs === null ? 'process kept' : `process gone ${s1(f.cancelToExitMs)}`);
    rows.push(['extension Cancel 1 s into a step: wait out the step → idle', `${s1(hc.wait.cancelToRejectMs)} (step ${s1(hc.wait.step1Ms)}), ${exit(hc.wait)}`]);
    rows.push(['extension Cancel, kill (the default when > 1 s of the step is left) → idle', `${s1(hc.kill.cancelToRejectMs)}, ${exit(hc.kill)}`]);
    rows.push(['extension second Cancel (200 ms after the first) → idle', `${s1(hc.second.cancelToRejectMs)}, ${exit(hc.second)}`]);
    if (hc.nextAfterWait && hc.nextAfterKill) {
      rows.push(['next generation, before its text encoder (start + load): after waiting / after a kill, at once (the reload)',
        `${s1(hc.nextAfterWait.startAndLoadMs)} / ${s1(hc.nextAfterKill.startAndLoadMs)}`]);
    }
    if (hc.nextAfterKillAndEdit) {
      rows.push([`after a kill, the new engine's preload (Cancel → loaded) / the next generation ${s1(hc.editMs ?? NaN)} later, before its text encoder`,
        `${hc.preloadMs == null ? 'not seen' : s1(hc.preloadMs)} / ${s1(hc.nextAfterKillAndEdit.startAndLoadMs)}`]);
    }
  }
  type ExtRun = { which: string; steps: number; toFirstPreviewMs: number | null; progressMessages: number; previewsPosted: number; toPngSavedMs: number;
    eventLoopLag: { p99Ms: number; maxMs: number } };
  for (const run of (r.extension as { runs?: ExtRun[] } | undefined)?.runs ?? []) {
    rows.push([`extension, ${run.which}: Generate → first preview in the panel; → PNG saved`, `${s1(run.toFirstPreviewMs ?? NaN)}; ${s1(run.toPngSavedMs)}`]);
    rows.push([`extension, ${run.which}: previews posted / steps; host event-loop lag p99, max (goal p99 ≤ 20 ms)`,
      `${run.previewsPosted} / ${run.steps}; ${run.eventLoopLag.p99Ms.toFixed(1)} ms, ${run.eventLoopLag.maxMs.toFixed(1)} ms`]);
  }
  const xl = r.sdxl as { timingsMs?: { load: number; textEncoder: number; unetSteps: number[]; vae: number }; peakRssBytes?: number; skipped?: string;
    fp32CopyMs?: number; stoppedAtBytes?: number; afterMs?: number } | undefined;
  if (xl?.timingsMs) {
    rows.push(['SDXL fp16 1024², 2 steps: fp32 copy made in; load; steps; VAE (tiled); peak RSS',
      `${xl.fp32CopyMs ? s1(xl.fp32CopyMs) : '–'}; ${s1(xl.timingsMs.load)}; ${xl.timingsMs.unetSteps.map(s1).join(', ')}; ${s1(xl.timingsMs.vae)}; ${gib(xl.peakRssBytes ?? NaN)}`]);
  } else if (xl?.stoppedAtBytes !== undefined) {
    rows.push(['SDXL fp16 1024²', `stopped by the memory guard at ${gib(xl.stoppedAtBytes)} after ${s1(xl.afterMs ?? NaN)}`]);
  } else if (xl?.skipped) rows.push(['SDXL', `skipped: ${xl.skipped}`]);
  else if ((xl as { error?: string } | undefined)?.error) rows.push(['SDXL fp16 1024²', `not measured: ${(xl as { error: string }).error.split('\n')[0]}`]);
  const width = Math.max(...rows.map((x) => x[0].length));
  process.stdout.write(`\nbench:real — ${(r.machine as { cpus: string }).cpus}, ${threads} threads, ${provider}\n`);
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
