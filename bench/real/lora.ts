/**
 * Issue 16's real-scale measurements of LoRAs, on a full-size SD 1.5 ONNX folder (e.g. the one `npm run bench:real`
 * builds into ~/.cache/inline-diffusion-bench-real/sd15-fp32):
 *   node --import tsx bench/real/lora.ts MODEL_DIR [--rank 32] [--threads N] [--only patch,memory,lcm] [--keep]
 * - patch: a rank-32 LoRA (kohya names, random factors: they cost what real ones do) on every attention, feed-forward
 *   and projection layer of the UNet and the text encoder; the time of a generation's load without it, with it
 *   (reading the LoRA, writing the patched copies — "patch" — and creating the sessions — "load", apart), and with it
 *   again (the cache and the loaded model reused), the cache's disk use and the process's peak RSS;
 * - memory: the alternative to the patched copy on disk: the same UNet from memory (model bytes + its external data
 *   as a Buffer, ORT's `externalData`), its session-creation time and RSS against the copy loaded by path;
 * - lcm: an LCM-LoRA-shaped LoRA (rank 64 on the UNet, marked with `{"lcm": true}` beside it) and a 4-step 512²
 *   picture at CFG 1 with the model already loaded (issue goal ≤ 25 s on the 2-core machine).
 * Prints one JSON object as its last line (bench:real's runJson reads it). `loraMeasurement` is the same as an
 * entry for bench/real/extraMeasurements.ts.
 */
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../../src/engine/engine';
import { readModelFolder } from '../../src/engine/model';
import { defaultRequest } from '../../src/engine/request';
import { applyNetworks, indexGraphWeights } from '../../src/engine/networks';
import type { GenerateRequest } from '../../src/protocol/engineMessages';

/** A safetensors file of F32 tensors (and string metadata). */
export function writeSafetensors(file: string, tensors: ReadonlyArray<[string, Float32Array, number[]]>): void {
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const [name, data, shape] of tensors) {
    header[name] = { dtype: 'F32', shape, data_offsets: [at, at + data.byteLength] };
    at += data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(file, Buffer.concat([head, Buffer.from(json), ...tensors.map(([, d]) => Buffer.from(d.buffer, d.byteOffset, d.byteLength))]));
}

/** Deterministic uniform values in ±scale. */
function randoms(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

const LINEAR = /(to_q|to_k|to_v|to_out_0|ff_net_0_proj|ff_net_2|proj_in|proj_out|q_proj|k_proj|v_proj|out_proj|fc1|fc2)$/;

/** A kohya LoRA of `rank` on the graph's attention / feed-forward / projection modules. */
function makeLora(modelDir: string, file: string, rank: number, withTextEncoder: boolean): number {
  const tensors: Array<[string, Float32Array, number[]]> = [];
  let seed = 1;
  const components: Array<[string, string, boolean]> = [['unet/model.onnx', 'lora_unet_', false]];
  if (withTextEncoder) components.push(['text_encoder/model.onnx', 'lora_te_', true]);
  for (const [rel, prefix, text] of components) {
    const weights = indexGraphWeights(new Uint8Array(readFileSync(path.join(modelDir, rel))), rel, text);
    for (const [key, w] of weights.modules) {
      if (!LINEAR.test(key)) continue;
      const dims = w.layout === 'transposed' ? [w.init.dims[1], w.init.dims[0]] : [...w.init.dims];
      const out = dims[0];
      const inner = dims.slice(1).reduce((a, b) => a * b, 1);
      const name = prefix + key;
      const downShape = [rank, ...dims.slice(1)];
      const upShape = dims.length === 4 ? [out, rank, 1, 1] : [out, rank];
      tensors.push([`${name}.lora_down.weight`, randoms(rank * inner, seed++, 0.02), downShape]);
      tensors.push([`${name}.lora_up.weight`, randoms(out * rank, seed++, 0.02), upShape]);
      tensors.push([`${name}.alpha`, new Float32Array([rank / 2]), []]);
    }
  }
  writeSafetensors(file, tensors);
  return tensors.length / 3;
}

function dirBytes(dir: string): { own: number; linked: number } {
  let own = 0;
  let linked = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const s = statSync(path.join(e.parentPath, e.name));
    if (s.nlink > 1) linked += s.size;
    else own += s.size;
  }
  return { own, linked };
}

