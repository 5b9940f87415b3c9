/**
 * The options every ONNX Runtime session of a generation is created with (issue 15's memory figures): recorded by
 * an onnxruntime-node wrapper loaded through INLINE_DIFFUSION_ORT_NODE, on the tiny real-architecture SD 1.5 with
 * its TAESD (text encoder, UNet, VAE decoder, TAESD).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { Engine } from '../../src/engine/engine';
import { sessionOptionsFor } from '../../src/engine/onnx';
import { EXTERNAL_DATA_FOLDER_KEY } from '../../src/engine/onnx/session';
import { ORT_OVERRIDE_ENV } from '../../src/protocol/engineEnv';
import { REAL_ARCH_DIR, realArchModel } from '../fixtures/realArch';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'session-options-'));
const recorder = path.join(dir, 'recordingOrt.cjs');
fs.writeFileSync(recorder, `
const ort = require(${JSON.stringify(require.resolve('onnxruntime-node'))});
globalThis.__recordedSessionOptions = [];
const create = ort.InferenceSession.create.bind(ort.InferenceSession);
ort.InferenceSession.create = (source, options) => {
  globalThis.__recordedSessionOptions.push({ fromBytes: typeof source !== 'string', options });
  return create(source, options);
};
module.exports = ort;
`);
process.env[ORT_OVERRIDE_ENV] = recorder;
const model = path.join(dir, 'model');
fs.cpSync(realArchModel('sd15', 'optimum-old'), model, { recursive: true, dereference: true });
fs.cpSync(path.join(REAL_ARCH_DIR, 'taesd'), path.join(model, 'taesd'), { recursive: true });
const engine = new Engine();
after(async () => {
  await engine.release();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('every session: memory pattern off, one inter-op thread, sequential, no spinning — sessionOptionsFor; the UNet fused from bytes, its external data read from its folder', async () => {
  await engine.generate({
    modelDir: model, prompt: 'a boat', negativePrompt: null, sampler: 'euler', steps: 1, cfgScale: 7, seed: 1,
    width: 64, height: 64, batchSize: 1, initImage: null, strength: 0.75, previews: true, rng: 'cpu', vaeDecode: 'fast',
    executionProvider: 'cpu', threads: 1,
  });
  const recorded = (globalThis as unknown as { __recordedSessionOptions: { fromBytes: boolean; options: { extra: { session: Record<string, unknown> } } }[] })
    .__recordedSessionOptions;
  assert.equal(recorded.length, 4, 'text encoder, UNet, VAE decoder, TAESD');
  const base = sessionOptionsFor('cpu', 1) as { extra: { session: Record<string, unknown> } };
  assert.deepEqual(recorded.map((r) => r.fromBytes), [true, false, false, false], 'the UNet (first) from its fused bytes');
  assert.deepEqual(recorded[0].options, { ...base, extra: { session: { ...base.extra.session, [EXTERNAL_DATA_FOLDER_KEY]: path.join(model, 'unet') } } });
  for (const { options } of recorded.slice(1)) assert.deepEqual(options, base);
  for (const { options } of recorded) assert.equal((options as { enableMemPattern?: boolean }).enableMemPattern, false);
});
