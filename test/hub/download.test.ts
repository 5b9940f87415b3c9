import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { downloadModel, type DownloadModelOptions, globalModelDir, readManifest } from '../../src/hub/install';
import { HubError } from '../../src/hub/hubError';
import type { DownloadProgress } from '../../src/hub/progress';
import { readModelFolder } from '../../src/engine/model/modelFolder';
import { buildTinyModel } from '../fixtures/tinyModel';
import { FakeHub } from '../fixtures/fakeHub';

const REPO = 'test-org/tiny-sd-onnx';
let root: string;
let repoDir: string;
let hub: FakeHub;
let n = 0;

/** The pipeline files the downloader should fetch from REPO (everything else there is junk it must skip). */
const PIPELINE = [
  'model_index.json', 'scheduler/scheduler_config.json', 'text_encoder/config.json', 'text_encoder/model.onnx',
  'tokenizer/merges.txt', 'tokenizer/special_tokens_map.json', 'tokenizer/tokenizer_config.json', 'tokenizer/vocab.json',
  'unet/config.json', 'unet/model.onnx', 'unet/weights.pb', 'vae_decoder/config.json', 'vae_decoder/model.onnx',
  'vae_encoder/config.json', 'vae_encoder/model.onnx',
].sort();

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-download-'));
  repoDir = buildTinyModel(path.join(root, 'repo'), { externalData: true });
  // What real repos carry beside the ONNX pipeline: never downloaded.
  fs.writeFileSync(path.join(repoDir, 'README.md'), '# tiny\n');
  fs.writeFileSync(path.join(repoDir, 'unet', 'diffusion_pytorch_model.safetensors'), Buffer.alloc(3000, 7));
  fs.mkdirSync(path.join(repoDir, 'safety_checker'));
  fs.copyFileSync(path.join(repoDir, 'vae_decoder', 'model.onnx'), path.join(repoDir, 'safety_checker', 'model.onnx'));
  fs.copyFileSync(path.join(repoDir, 'text_encoder', 'model.onnx'), path.join(repoDir, 'text_encoder', 'model_layernorm.onnx'));
  hub = await FakeHub.start([{ repoId: REPO, dir: repoDir }, { repoId: 'gated/model', dir: repoDir, requiredToken: 'hf_SECRETtoken123' }]);
});
after(async () => {
  await hub.close();
  fs.rmSync(root, { recursive: true, force: true });
});
afterEach(() => hub.reset());

/** A fresh install root for one test. */
function freshRoot(): string {
  return fs.mkdtempSync(path.join(root, `install-${n++}-`));
}

function options(installRoot: string, extra: Partial<DownloadModelOptions> = {}): DownloadModelOptions {
  return { repoId: REPO, layout: 'global', root: installRoot, client: { endpoint: hub.endpoint, retryDelaysMs: [1, 1, 1] }, freeSpace: async () => 1e12, ...extra };
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function listFiles(dir: string, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? listFiles(path.join(dir, e.name), rel) : [rel];
  }).sort();
}

async function rejectsWith(p: Promise<unknown>, kind: HubError['kind'], message: RegExp): Promise<HubError> {
  let caught: unknown;
  await assert.rejects(p, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof HubError, `expected a HubError, got ${String(caught)}`);
  assert.equal(caught.kind, kind, caught.message);
  assert.match(caught.message, message);
  return caught;
}

