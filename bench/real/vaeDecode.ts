/**
 * The VAE decoder alone at one size, for `npm run bench:real`: its session with the engine's options, one image's
 * latents decoded whole, in diffusers' tiles (decodeTiled, the engine's code), or through TAESD; prints one JSON line
 * with the decode ms and the process's peak RSS (minus the RSS before the decode: what the decode itself added).
 * Usage: node --import tsx bench/real/vaeDecode.ts MODEL_DIR SIZE MODE THREADS PROVIDER   (MODE: full, tiled, taesd)
 */
import * as path from 'node:path';
import { decodeTiled } from '../../src/engine/image';
import { readModelFolder } from '../../src/engine/model';
import { PreviewDecoder } from '../../src/engine/onnx';
import { createSession } from '../../src/engine/onnx/session';
import { toFloat32 } from '../../src/engine/onnx/fp16';

async function main(): Promise<void> {
  const [modelDir, sizeArg, mode, threadsArg, provider] = process.argv.slice(2);
  const info = await readModelFolder(modelDir);
  const l = Number(sizeArg) / 8;
  const latents = Float32Array.from({ length: 4 * l * l }, (_, i) => Math.fround(Math.sin(i * 0.37) * 1.5));
  const opts = { executionProvider: provider as 'cpu', threads: Number(threadsArg) };
  let decode: () => Promise<unknown>;
  let tiles = 0;
  if (mode === 'taesd') {
    const taesd = await PreviewDecoder.load(path.join(modelDir, 'taesd', 'vae_decoder', 'model.onnx'), opts);
    decode = () => taesd.decodeImages(latents, [1, 4, l, l]);
  } else {
    const vae = await createSession(path.join(modelDir, 'vae_decoder', 'model.onnx'), opts);
    const scaled = latents.map((x) => x / info.scalingFactor);
    const run = async (part: Float32Array, dims: number[]): Promise<Float32Array> =>
      toFloat32((await vae.run({ latent_sample: { type: 'float32', data: part, dims } })).sample.data);
    const tileSample = info.vaeSampleSize ?? 512;
    decode = mode === 'tiled'
      ? () => decodeTiled(scaled, [1, 4, l, l], { tileSample, tileLatent: tileSample / 8 }, (tile, dims) => run(tile, dims), (_d, total) => { tiles = total; })
      : () => run(scaled, [1, 4, l, l]);
  }
  const rssBefore = process.memoryUsage().rss;
  const t = performance.now();
  await decode();
  const ms = performance.now() - t;
  const peak = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(`${JSON.stringify({ mode, size: Number(sizeArg), ms, tiles, peakRssBytes: peak, addedBytes: peak - rssBefore })}\n`);
}

main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
