import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { downloadModel, type DownloadModelOptions } from '../../src/hub/install';
import { hfCacheDir, listHfCacheModels, repoFolderName, repoIdFromFolder } from '../../src/hub/hfCache';
import { readModelFolder } from '../../src/engine/model/modelFolder';
import { loadModel } from '../../src/engine/onnx/onnxModel';
import { buildTinyModel } from '../fixtures/tinyModel';
import { FakeHub } from '../fixtures/fakeHub';

const REPO = 'test-org/tiny-sd-onnx';
const SUB = 'other-org/pipeline-in-onnx-folder';
let root: string;
let hub: FakeHub;

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-hfcache-'));
  const dir = buildTinyModel(path.join(root, 'repo'), { externalData: true });
  // A repo whose ONNX pipeline lives in onnx/, beside PyTorch files at the root.
  const sub = path.join(root, 'sub');
  buildTinyModel(path.join(sub, 'onnx'), {});
  fs.writeFileSync(path.join(sub, 'model_index.json'), '{"_class_name":"StableDiffusionPipeline"}');
  fs.mkdirSync(path.join(sub, 'unet'));
  fs.writeFileSync(path.join(sub, 'unet', 'diffusion_pytorch_model.safetensors'), Buffer.alloc(5000, 1));
  hub = await FakeHub.start([{ repoId: REPO, dir }, { repoId: SUB, dir: sub }]);
});
after(async () => {
  await hub.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function options(cache: string, extra: Partial<DownloadModelOptions> = {}): DownloadModelOptions {
  return { repoId: REPO, layout: 'hf-cache', root: cache, client: { endpoint: hub.endpoint, retryDelaysMs: [1] }, freeSpace: async () => 1e12, ...extra };
}

function walk(dir: string, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? walk(path.join(dir, e.name), rel) : [rel];
  }).sort();
}

test('the Hugging Face cache layout: blobs by sha256 / git oid, relative snapshot links, refs/main', async () => {
  const cache = path.join(root, 'cache1');
  const model = await downloadModel(options(cache));
  const commit = hub.commit(REPO);
  const repoDir = path.join(cache, 'models--test-org--tiny-sd-onnx');
  assert.equal(model.dir, path.join(repoDir, 'snapshots', commit));
  assert.equal(fs.readFileSync(path.join(repoDir, 'refs', 'main'), 'utf8'), commit);
  assert.deepEqual(fs.readdirSync(repoDir).sort(), ['blobs', 'refs', 'snapshots'], 'no staging folder left behind');
  const files = walk(model.dir);
  assert.equal(files.length, 15);
  for (const f of files) {
    const link = path.join(model.dir, f);
    const target = fs.readlinkSync(link);
    const meta = hub.file(REPO, f);
    const blob = meta.lfs ? meta.sha256 : meta.gitOid;
    const depth = f.split('/').length - 1;
    assert.equal(target, ['..', '..', ...Array(depth).fill('..'), 'blobs', blob].join('/'), f);
    assert.equal(createHash('sha256').update(fs.readFileSync(link)).digest('hex'), meta.sha256, f);
  }
  assert.equal(fs.readdirSync(path.join(repoDir, 'blobs')).filter((b) => b.endsWith('.incomplete')).length, 0);
});

test('the engine reads and loads a model from a cache snapshot (external data through the cache\'s links)', async () => {
  const cache = path.join(root, 'cache2');
  const model = await downloadModel(options(cache));
  assert.ok(fs.lstatSync(path.join(model.dir, 'unet', 'weights.pb')).isSymbolicLink());
  const info = await readModelFolder(model.dir);
  const loaded = await loadModel(info, { executionProvider: 'cpu', threads: 1 });
  try {
    const ids = new Int32Array(77).fill(49407);
    ids[0] = 49406;
    const out = await loaded.encodeText(ids, 1);
    assert.deepEqual(out.dims, [1, 77, 16]);
    const noise = await loaded.predictNoise(new Float32Array(4 * 8 * 8).fill(0.5), [1, 4, 8, 8], 999, out.data, out.dims);
    assert.equal(noise.length, 256);
    assert.ok(noise.every(Number.isFinite));
  } finally {
    await loaded.release();
  }
});

test('a second download finds the snapshot complete and fetches no file', async () => {
  const cache = path.join(root, 'cache3');
  await downloadModel(options(cache));
  hub.requests.length = 0;
  const again = await downloadModel(options(cache));
  assert.equal(again.alreadyInstalled, true);
  assert.equal(hub.requests.filter((r) => r.path.includes('/resolve/')).length, 0);
});

