import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { catalogDownload, parseCatalog, precisionLabel, readCatalog } from '../../src/hub/downloadCatalog';
import { type FamilyInfo, recommendedSettings } from '../../src/engine/model/modelFamily';
import { downloadModel, type PinnedFile } from '../../src/hub/install';
import { buildTinyModel } from '../fixtures/tinyModel';
import { FakeHub } from '../fixtures/fakeHub';

const CATALOG = path.resolve(__dirname, '../../models/catalog.json');

test('models/catalog.json is valid and lists the models issue 5 names', () => {
  const catalog = readCatalog(CATALOG);
  assert.deepEqual(catalog.models.map((m) => [m.repo, m.family, m.role]), [
    ['nmkd/stable-diffusion-1.5-onnx-fp16', 'sd1', 'pipeline'],
    ['onnx-community/stable-diffusion-v1-5-ONNX', 'sd1', 'pipeline'],
    ['schmuell/sd-turbo-ort-web', 'sd-turbo', 'pipeline'],
    ['stabilityai/sdxl-turbo', 'sdxl', 'pipeline'],
    ['TheyCallMeHex/LCM-Dreamshaper-V7-ONNX', 'lcm', 'pipeline'],
    ['SimianLuo/LCM_Dreamshaper_v7', 'lcm', 'pipeline'],
    ['julienkay/stable-diffusion-2-1', 'sd2', 'pipeline'],
    ['jdp8/optimum-sd-inpainting-onnx-fp16', 'sd1', 'pipeline'],
    ['deinferno/taesd-onnx', 'sd1', 'preview-decoder'],
    ['latent-consistency/lcm-lora-sdv1-5', 'sd1', 'lora'],
    ['latent-consistency/lcm-lora-sdxl', 'sdxl', 'lora'],
  ]);
  assert.deepEqual(catalog.models.filter((m) => m.role === 'lora').map((m) => m.lcm), [true, true]);
  // The LCM-LoRAs are pinned to a commit, and their one file to its size and sha256 (checked at download).
  for (const m of catalog.models.filter((e) => e.role === 'lora')) {
    assert.match(m.revision, /^[0-9a-f]{40}$/, m.id);
    const [file] = m.files as PinnedFile[];
    assert.match(file.sha256 ?? '', /^[0-9a-f]{64}$/, m.id);
    assert.equal(file.size, m.approxBytes, m.id);
  }
  // A branch revision must say why it is not a commit.
  for (const m of catalog.models) if (!/^[0-9a-f]{40}$/.test(m.revision)) assert.ok(m.revisionNote, `${m.id} needs a revisionNote`);
});

test('catalog entries recommend what the family recommends (sampler, steps, guidance)', () => {
  // SDXL-Turbo is SDXL by its configs, distilled by its name or trailing spacing (detectModelFamily).
  const xlTurbo: FamilyInfo = { family: 'sdxl', predictionType: 'epsilon', nativeSize: 512, crossAttentionDim: 2048, isDistilled: true, timeCondProjDim: null, padToken: null, evidence: [] };
  for (const m of readCatalog(CATALOG).models) {
    if (m.recommended === undefined) continue;
    const r = recommendedSettings(m.family === 'sdxl' && /turbo/.test(m.id) ? xlTurbo : m.family);
    assert.deepEqual([m.recommended.sampler, m.recommended.steps, m.recommended.cfgScale], [r.sampler, r.steps, r.cfgScale], m.id);
  }
});

test('every problem of a bad catalog is listed with its entry', () => {
  const good = readCatalog(CATALOG).models[0];
  assert.throws(() => parseCatalog({ version: 2, models: [
    { ...good, id: 'Bad Id', repo: 'no-slash', family: 'sd3', files: [{ path: 'a', sha256: 'xyz' }] },
    { ...good, recommended: { ...good.recommended, width: 500, sampler: 'fast' } },
    good,
  ] }, 'cat.json'), (e: Error) => {
    assert.equal(e.message, [
      'Invalid model catalog:',
      'cat.json: "version" should be 1, found 2',
      'cat.json models[0] (Bad Id): "id" should be a lower-case id (a-z, 0-9, ".", "-"), found "Bad Id"',
      'cat.json models[0] (Bad Id): "repo" should be "owner/name", found "no-slash"',
      'cat.json models[0] (Bad Id): "files" should be "auto" or a list of { "path", optional "sha256" (64 hex digits), optional "size" (bytes) }, found [{"path":"a","sha256":"xyz"}]',
      'cat.json models[0] (Bad Id): "family" should be one of sd1, sd2, sd-turbo, lcm, sdxl, found "sd3"',
      `cat.json models[1] (${good.id}): "recommended.sampler" should be one of euler, euler_a, heun, lms, dpmpp_2m, dpmpp_2m_karras, ddim, plms, ddpm, lcm, unipc, found "fast"`,
      `cat.json models[1] (${good.id}): "recommended.width" should be a positive multiple of 8, found 500`,
      `cat.json models[2]: id "${good.id}" is used twice`,
    ].join('\n'));
    return true;
  });
});

test('a catalog entry with pinned files downloads those files, checked against the pinned sha256', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-catalog-'));
  const dir = buildTinyModel(path.join(root, 'taesd'), {});
  const hub = await FakeHub.start([{ repoId: 'deinferno/taesd-onnx', dir }]);
  try {
    const entry = readCatalog(CATALOG).models.find((m) => m.id === 'taesd')!;
    const model = await downloadModel({ ...catalogDownload(entry), layout: 'global', root: path.join(root, 'out'), client: { endpoint: hub.endpoint }, freeSpace: async () => 1e12 });
    assert.deepEqual(model.files.map((f) => f.path), ['vae_decoder/model.onnx']);
    assert.equal(fs.readFileSync(path.join(model.dir, 'vae_decoder', 'model.onnx')).length, hub.file('deinferno/taesd-onnx', 'vae_decoder/model.onnx').size);
    const pinned = { ...catalogDownload(entry), files: [{ path: 'vae_decoder/model.onnx', sha256: '0'.repeat(64) }] };
    await assert.rejects(downloadModel({ ...pinned, layout: 'global', root: path.join(root, 'out2'), client: { endpoint: hub.endpoint }, freeSpace: async () => 1e12 }),
      /deinferno\/taesd-onnx\/vae_decoder\/model\.onnx: the catalog expects sha256 0{64}, the Hub lists [0-9a-f]{64} \(the repo changed\?\)/);
    const size = hub.file('deinferno/taesd-onnx', 'vae_decoder/model.onnx').size;
    const sized = { ...catalogDownload(entry), files: [{ path: 'vae_decoder/model.onnx', size: size + 1 }] };
    await assert.rejects(downloadModel({ ...sized, layout: 'global', root: path.join(root, 'out3'), client: { endpoint: hub.endpoint }, freeSpace: async () => 1e12 }),
      new RegExp(`vae_decoder/model\\.onnx: the catalog expects ${size + 1} bytes, the Hub lists ${size} \\(the repo changed\\?\\)`));
  } finally {
    await hub.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('the download list marks fp32 as the CPU choice and fp16 as converted to fp32 on the CPU (issue 15)', () => {
  assert.equal(precisionLabel('fp32'), 'fp32 (the CPU choice)');
  assert.match(precisionLabel('fp16'), /for GPUs: on the CPU converted once to fp32/);
});
