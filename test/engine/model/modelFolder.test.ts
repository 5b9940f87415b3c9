import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { ModelError } from '../../../src/engine/model/modelError';
import { modelHash, readModelFolder, SD1_PREVIEW_FACTORS } from '../../../src/engine/model/modelFolder';
import { buildTinyModel, SD15_SCHEDULER_CONFIG } from '../../fixtures/tinyModel';

let root: string;
let base: string;

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'modelFolder-test-'));
  base = buildTinyModel(path.join(root, 'tiny-sd'), {});
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** A fresh copy of the tiny model, changed by `edit`. */
function variant(name: string, edit: (dir: string) => void): string {
  const dir = path.join(root, name);
  fs.cpSync(base, dir, { recursive: true });
  edit(dir);
  return dir;
}

/** Asserts that reading `dir` fails with a ModelError of `kind` naming `file` and matching `message`. */
async function assertModelError(dir: string, kind: ModelError['kind'], file: string, message: RegExp): Promise<void> {
  await assert.rejects(readModelFolder(dir), (e: unknown) => {
    assert.ok(e instanceof ModelError, `expected a ModelError, got ${String(e)}`);
    assert.deepEqual([e.kind, e.file], [kind, file]);
    assert.match(e.message, message);
    assert.ok(e.message.includes(file), `message should name ${file}: ${e.message}`);
    return true;
  });
}

test('reads a diffusers ONNX folder into ModelInfo', async () => {
  const { scheduler, ...info } = await readModelFolder(base);
  assert.equal(scheduler?.from, info.schedulerConfig);
  assert.deepEqual([scheduler?.config._class_name, scheduler?.ownSampler, scheduler?.notes], ['PNDMScheduler', null, []]);
  assert.deepEqual(info, {
    dir: base,
    name: 'tiny-sd',
    pipelineClass: 'OnnxStableDiffusionPipeline',
    schedulerConfig: SD15_SCHEDULER_CONFIG,
    latentChannels: 4,
    vaeScaleFactor: 8,
    scalingFactor: 0.18215,
    sampleSize: 8,
    vaeSampleSize: 64,
    tokenizerDir: path.join(base, 'tokenizer'),
    hasVaeEncoder: true,
    previewFactors: { factors: SD1_PREVIEW_FACTORS.map((r) => [...r]), bias: [0, 0, 0] },
    precision: 'fp32',
  });
});

test('takes SD 1.x defaults when component configs are absent', async () => {
  const dir = variant('no-configs', (d) => {
    for (const f of ['unet/config.json', 'vae_decoder/config.json', 'vae_encoder/config.json']) fs.rmSync(path.join(d, f));
    fs.rmSync(path.join(d, 'vae_encoder'), { recursive: true });
  });
  const info = await readModelFolder(dir);
  assert.deepEqual([info.sampleSize, info.scalingFactor, info.latentChannels, info.vaeScaleFactor, info.hasVaeEncoder],
    [64, 0.18215, 4, 8, false]);
});

test('uses the folder\'s own preview.json factors', async () => {
  const factors = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5]];
  const dir = buildTinyModel(path.join(root, 'with-preview'), { preview: { factors, bias: [0.1, 0.2, 0.3] } });
  assert.deepEqual((await readModelFolder(dir)).previewFactors, { factors, bias: [0.1, 0.2, 0.3] });
});

test('rejects a preview.json with the wrong number of rows, naming it', async () => {
  const dir = variant('bad-preview', (d) => fs.writeFileSync(path.join(d, 'preview.json'), JSON.stringify({ latent_rgb_factors: [[1, 2, 3]] })));
  await assertModelError(dir, 'invalid-config', path.join(dir, 'preview.json'), /should be 4 rows/);
});

test('names a missing UNet', async () => {
  const dir = variant('no-unet', (d) => fs.rmSync(path.join(d, 'unet', 'model.onnx')));
  await assertModelError(dir, 'missing-file', path.join(dir, 'unet', 'model.onnx'), /Missing/);
});

test('names a missing tokenizer file', async () => {
  const dir = variant('no-merges', (d) => fs.rmSync(path.join(d, 'tokenizer', 'merges.txt')));
  await assertModelError(dir, 'missing-file', path.join(dir, 'tokenizer', 'merges.txt'), /vocab.json and merges.txt/);
});

test('names a missing scheduler config', async () => {
  const dir = variant('no-scheduler', (d) => fs.rmSync(path.join(d, 'scheduler'), { recursive: true }));
  await assertModelError(dir, 'missing-file', path.join(dir, 'scheduler', 'scheduler_config.json'), /Missing/);
});

test('an SDXL folder needs text_encoder_2/model.onnx and tokenizer_2/', async () => {
  const dir = variant('sdxl', (d) => fs.mkdirSync(path.join(d, 'text_encoder_2')));
  await assertModelError(dir, 'missing-file', path.join(dir, 'text_encoder_2', 'model.onnx'), /Missing/);
  fs.copyFileSync(path.join(dir, 'text_encoder', 'model.onnx'), path.join(dir, 'text_encoder_2', 'model.onnx'));
  await assertModelError(dir, 'missing-file', path.join(dir, 'tokenizer_2', 'vocab.json'), /second tokenizer/);
});

