/**
 * When each ONNX Runtime session of a generation exists (issue 15's memory goal): recorded by an onnxruntime-node
 * wrapper loaded through INLINE_DIFFUSION_ORT_NODE, on the tiny real-architecture SD 1.5. The text encoder is let go
 * as soon as the prompts are encoded (before the first UNet call) and created again by the next generation; txt2img
 * never opens the VAE encoder. Engine.preload (sent after a cancel killed the engine) creates what a generation of
 * its request needs, so the generation after it creates neither the UNet nor the VAE decoder again.
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

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'session-lifetimes-'));
const recorder = path.join(dir, 'recordingOrt.cjs');
fs.writeFileSync(recorder, `
const path = require('node:path');
const ort = require(${JSON.stringify(require.resolve('onnxruntime-node'))});
const events = globalThis.__sessionEvents = [];
const create = ort.InferenceSession.create.bind(ort.InferenceSession);
ort.InferenceSession.create = async (source, options) => {
  const folder = typeof source === 'string' ? path.dirname(source) : options.extra.session.model_external_initializers_file_folder_path;
  const name = path.basename(folder);
  const session = await create(source, options);
  events.push('create ' + name);
  const run = session.run.bind(session);
  session.run = (...args) => { events.push('run ' + name); return run(...args); };
  const release = session.release.bind(session);
  session.release = () => { events.push('release ' + name); return release(); };
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

const request = (prompt: string, modelDir = realArchModel('sd15', 'optimum')): GenerateRequest => ({
  modelDir, prompt, negativePrompt: null, sampler: 'euler', steps: 2, cfgScale: 7, seed: 1,
  width: 64, height: 64, batchSize: 1, initImage: null, strength: 0.75, previews: false, rng: 'cpu', vaeDecode: 'full',
  executionProvider: 'cpu', threads: 1,
});
const generate = (prompt: string): Promise<unknown> => engine.generate(request(prompt));

test('the text encoder is released after encoding, before the first UNet call, and created again by the next generation', async () => {
  await generate('a boat');
  // the recorder is loaded with ONNX Runtime, on the first session
  const events = (globalThis as unknown as { __sessionEvents: string[] }).__sessionEvents;
  const first = events.splice(0);
  assert.deepEqual(first.filter((e) => e.startsWith('create')), ['create unet', 'create text_encoder', 'create vae_decoder']);
  const released = first.indexOf('release text_encoder');
  assert.ok(released > first.indexOf('run text_encoder') && released < first.indexOf('run unet'), first.join(', '));
  assert.ok(!first.includes('release unet') && !first.includes('release vae_decoder'), 'the UNet and VAE decoder stay loaded');

  await generate('a house');
  const second = events.splice(0);
  assert.deepEqual(second.filter((e) => e.startsWith('create')), ['create text_encoder'], 'only the text encoder is created again');
  // the prompt and the negative prompt are encoded one run each
  assert.deepEqual(second.filter((e) => !e.startsWith('run unet')),
    ['create text_encoder', 'run text_encoder', 'run text_encoder', 'release text_encoder', 'run vae_decoder']);
  assert.ok(second.indexOf('release text_encoder') < second.indexOf('run unet'), second.join(', '));
  assert.ok(!first.concat(second).some((e) => e.includes('vae_encoder')), 'txt2img never opens the VAE encoder');
});

test('preload creates the UNet and the VAE decoder without running them, and the generation after it creates neither again', async () => {
  const events = (globalThis as unknown as { __sessionEvents: string[] }).__sessionEvents;
  const fresh = new Engine();
  try {
    events.splice(0);
    assert.ok(await fresh.preload(request('a boat')) > 0);
    const byPreload = events.splice(0);
    assert.ok(byPreload.includes('create unet') && byPreload.includes('create vae_decoder'), byPreload.join(', '));
    assert.ok(!byPreload.some((e) => e.startsWith('run')), 'no image is made');
    const output = await fresh.generate(request('a boat'));
    assert.equal(output.images.length, 1);
    const byGenerate = events.splice(0);
    assert.ok(!byGenerate.includes('create unet') && !byGenerate.includes('create vae_decoder'), byGenerate.join(', '));
  } finally {
    await fresh.release();
  }
});

test('a preload of a request that cannot run fails as that generation would, and a cancelled one stops', async () => {
  const fresh = new Engine();
  await assert.rejects(fresh.preload(request('a boat', path.join(dir, 'missing'))), /missing/);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(fresh.preload(request('a boat'), { signal: controller.signal }), /cancel/i);
});
