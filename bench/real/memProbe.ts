/**
 * Where a generation's memory goes, for issue 15's memory goal (`npm run bench:real`, and by hand): runs one job in
 * this process and prints one JSON line per phase with /proc/self/status's VmRSS, VmHWM, RssAnon (heap, arenas,
 * copies of weights) and RssFile (mapped files: weights ONNX Runtime maps from external data; pages the kernel may
 * drop). Run it under bench/real/memWatch.ts for the peaks between phases (ORT's run() keeps this thread busy).
 * Usage: node --import tsx bench/real/memProbe.ts JOB MODEL_DIR STEPS THREADS [OPTIONS_JSON]
 *   JOB: unet (a bare UNet session with the engine's options, OPTIONS_JSON merged over them: {"extra":{"session":…}},
 *        {"fuse": true} to fuse its attention as the engine does), vae (the VAE decoder alone), create (a session's re-create
 *        time: MODEL_DIR COMPONENT THREADS)
 *        engine (a whole txt2img generation through the Engine, 512², Euler, CFG 7.5)
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Engine } from '../../src/engine/engine';
import { sessionOptionsFor } from '../../src/engine/onnx';
import { fuseAttention } from '../../src/engine/model';
import { float32ToFloat16 } from '../../src/engine/onnx/fp16';

export interface MemSnapshot { readonly vmRss: number; readonly vmHwm: number; readonly rssAnon: number; readonly rssFile: number }

/** VmRSS, VmHWM, RssAnon and RssFile of a process in bytes (Linux), from /proc/<pid>/status. */
export function memOf(pid: number | 'self'): MemSnapshot | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (key: string): number => 1024 * Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { vmRss: kb('VmRSS'), vmHwm: kb('VmHWM'), rssAnon: kb('RssAnon'), rssFile: kb('RssFile') };
}

const t0 = performance.now();
function phase(name: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ phase: name, t: Math.round(performance.now() - t0), ...memOf('self'), ...extra })}\n`);
}

async function unet(modelDir: string, steps: number, threads: number, over: Record<string, unknown>): Promise<void> {
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  const { fuse, ...rest } = over;
  const file = path.join(modelDir, 'unet', 'model.onnx');
  const base = sessionOptionsFor('cpu', threads);
  const extra = { session: { ...(base.extra as { session: object }).session, ...((rest.extra as { session?: object } | undefined)?.session ?? {}),
    ...(fuse === true ? { model_external_initializers_file_folder_path: path.dirname(file) } : {}) } };
  const options = { ...base, ...rest, extra };
  phase('start');
  const t = performance.now();
  const session = fuse === true
    ? await ort.InferenceSession.create(fuseAttention(new Uint8Array(readFileSync(file))).bytes, options)
    : await ort.InferenceSession.create(file, options);
  phase('created', { loadMs: Math.round(performance.now() - t) });
  const fp16 = (session.inputMetadata.find((m) => m.name === 'sample') as { type?: string }).type === 'float16';
  const floats = (count: number, dims: number[]): import('onnxruntime-node').Tensor => {
    const data = Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.1));
    return fp16 ? new ort.Tensor('float16', float32ToFloat16(data), dims) : new ort.Tensor('float32', data, dims);
  };
  const hidden = floats(2 * 77 * 768, [2, 77, 768]);
  for (let s = 0; s < steps; s++) {
    const ts = performance.now();
    const result = await session.run({ sample: floats(2 * 4 * 64 * 64, [2, 4, 64, 64]),
      timestep: fp16 ? new ort.Tensor('float16', float32ToFloat16(Float32Array.of(999 - s)), []) : new ort.Tensor('float32', Float32Array.of(999 - s), []),
      encoder_hidden_states: hidden });
    const out = result.out_sample.data as Float32Array;
    let sum = 0;
    for (const v of out) sum += Math.abs(v);
    phase(`step${s + 1}`, { stepMs: Math.round(performance.now() - ts), outAbsMean: sum / out.length, out0: Array.from(out.subarray(0, 3)) });
  }
  await session.release();
  phase('released');
}

/** Creates and releases the session of MODEL_DIR/<component>/model.onnx twice (the re-create cost of releasing it). */
async function create(modelDir: string, component: string, threads: number): Promise<void> {
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  for (let k = 0; k < 2; k++) {
    const t = performance.now();
    const session = await ort.InferenceSession.create(path.join(modelDir, component, 'model.onnx'), sessionOptionsFor('cpu', threads));
    phase(`created ${component}`, { loadMs: Math.round(performance.now() - t) });
    if (component.startsWith('text_encoder')) {
      await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from({ length: 2 * 77 }, (_, i) => BigInt(i % 77 === 0 ? 49406 : 320 + i)), [2, 77]) });
      phase(`ran ${component}`);
    }
    await session.release();
    phase(`released ${component}`);
  }
}

/** The VAE decoder alone: one 512² decode, twice; OPTIONS_JSON as for unet, plus {"fuse": true} to fuse its attention. */
async function vae(modelDir: string, runs: number, threads: number, over: Record<string, unknown>): Promise<void> {
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  const { fuse, ...rest } = over;
  const base = sessionOptionsFor('cpu', threads);
  const options = { ...base, ...rest };
  const file = path.join(modelDir, 'vae_decoder', 'model.onnx');
  phase('start');
  const t = performance.now();
  const bytes = fuse === true ? fuseAttention(new Uint8Array(readFileSync(file))).bytes : undefined;
  const session = bytes === undefined ? await ort.InferenceSession.create(file, options) : await ort.InferenceSession.create(bytes, options);
  phase('created', { loadMs: Math.round(performance.now() - t) });
  const latent = new ort.Tensor('float32', Float32Array.from({ length: 4 * 64 * 64 }, (_, i) => Math.sin(i * 0.1)), [1, 4, 64, 64]);
  for (let k = 0; k < runs; k++) {
    const ts = performance.now();
    const out = (await session.run({ latent_sample: latent })).sample.data as Float32Array;
    phase(`decode${k + 1}`, { decodeMs: Math.round(performance.now() - ts), out0: Array.from(out.subarray(0, 3)) });
  }
}

async function engine(modelDir: string, steps: number, threads: number): Promise<void> {
  const eng = new Engine({ log: (_level, m) => phase(`log: ${m.slice(0, 80)}`) });
  phase('start');
  const out = await eng.generate({
    modelDir, prompt: 'a lighthouse on a cliff at dusk', negativePrompt: null, sampler: 'euler', steps, cfgScale: 7.5,
    seed: 1, width: 512, height: 512, batchSize: 1, initImage: null, strength: 0.75, previews: false, rng: 'cpu',
    vaeDecode: 'full', executionProvider: 'cpu', threads,
  }, { onProgress: (p) => phase(`progress ${JSON.stringify(p).slice(0, 60)}`) });
  phase('generated', { timingsMs: out.timingsMs, warnings: out.warnings });
  await eng.release();
  phase('released');
}

async function main(): Promise<void> {
  const [job, modelDir, steps, threads, json] = process.argv.slice(2);
  const over = json === undefined ? {} : JSON.parse(json) as Record<string, unknown>;
  if (job === 'unet') await unet(modelDir, Number(steps), Number(threads), over);
  else if (job === 'create') await create(modelDir, steps, Number(threads));
  else if (job === 'vae') await vae(modelDir, Number(steps), Number(threads), over);
  else if (job === 'engine') await engine(modelDir, Number(steps), Number(threads));
  else throw new Error(`unknown job ${job}`);
}

if (require.main === module) {
  main().then(() => process.exit(0), (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