test('says an SDXL refiner is not supported, naming model_index.json', async () => {
  const refiner = { _class_name: 'StableDiffusionXLImg2ImgPipeline', requires_aesthetics_score: true, force_zeros_for_empty_prompt: false,
    text_encoder: [null, null], tokenizer: [null, null], text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'] };
  const dir = variant('refiner', (d) => {
    fs.writeFileSync(path.join(d, 'model_index.json'), JSON.stringify(refiner));
    fs.rmSync(path.join(d, 'text_encoder'), { recursive: true });
  });
  await assertModelError(dir, 'unsupported', path.join(dir, 'model_index.json'), /XL refiner.*requires_aesthetics_score/);
});

test('reads an inpainting UNet (in_channels 9) as 4 latent channels plus mask inputs; without a VAE encoder it names the file', async () => {
  const dir = variant('inpaint', (d) => fs.writeFileSync(path.join(d, 'unet', 'config.json'), JSON.stringify({ in_channels: 9 })));
  const hasEncoder = fs.existsSync(path.join(dir, 'vae_encoder', 'model.onnx'));
  if (hasEncoder) {
    const info = await readModelFolder(dir);
    assert.equal(info.inpainting, true);
    assert.equal(info.latentChannels, 4);
    fs.rmSync(path.join(dir, 'vae_encoder'), { recursive: true });
  }
  await assertModelError(dir, 'missing-file', path.join(dir, 'vae_encoder', 'model.onnx'), /inpainting UNet.*VAE encoder/);
});

test('says a folder without model_index.json or components is not a model', async () => {
  const dir = path.join(root, 'empty');
  fs.mkdirSync(dir);
  await assertModelError(dir, 'not-a-model', dir, /not a model folder: expected model_index.json/);
  await assertModelError(path.join(root, 'nowhere'), 'missing-file', path.join(root, 'nowhere'), /does not exist/);
});

test('names a components folder that lacks model_index.json', async () => {
  const dir = variant('no-index', (d) => fs.rmSync(path.join(d, 'model_index.json')));
  await assertModelError(dir, 'missing-file', path.join(dir, 'model_index.json'), /Missing/);
});

test('names a model_index.json that is not JSON', async () => {
  const dir = variant('bad-index', (d) => fs.writeFileSync(path.join(d, 'model_index.json'), '{"_class_name": '));
  await assertModelError(dir, 'invalid-config', path.join(dir, 'model_index.json'), /not valid JSON/);
});

test('tells a non-ONNX file apart: text, empty, Git LFS pointer', async () => {
  const file = (d: string): string => path.join(d, 'vae_decoder', 'model.onnx');
  const html = variant('html-onnx', (d) => fs.writeFileSync(file(d), '<!DOCTYPE html><html>Not found</html>'));
  await assertModelError(html, 'invalid-onnx', file(html), /not an ONNX model \(it looks like text/);
  const empty = variant('empty-onnx', (d) => fs.writeFileSync(file(d), ''));
  await assertModelError(empty, 'invalid-onnx', file(empty), /is empty/);
  const lfs = variant('lfs-onnx', (d) => fs.writeFileSync(file(d), 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 3\n'));
  await assertModelError(lfs, 'invalid-onnx', file(lfs), /Git LFS pointer/);
});

test('modelHash is the first 10 hex chars of sha256(unet/model.onnx), cached by path, size and mtime', async () => {
  const dir = variant('hash', () => undefined);
  const unetFile = path.join(dir, 'unet', 'model.onnx');
  const cacheDir = path.join(root, 'hash-cache');
  const want = createHash('sha256').update(fs.readFileSync(unetFile)).digest('hex').slice(0, 10);
  assert.equal(await modelHash(dir, cacheDir), want);
  const cached: unknown = JSON.parse(fs.readFileSync(path.join(cacheDir, 'inline-diffusion-model-hashes.json'), 'utf8'));
  assert.deepEqual(Object.values(cached as Record<string, string>), [want]);

  fs.appendFileSync(unetFile, Buffer.from([0]));
  const changed = createHash('sha256').update(fs.readFileSync(unetFile)).digest('hex').slice(0, 10);
  assert.notEqual(changed, want);
  assert.equal(await modelHash(dir, cacheDir), changed);
});

test('modelHash takes its entry from the cache file when it is valid, and hashes again when it is not', async () => {
  const cacheDir = path.join(root, 'planted-cache');
  fs.mkdirSync(cacheDir);
  const keyOf = (dir: string): string => {
    const file = path.resolve(dir, 'unet', 'model.onnx');
    const st = fs.statSync(file);
    return `${file}|${st.size}|${Math.round(st.mtimeMs)}`;
  };
  const planted = variant('hash-planted', () => undefined);
  const broken = variant('hash-broken', () => undefined);
  const want = createHash('sha256').update(fs.readFileSync(path.join(broken, 'unet', 'model.onnx'))).digest('hex').slice(0, 10);
  fs.writeFileSync(path.join(cacheDir, 'inline-diffusion-model-hashes.json'), JSON.stringify({
    other: 'not a hash', [keyOf(planted)]: 'abcdef0123', [keyOf(broken)]: 'NOT-A-HASH',
  }));
  assert.equal(await modelHash(planted, cacheDir), 'abcdef0123', 'the cached entry is used (the file is not hashed)');
  assert.equal(await modelHash(broken, cacheDir), want, 'an invalid entry is not');
  const kept = JSON.parse(fs.readFileSync(path.join(cacheDir, 'inline-diffusion-model-hashes.json'), 'utf8')) as Record<string, string>;
  assert.deepEqual(kept, { [keyOf(planted)]: 'abcdef0123', [keyOf(broken)]: want }, 'rewriting keeps the valid entries only');
});

test('points at a model one level down (an onnx/ subfolder or a Hugging Face snapshot)', async () => {
  const outer = path.join(root, 'hf-cache');
  fs.cpSync(base, path.join(outer, 'snapshots', 'abc123'), { recursive: true });
  await assertModelError(outer, 'not-a-model', outer, new RegExp(`but ${path.join(outer, 'snapshots', 'abc123')} looks like one`));
});
