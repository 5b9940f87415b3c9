/**
 * The bare ONNX Runtime UNet of a generation, for `npm run bench:real`: one session with the engine's options
 * (sessionOptionsFor) or a variant of them, STEPS calls on the CFG batch (2×4×h×w) — no engine code in the loop.
 * Prints one JSON line: load ms, each call's ms, peak RSS.
 * Usage: node --import tsx bench/real/bareUnet.ts MODEL_DIR STEPS THREADS SIZE VARIANT PROVIDER
 *   VARIANT: engine (sessionOptionsFor, attention fused as the engine does), unfused (the graph as it is), mempattern-on,
 *   arena-off
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attentionFusable, fuseAttention } from '../../src/engine/model';
import { sessionOptionsFor } from '../../src/engine/onnx';
import { float32ToFloat16 } from '../../src/engine/onnx/fp16';

async function main(): Promise<void> {
  const [modelDir, stepsArg, threadsArg, sizeArg, variant, provider] = process.argv.slice(2);
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  const options = { ...sessionOptionsFor(provider, Number(threadsArg)) };
  if (variant === 'mempattern-on') options.enableMemPattern = true;
  if (variant === 'arena-off') options.enableCpuMemArena = false;
  const file = path.join(modelDir, 'unet', 'model.onnx');
  const t0 = performance.now();
  // as the engine loads it: the graph's attention fused in memory where it can be (src/engine/model/attentionFusion.ts)
  const fused = variant === 'unfused' || !attentionFusable(file) ? undefined : fuseAttention(new Uint8Array(fs.readFileSync(file))).bytes;
  if (fused !== undefined) {
    const extra = options.extra as { session: Record<string, unknown> };
    options.extra = { ...extra, session: { ...extra.session, model_external_initializers_file_folder_path: path.dirname(file) } };
  }
  const unet = fused === undefined ? await ort.InferenceSession.create(file, options) : await ort.InferenceSession.create(fused, options);
  const loadMs = performance.now() - t0;
  const fp16 = unet.inputMetadata.find((m) => m.name === 'sample')?.isTensor && (unet.inputMetadata.find((m) => m.name === 'sample') as { type: string }).type === 'float16';
  const l = Number(sizeArg) / 8;
  const n = 2 * 4 * l * l;
  const floats = (count: number, dims: number[]): import('onnxruntime-node').Tensor => {
    const data = Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.1));
    return fp16 ? new ort.Tensor('float16', float32ToFloat16(data), dims) : new ort.Tensor('float32', data, dims);
  };
  const hMeta = unet.inputMetadata.find((m) => m.name === 'encoder_hidden_states') as { shape?: readonly (number | string)[] } | undefined;
  const width = typeof hMeta?.shape?.[2] === 'number' ? hMeta.shape[2] : 768;
  const hidden = floats(2 * 77 * width, [2, 77, width]);
  const stepMs: number[] = [];
  for (let s = 0; s < Number(stepsArg); s++) {
    const t = performance.now();
    await unet.run({ sample: floats(n, [2, 4, l, l]), timestep: fp16 ? new ort.Tensor('float16', float32ToFloat16(Float32Array.of(999 - s)), []) : new ort.Tensor('float32', Float32Array.of(999 - s), []), encoder_hidden_states: hidden });
    stepMs.push(performance.now() - t);
  }
  process.stdout.write(`${JSON.stringify({ variant, fused: fused !== undefined, loadMs, stepMs, peakRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
}

main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
