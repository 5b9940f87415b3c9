// The bare ONNX Runtime work one CLI generation needs, as a plain Node process (no TypeScript, no engine code):
// text encoder once on [uncond; cond], the UNet once per step on the doubled batch, the VAE decoder once.
// Same session options and thread count as the engine. Usage: node bench/bareOrt.mjs MODEL_DIR STEPS THREADS WIDTH HEIGHT
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';

const require = createRequire(import.meta.url);
process.env.ORT_DISABLE_TELEMETRY ??= '1'; // as the engine does (src/engine/onnx/session.ts)
const ort = require('onnxruntime-node');
const [modelDir, stepsArg, threadsArg, widthArg, heightArg] = process.argv.slice(2);
const steps = Number(stepsArg), threads = Number(threadsArg), width = Number(widthArg), height = Number(heightArg);

const options = {
  executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
  graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};
const open = (part) => ort.InferenceSession.create(path.join(modelDir, part, 'model.onnx'), options);
const textEncoder = await open('text_encoder');
const unet = await open('unet');
const vae = await open('vae_decoder');
const vaeConfig = JSON.parse(fs.readFileSync(path.join(modelDir, 'vae_decoder', 'config.json'), 'utf8'));

const meta = (session, name) => session.inputMetadata.find((m) => m.name === name);
const idsMeta = meta(textEncoder, 'input_ids');
const ids = idsMeta.type === 'int64' ? new BigInt64Array(2 * 77).fill(1n) : new Int32Array(2 * 77).fill(1);
const hidden = (await textEncoder.run({ input_ids: new ort.Tensor(idsMeta.type, ids, [2, 77]) })).last_hidden_state;

const h = height / 8, w = width / 8;
const latents = new Float32Array(4 * h * w).map(() => Math.random() * 2 - 1);
const tMeta = meta(unet, 'timestep');
const tLength = tMeta.shape.length === 0 ? 0 : (typeof tMeta.shape[0] === 'number' ? tMeta.shape[0] : 2);
const timestepTensor = (t) => {
  const dims = tMeta.shape.length === 0 ? [] : [tLength];
  const n = Math.max(1, tLength);
  if (tMeta.type === 'int64') return new ort.Tensor('int64', new BigInt64Array(n).fill(BigInt(t)), dims);
  return new ort.Tensor('float32', new Float32Array(n).fill(t), dims);
};
for (let i = 0; i < steps; i++) {
  const doubled = new Float32Array(2 * latents.length);
  doubled.set(latents);
  doubled.set(latents, latents.length);
  const out = (await unet.run({
    sample: new ort.Tensor('float32', doubled, [2, 4, h, w]),
    timestep: timestepTensor(999 - i * Math.floor(1000 / steps)),
    encoder_hidden_states: hidden,
  })).out_sample.data;
  for (let j = 0; j < latents.length; j++) latents[j] += 0.01 * (out[j] - out[j + latents.length]);
}
const scaled = latents.map((x) => x / (vaeConfig.scaling_factor ?? 0.18215));
await vae.run({ latent_sample: new ort.Tensor('float32', scaled, [1, 4, h, w]) });