test('downloads the pipeline files only, verified, into <root>/<owner>--<name> with a manifest', async () => {
  const dest = freshRoot();
  const events: DownloadProgress[] = [];
  const model = await downloadModel(options(dest, { onProgress: (p) => events.push(p), progressIntervalMs: 0 }));
  assert.equal(model.dir, path.join(dest, 'test-org--tiny-sd-onnx'));
  assert.deepEqual(listFiles(model.dir), [...PIPELINE, 'manifest.json'].sort());
  for (const f of PIPELINE) assert.equal(sha256(path.join(model.dir, f)), hub.file(REPO, f).sha256, f);
  const manifest = readManifest(model.dir)!;
  assert.deepEqual([manifest.repo, manifest.revision, manifest.commit, manifest.subfolder], [REPO, 'main', hub.commit(REPO), '']);
  assert.deepEqual(manifest.files.map((f) => [f.path, f.size]), PIPELINE.map((f) => [f, hub.file(REPO, f).size]));
  assert.equal(manifest.files.find((f) => f.path === 'unet/weights.pb')!.sha256, hub.file(REPO, 'unet/weights.pb').sha256);
  assert.ok(!Number.isNaN(Date.parse(manifest.installedAt)));
  assert.deepEqual(fs.readdirSync(dest), ['test-org--tiny-sd-onnx'], 'no .partial folder left behind');
  // Progress: bytes only grow, the total is the pipeline's size, the last event is 'done' at 100 %.
  const total = PIPELINE.reduce((s, f) => s + hub.file(REPO, f).size, 0);
  assert.ok(events.length > PIPELINE.length);
  assert.ok(events.every((e) => e.bytesTotal === total && e.fileCount === PIPELINE.length));
  for (let i = 1; i < events.length; i++) assert.ok(events[i].bytesDone >= events[i - 1].bytesDone, `event ${i} went back`);
  assert.deepEqual([events.at(-1)!.phase, events.at(-1)!.bytesDone], ['done', total]);
  // Files came at the pinned commit, not at "main"; the engine reads the result.
  assert.ok(hub.requests.filter((r) => r.path.includes('/resolve/')).every((r) => r.path.includes(`/resolve/${hub.commit(REPO)}/`)));
  const info = await readModelFolder(model.dir);
  assert.equal(info.name, 'test-org--tiny-sd-onnx');
});

test('a second download of the same commit finds it installed and fetches nothing', async () => {
  const dest = freshRoot();
  await downloadModel(options(dest));
  hub.requests.length = 0;
  const again = await downloadModel(options(dest));
  assert.equal(again.alreadyInstalled, true);
  assert.deepEqual(hub.requests.map((r) => r.path), [`/api/models/${REPO}/revision/main?blobs=true`]);
});

/**
 * Two requests, the second a Range from the bytes the client had written when the server cut it off after `sent`:
 * all of them on a quiet machine, a little fewer on a loaded one (the fetch body's queued chunks are discarded with
 * the connection's error before the client writes them), never more and never none.
 */
function assertResumedWithin(ranges: ReadonlyArray<string | undefined>, sent: number): void {
  assert.equal(ranges.length, 2, `two requests, got ${JSON.stringify(ranges)}`);
  assert.equal(ranges[0], undefined);
  const m = /^bytes=(\d+)-$/.exec(ranges[1] ?? '');
  assert.ok(m !== null, `a Range request from a byte on, got ${ranges[1]}`);
  const from = Number(m[1]);
  assert.ok(from > 0 && from <= sent, `resumed from byte ${from}, expected 1…${sent}`);
}

test('a connection dropped mid-file is resumed with a Range request from the bytes already written', async () => {
  const dest = freshRoot();
  const size = hub.file(REPO, 'text_encoder/model.onnx').size;
  assert.ok(size > 1_000_000);
  hub.faults.drops.push({ match: /text_encoder\/model\.onnx$/, afterBytes: 400_000, times: 1 });
  const model = await downloadModel(options(dest));
  const cdn = hub.fileRequests('text_encoder/model.onnx').filter((r) => r.server === 'cdn');
  assertResumedWithin(cdn.map((r) => r.range), 400_000);
  assert.equal(sha256(path.join(model.dir, 'text_encoder/model.onnx')), hub.file(REPO, 'text_encoder/model.onnx').sha256);
});

test('a server that answers 200 to a Range request restarts the file cleanly', async () => {
  const dest = freshRoot();
  hub.faults.drops.push({ match: /text_encoder\/model\.onnx$/, afterBytes: 300_000, times: 1 });
  hub.faults.ignoreRange = true;
  const events: DownloadProgress[] = [];
  const model = await downloadModel(options(dest, { onProgress: (p) => events.push(p), progressIntervalMs: 0 }));
  const cdn = hub.fileRequests('text_encoder/model.onnx').filter((r) => r.server === 'cdn');
  assertResumedWithin(cdn.map((r) => r.range), 300_000);
  assert.equal(sha256(path.join(model.dir, 'text_encoder/model.onnx')), hub.file(REPO, 'text_encoder/model.onnx').sha256);
  const total = PIPELINE.reduce((s, f) => s + hub.file(REPO, f).size, 0);
  assert.equal(events.at(-1)!.bytesDone, total, 'the restarted bytes are not counted twice');
});