test('a pipeline in an onnx/ subfolder: the cache keeps repo paths, the global layout puts it at the root', async () => {
  const cache = path.join(root, 'cache4');
  const inCache = await downloadModel(options(cache, { repoId: SUB }));
  assert.equal(inCache.dir, path.join(cache, 'models--other-org--pipeline-in-onnx-folder', 'snapshots', hub.commit(SUB), 'onnx'));
  assert.ok(walk(path.dirname(inCache.dir)).every((f) => f.startsWith('onnx/')), 'root files of the PyTorch model are skipped');
  await readModelFolder(inCache.dir);
  const global = await downloadModel(options(path.join(root, 'global4'), { repoId: SUB, layout: 'global' }));
  assert.ok(fs.existsSync(path.join(global.dir, 'model_index.json')) && fs.existsSync(path.join(global.dir, 'unet', 'model.onnx')));
  assert.ok(!fs.existsSync(path.join(global.dir, 'onnx')));
  await readModelFolder(global.dir);
});

test('lists the cache\'s snapshots that hold an ONNX pipeline, with repo id, commit, refs and family', async () => {
  const cache = path.join(root, 'cache5');
  await downloadModel(options(cache));
  await downloadModel(options(cache, { repoId: SUB }));
  // Not pipelines: a PyTorch-only snapshot and a folder that is no repo.
  fs.mkdirSync(path.join(cache, 'models--x--torch', 'snapshots', 'abc'), { recursive: true });
  fs.writeFileSync(path.join(cache, 'models--x--torch', 'snapshots', 'abc', 'model_index.json'), '{}');
  fs.mkdirSync(path.join(cache, '.locks', 'models--x--torch'), { recursive: true }); // huggingface_hub's locks (ours are there too)
  assert.deepEqual(listHfCacheModels(cache).map((m) => [m.repoId, m.commit, m.refs, path.relative(cache, m.dir), m.family]), [
    [SUB, hub.commit(SUB), ['main'], path.join(repoFolderName(SUB), 'snapshots', hub.commit(SUB), 'onnx'), 'sd1'],
    [REPO, hub.commit(REPO), ['main'], path.join(repoFolderName(REPO), 'snapshots', hub.commit(REPO)), 'sd1'],
  ]);
  assert.deepEqual(listHfCacheModels(path.join(root, 'no-such-cache')), []);
});

test('the cache folder: HF_HUB_CACHE, else HF_HOME/hub, else XDG_CACHE_HOME or ~/.cache', () => {
  assert.equal(hfCacheDir({ HF_HUB_CACHE: '/c/hub', HF_HOME: '/h' }, '/home/u'), '/c/hub');
  assert.equal(hfCacheDir({ HF_HOME: '/h' }, '/home/u'), '/h/hub');
  assert.equal(hfCacheDir({ HF_HOME: '~/hf' }, '/home/u'), '/home/u/hf/hub');
  assert.equal(hfCacheDir({ XDG_CACHE_HOME: '/x' }, '/home/u'), '/x/huggingface/hub');
  assert.equal(hfCacheDir({}, '/home/u'), '/home/u/.cache/huggingface/hub');
  assert.equal(repoFolderName('a/b'), 'models--a--b');
  assert.equal(repoIdFromFolder('models--a--b'), 'a/b');
  assert.equal(repoIdFromFolder('datasets--a--b'), undefined);
});

test('in the cache layout a cancelled blob stays as blobs/<sha256>.incomplete and is resumed; a corrupt one leaves no snapshot', async () => {
  const cache = path.join(root, 'cache6');
  const ctrl = new AbortController();
  hub.faults.throttleBytesPerSec = 2_000_000;
  const sha = hub.file(REPO, 'text_encoder/model.onnx').sha256;
  try {
    await assert.rejects(downloadModel(options(cache, {
      signal: ctrl.signal, progressIntervalMs: 0,
      onProgress: (p) => { if (p.file === 'text_encoder/model.onnx' && p.fileBytesDone > 200_000) ctrl.abort(); },
    })), /cancelled/);
  } finally {
    hub.faults.throttleBytesPerSec = 0;
  }
  const repoDir = path.join(cache, repoFolderName(REPO));
  const kept = fs.statSync(path.join(repoDir, 'blobs', `${sha}.incomplete`)).size;
  assert.ok(kept > 200_000);
  assert.equal(fs.existsSync(path.join(repoDir, 'snapshots')), false, 'no snapshot before every file is there');
  hub.requests.length = 0;
  const model = await downloadModel(options(cache));
  assert.deepEqual(hub.fileRequests('text_encoder/model.onnx').filter((r) => r.server === 'cdn').map((r) => r.range), [`bytes=${kept}-`]);
  assert.equal(createHash('sha256').update(fs.readFileSync(path.join(model.dir, 'text_encoder', 'model.onnx'))).digest('hex'), sha);

  const cache2 = path.join(root, 'cache7');
  hub.faults.corrupt.push({ match: /unet\/model\.onnx$/ });
  try {
    await assert.rejects(downloadModel(options(cache2)), /unet\/model\.onnx is corrupt .*nothing was installed/);
  } finally {
    hub.faults.corrupt.length = 0;
  }
  assert.deepEqual(fs.readdirSync(path.join(cache2, repoFolderName(REPO))).sort(), ['blobs']);
  assert.deepEqual(listHfCacheModels(cache2), []);
});
