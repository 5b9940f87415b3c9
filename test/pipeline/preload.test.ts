/**
 * Engine.preload (issue 15: after a cancel kills the engine mid-step, the host starts a new one and loads the model
 * there at once): it creates the sessions a generation with that request needs, and the generation that follows
 * creates none of them again. Sessions are seen through an onnxruntime-node wrapper (INLINE_DIFFUSION_ORT_NODE)
 * that records each session's input names, on the tiny real-architecture SD 1.5.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { Engine } from '../../src/engine/engine';
import type { GenerateRequest } from '../../src/protocol/engineMessages';
import { ORT_OVERRIDE_ENV } from '../../src/protocol/engineEnv';
import { realArchModel } from '../fixtures/realArch';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preload-'));
const recorder = path.join(dir, 'recordingOrt.cjs');
fs.writeFileSync(recorder, `
const ort = require(${JSON.stringify(require.resolve('onnxruntime-node'))});
globalThis.__createdSessions = [];
const create = ort.InferenceSession.create.bind(ort.InferenceSession);
ort.InferenceSession.create = async (source, options) => {
  const session = await create(source, options);
  globalThis.__createdSessions.push(session.inputNames.join(','));
  return session;
};
module.exports = ort;
`);
process.env[ORT_OVERRIDE_ENV] = recorder;
const engine = new Engine();
after(async () => {
  await engine.release();
  fs.rmSync(dir, { recursive: true, force: true });
});

const created = (): string[] => (globalThis as unknown as { __createdSessions: string[] }).__createdSessions;
const isUnet = (inputs: string): boolean => inputs.includes('timestep');
const isVaeDecoder = (inputs: string): boolean => inputs === 'latent_sample';

function request(): GenerateRequest {
  return {
    modelDir: realArchModel('sd15', 'optimum-old'), prompt: 'a boat', negativePrompt: null, sampler: 'euler', steps: 2, cfgScale: 7,
    seed: 1, width: 64, height: 64, batchSize: 1, initImage: null, strength: 0.75, previews: false, rng: 'cpu', executionProvider: 'cpu', threads: 1,
  };
}

test('preload loads the UNet and the VAE decoder, makes no image, and the generation after it loads neither again', async () => {
  const loadMs = await engine.preload(request());
  assert.ok(loadMs > 0, `${loadMs}`);
  const byPreload = created().slice();
  assert.equal(byPreload.filter(isUnet).length, 1, byPreload.join(' | '));
  assert.equal(byPreload.filter(isVaeDecoder).length, 1, byPreload.join(' | '));
  const output = await engine.generate(request());
  assert.equal(output.images.length, 1);
  const byGenerate = created().slice(byPreload.length);
  assert.deepEqual(byGenerate.filter((s) => isUnet(s) || isVaeDecoder(s)), [], byGenerate.join(' | '));
});

test('a preload of a request that cannot run fails as that generation would, and a cancelled one stops', async () => {
  await assert.rejects(engine.preload({ ...request(), modelDir: path.join(dir, 'missing') }), /missing/);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(engine.preload(request(), { signal: controller.signal }), /cancel/i);
});