test('a corrupted file is deleted and downloaded once more', async () => {
  const dest = freshRoot();
  hub.faults.corrupt.push({ match: /vae_decoder\/model\.onnx$/, times: 1 });
  const model = await downloadModel(options(dest));
  assert.equal(hub.fileRequests('vae_decoder/model.onnx').filter((r) => r.server === 'cdn').length, 2);
  assert.equal(sha256(path.join(model.dir, 'vae_decoder/model.onnx')), hub.file(REPO, 'vae_decoder/model.onnx').sha256);
});

test('a file corrupted twice is a clear integrity error and nothing is installed', async () => {
  const dest = freshRoot();
  hub.faults.corrupt.push({ match: /vae_decoder\/model\.onnx$/ });
  const expected = hub.file(REPO, 'vae_decoder/model.onnx').sha256;
  await rejectsWith(downloadModel(options(dest)), 'integrity', new RegExp(`vae_decoder/model\\.onnx is corrupt \\(sha256 expected ${expected}, got [0-9a-f]{64}\\).*twice, so nothing was installed`));
  assert.equal(fs.existsSync(globalModelDir(dest, REPO)), false);
  const partial = `${globalModelDir(dest, REPO)}.partial`;
  assert.equal(fs.existsSync(path.join(partial, 'vae_decoder', 'model.onnx')), false);
  assert.equal(fs.existsSync(path.join(partial, 'vae_decoder', 'model.onnx.incomplete')), false);
  // Small (git) files are checked too: against their git blob id.
  hub.faults.corrupt.length = 0;
  hub.faults.corrupt.push({ match: /unet\/config\.json$/ });
  await rejectsWith(downloadModel(options(freshRoot())), 'integrity', /unet\/config\.json is corrupt \(git blob sha1 expected [0-9a-f]{40}/);
});

test('cancelling keeps the partial files; the next download resumes them with Range', async () => {
  const dest = freshRoot();
  hub.faults.throttleBytesPerSec = 2_000_000;
  const ctrl = new AbortController();
  const run = downloadModel(options(dest, {
    signal: ctrl.signal, progressIntervalMs: 0,
    onProgress: (p) => { if (p.file === 'text_encoder/model.onnx' && p.fileBytesDone > 200_000) ctrl.abort(); },
  }));
  await rejectsWith(run, 'cancelled', /cancelled.*kept/);
  const part = path.join(`${globalModelDir(dest, REPO)}.partial`, 'text_encoder', 'model.onnx.incomplete');
  const kept = fs.statSync(part).size;
  assert.ok(kept > 200_000 && kept < hub.file(REPO, 'text_encoder/model.onnx').size, `kept ${kept} bytes`);
  assert.equal(fs.existsSync(globalModelDir(dest, REPO)), false, 'nothing installed yet');
  hub.faults.throttleBytesPerSec = 0;
  hub.requests.length = 0;
  const model = await downloadModel(options(dest));
  assert.deepEqual(hub.fileRequests('text_encoder/model.onnx').filter((r) => r.server === 'cdn').map((r) => r.range), [`bytes=${kept}-`]);
  assert.equal(hub.fileRequests('model_index.json').length, 0, 'verified files are not fetched again');
  assert.equal(sha256(path.join(model.dir, 'text_encoder/model.onnx')), hub.file(REPO, 'text_encoder/model.onnx').sha256);
});

test('free disk space is checked first and the message names what is needed and what is free', async () => {
  const dest = freshRoot();
  const total = PIPELINE.reduce((s, f) => s + hub.file(REPO, f).size, 0);
  let asked = '';
  await rejectsWith(downloadModel(options(dest, { freeSpace: async (d) => { asked = d; return 1234; } })), 'disk-space',
    new RegExp(`needs ${(total / 1e6).toFixed(2)} MB more, 1\\.23 kB are free on the disk of ${dest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.equal(asked, dest);
  assert.equal(hub.requests.filter((r) => r.path.includes('/resolve/') || r.server === 'cdn').length, 0, 'nothing downloaded');
});

test('the disk-space check counts only what is still missing', async () => {
  const dest = freshRoot();
  await downloadModel(options(dest, { freeSpace: async () => 1e12 }));
  const again = await downloadModel(options(dest, { freeSpace: async () => 0 }));
  assert.equal(again.alreadyInstalled, true);
});

test('free space comes from fs.statfs of the nearest existing folder', async () => {
  const { statfsFreeBytes } = await import('../../src/hub/install');
  const free = await statfsFreeBytes(os.tmpdir());
  assert.ok(free > 0 && Number.isFinite(free));
  const deeper = await statfsFreeBytes(path.join(os.tmpdir(), 'no-such-folder', 'below'));
  assert.ok(Math.abs(deeper - free) < 1e9, `${deeper} vs ${free}`);
});

test('a connection that keeps dropping ends in a clear network error after a few resumes, the partial kept', async () => {
  const dest = freshRoot();
  hub.faults.drops.push({ match: /text_encoder\/model\.onnx$/, afterBytes: 100_000 });
  await rejectsWith(downloadModel(options(dest)), 'network', /^test-org\/tiny-sd-onnx\/text_encoder\/model\.onnx: the connection kept dropping mid-file \(.*\); download again to resume$/);
  const cdn = hub.fileRequests('text_encoder/model.onnx').filter((r) => r.server === 'cdn');
  // three resumes in a row without a new byte: given up (issue 12 row 5)
  assert.deepEqual(cdn.map((r) => r.range), [undefined, ...Array(3).fill('bytes=100000-')]);
  assert.equal(fs.statSync(path.join(`${globalModelDir(dest, REPO)}.partial`, 'text_encoder', 'model.onnx.incomplete')).size, 100_000);
  assert.equal(fs.existsSync(globalModelDir(dest, REPO)), false);
});

test('one download per repo and destination: a second one while the first runs is refused as busy, naming why; later ones run', async () => {
  const dest = freshRoot();
  hub.faults.throttleBytesPerSec = 2_000_000;
  const first = downloadModel(options(dest));
  // The second starts once the first holds the lock (after its repo info, while its files stream).
  await new Promise((resolve) => setTimeout(resolve, 150));
  const lock = `${globalModelDir(dest, REPO)}.lock`;
  assert.ok(fs.existsSync(lock), 'the first download holds the lock');
  await rejectsWith(downloadModel(options(dest)), 'busy', /test-org\/tiny-sd-onnx is already being downloaded into .* by this window; wait for that download/);
  const model = await first;
  hub.faults.throttleBytesPerSec = 0;
  assert.equal(fs.existsSync(lock), false, 'the lock goes with the download');
  assert.equal((await downloadModel(options(dest))).alreadyInstalled, true);
  assert.equal(model.alreadyInstalled, false);
  // The HF cache layout locks under .locks/ as huggingface_hub keeps its own.
  const cache = freshRoot();
  hub.faults.throttleBytesPerSec = 2_000_000;
  const inCache = downloadModel(options(cache, { layout: 'hf-cache' }));
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.ok(fs.existsSync(path.join(cache, '.locks', 'models--test-org--tiny-sd-onnx', 'inline-diffusion.lock')));
  await rejectsWith(downloadModel(options(cache, { layout: 'hf-cache' })), 'busy', /already being downloaded/);
  await inCache;
});

test('the disk filling up mid-file (ENOSPC) is a disk-space error that says the download resumes; nothing is installed', { skip: !fs.existsSync('/dev/full') && 'needs /dev/full (Linux)' }, async () => {
  const cache = freshRoot();
  // The UNet's weights grow in blobs/<sha256>.incomplete: point it at /dev/full, whose every write fails with ENOSPC.
  const blobs = path.join(cache, 'models--test-org--tiny-sd-onnx', 'blobs');
  fs.mkdirSync(blobs, { recursive: true });
  fs.symlinkSync('/dev/full', path.join(blobs, `${sha256(path.join(repoDir, 'unet', 'weights.pb'))}.incomplete`));
  await rejectsWith(downloadModel(options(cache, { layout: 'hf-cache' })), 'disk-space',
    /^The disk is full while writing .*\.incomplete: free some space and download again \(it resumes\)$/);
  assert.equal(fs.existsSync(path.join(cache, 'models--test-org--tiny-sd-onnx', 'snapshots')), false, 'no snapshot is made');
  assert.equal(fs.existsSync(path.join(cache, '.locks', 'models--test-org--tiny-sd-onnx', 'inline-diffusion.lock')), false);
});