/** A file of any size (readFileSync stops at 2 GiB; Buffers at 4 GiB). */
function readLarge(file: string): Buffer {
  const size = statSync(file).size;
  const buf = Buffer.allocUnsafe(size);
  const fd = openSync(file, 'r');
  try {
    for (let at = 0; at < size;) at += readSync(fd, buf, at, Math.min(1 << 30, size - at), at);
  } finally {
    closeSync(fd);
  }
  return buf;
}

/** Runs one phase, keeping its result (or its error) and printing what is known so far as a JSON line. */
async function phase(result: Record<string, unknown>, name: string, fn: () => Promise<Record<string, unknown>>): Promise<void> {
  try {
    result[name] = await fn();
  } catch (e) {
    result[name] = { error: e instanceof Error ? e.message : String(e) };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const rssMiB = (): number => Math.round(process.resourceUsage().maxRSS / 1024);
const round = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : Math.round(ms));

export interface LoraBenchOptions {
  readonly modelDir: string;
  readonly rank?: number;
  readonly threads?: number;
  readonly only?: readonly string[];
  readonly keep?: boolean;
}

export async function runLoraBench(o: LoraBenchOptions): Promise<Record<string, unknown>> {
  const only = new Set(o.only ?? ['memory', 'lcm', 'patch']);
  const rank = o.rank ?? 32;
  const work = mkdtempSync(path.join(os.tmpdir(), 'lora-bench-'));
  const loraDir = path.join(work, 'loras');
  const cacheDir = path.join(work, 'cache');
  const result: Record<string, unknown> = { model: o.modelDir, rank };
  try {
    const info = await readModelFolder(o.modelDir);
    const base: GenerateRequest = {
      ...defaultRequest(info), prompt: 'a lighthouse on a cliff at dusk', negativePrompt: '', steps: 1, cfgScale: 7.5,
      width: 512, height: 512, executionProvider: 'cpu', threads: o.threads ?? null, loraDir, embeddingsDir: null,
    };
    mkdirSync(loraDir, { recursive: true });
    if (only.has('memory')) {
      // Patching alone (applyNetworks, no generation), then the patched UNet's session by path against from memory.
      await phase(result, 'memory', async () => {
        const file = path.join(loraDir, 'style32.safetensors');
        if (!existsSync(file)) makeLora(o.modelDir, file, rank, true);
        const memCache = path.join(work, 'cache-memory');
        const rss0 = rssMiB();
        const applied = await applyNetworks({
          modelDir: o.modelDir, xl: false, layersPerBlock: 2, loras: [{ name: 'style32', file, te: 0.8, unet: 0.8 }], embeddings: [], cacheDir: memCache,
        });
        const unetFile = applied.files.unet;
        if (unetFile === undefined) throw new Error(`nothing was patched: ${applied.warnings.join('; ')}`);
        const unetDir = path.dirname(unetFile);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
        const opts = { executionProviders: ['cpu'], intraOpNumThreads: o.threads ?? Math.max(1, Math.floor(os.cpus().length / 2)), graphOptimizationLevel: 'all' as const };
        let t = performance.now();
        const byPath = await ort.InferenceSession.create(unetFile, opts);
        const byPathMs = performance.now() - t;
        await byPath.release();
        const rssByPath = rssMiB();
        t = performance.now();
        const modelBytes = readFileSync(unetFile);
        const externalData = readdirSync(unetDir).filter((f) => f !== 'model.onnx').map((f) => ({ path: f, data: readLarge(path.join(unetDir, f)) }));
        const readMs = performance.now() - t;
        t = performance.now();
        let fromMemoryMs: number | undefined;
        let error: string | undefined;
        try {
          const s = await ort.InferenceSession.create(modelBytes, { ...opts, externalData } as never);
          fromMemoryMs = performance.now() - t;
          await s.release();
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
        return {
          patchReadMs: round(applied.timingsMs.read), patchWriteMs: round(applied.timingsMs.patch), notes: applied.notes,
          cacheDisk: dirBytes(memCache), peakRssBeforeMiB: rss0, peakRssAfterPatchAndPathSessionMiB: rssByPath,
          byPathSessionMs: Math.round(byPathMs), fromMemoryReadMs: Math.round(readMs), fromMemorySessionMs: round(fromMemoryMs),
          fromMemoryError: error, peakRssAfterMemorySessionMiB: rssMiB(),
          bytesInMemory: externalData.reduce((n, e) => n + e.data.length, modelBytes.length),
        };
      });
    }
    if (only.has('patch')) await phase(result, 'patch', async () => {
      const file = path.join(loraDir, 'style32.safetensors');
      if (!existsSync(file)) makeLora(o.modelDir, file, rank, true);
      const engine = new Engine({ networkCacheDir: cacheDir });
      const plain = await engine.generate(base);
      await engine.release();
      const withLora = await engine.generate({ ...base, prompt: `${base.prompt} <lora:style32:0.8>` });
      const again = await engine.generate({ ...base, prompt: `${base.prompt} <lora:style32:0.8>`, seed: 1 });
      await engine.release();
      const w = withLora.timingsMs;
      return {
        baseLoadMs: round(plain.timingsMs.load), baseTotalMs: round(plain.timingsMs.total),
        loraLoadMs: round(w.load), loraReadMs: round(w.networks?.read), loraPatchMs: round(w.networks?.patch),
        loraSessionsMs: round(w.load - (w.networks?.read ?? 0) - (w.networks?.patch ?? 0)), loraTotalMs: round(w.total),
        loadRatio: Number((w.load / plain.timingsMs.load).toFixed(2)),
        sameSetAgainLoadMs: round(again.timingsMs.load), sameSetAgainCacheHit: again.timingsMs.networks?.cacheHit,
        warnings: withLora.warnings, cacheDisk: dirBytes(cacheDir), peakRssMiB: rssMiB(),
      };
    });
    if (only.has('lcm')) await phase(result, 'lcm', async () => {
      const layers = makeLora(o.modelDir, path.join(loraDir, 'lcm64.safetensors'), 64, false);
      writeFileSync(path.join(loraDir, 'lcm64.json'), JSON.stringify({ lcm: true }));
      const engine = new Engine({ networkCacheDir: cacheDir });
      const req = { ...base, prompt: `${base.prompt} <lora:lcm64:1>`, steps: 4, cfgScale: 1 };
      const first = await engine.generate(req);
      const second = await engine.generate({ ...req, seed: 2 });
      // the same with the real-scale issue's fast decode (the folder's TAESD), which the goal allows counting
      const fast = await engine.generate({ ...req, seed: 3, vaeDecode: 'fast' });
      await engine.release();
      const t = second.timingsMs;
      const f = fast.timingsMs;
      return {
        layers, sampler: second.sampler, firstTotalMs: round(first.timingsMs.total), loadedTotalMs: round(t.total),
        loadedLoadMs: round(t.load), textEncoderMs: round(t.textEncoder), unetMs: round(t.unet), unetStepsMs: t.unetSteps.map(Math.round),
        vaeMs: round(t.vae), goalMs: 25_000, withinGoal: t.total <= 25_000, warnings: second.warnings,
        fastDecode: { totalMs: round(f.total), unetMs: round(f.unet), vaeMs: round(f.vae), withinGoal: f.total <= 25_000, warnings: fast.warnings },
        peakRssMiB: rssMiB(),
      };
    });
  } finally {
    if (o.keep !== true) rmSync(work, { recursive: true, force: true });
    else result.workDir = work;
  }
  return result;
}

/** An entry for bench/real/extraMeasurements.ts (its RealBenchMeasurement shape): runs this file as a child. */
export const loraMeasurement = {
  name: 'lora',
  run: async (ctx: { sd15Fp32: string; threads: number; runJson(command: string, args: readonly string[]): Record<string, unknown> }) =>
    ctx.runJson(process.execPath, ['--import', 'tsx', __filename, ctx.sd15Fp32, '--threads', String(ctx.threads)]),
};

if (require.main === module) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { rank: { type: 'string' }, threads: { type: 'string' }, only: { type: 'string' }, keep: { type: 'boolean' } },
  });
  if (positionals.length !== 1) {
    process.stderr.write('usage: node --import tsx bench/real/lora.ts MODEL_DIR [--rank 32] [--threads N] [--only patch,memory,lcm] [--keep]\n');
    process.exit(2);
  }
  runLoraBench({
    modelDir: path.resolve(positionals[0]), rank: values.rank === undefined ? undefined : Number(values.rank),
    threads: values.threads === undefined ? undefined : Number(values.threads), only: values.only?.split(','), keep: values.keep,
  }).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`), (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  });
}
