/**
 * Install GPU Support against a local NuGet feed (node:http): the service index, the flat container's versions,
 * the registration leaf → catalog entry with packageSize + packageHash (SHA-512, base64), and the .nupkg with Range.
 * The provider libraries land in a storage copy of onnxruntime-node that loads in a child process; a wrong hash
 * installs nothing; an interrupted download resumes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { GPU_FILES, GPU_PACKAGE_ID, installedGpuSupport, installGpuSupport, ortVersion } from '../../src/models/gpuSupport';
import { diagnoseProviderFailure } from '../../src/models/gpuDiagnosis';
import type { DownloadProgress } from '../../src/hub/progress';
import { writeZip } from '../fixtures/zipWriter';

const repo = path.resolve(__dirname, '../..');
const ortPackageDir = path.join(repo, 'node_modules', 'onnxruntime-node');
const version = ortVersion(ortPackageDir);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-support-'));
const libs = GPU_FILES.map((name, i) => ({ name, data: Buffer.alloc(40_000 + i * 1000, i + 1) }));
const nupkg = writeZip([
  { name: '[Content_Types].xml', data: Buffer.from('<Types/>') },
  ...libs.map((l, i) => ({ name: `runtimes/linux-x64/native/${l.name}`, data: l.data, store: i > 0 })), // stored: big enough to cut
  { name: 'runtimes/linux-x64/native/libonnxruntime.so', data: Buffer.alloc(5000, 9) },
], { zip64: true });
const feed = { hash: createHash('sha512').update(nupkg).digest('base64'), dropAfter: 0, requests: [] as string[] };
let server: http.Server;
let base = '';

before(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    feed.requests.push(`${url}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    const json = (body: unknown): void => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    const id = GPU_PACKAGE_ID.toLowerCase();
    if (url === '/v3/index.json') {
      return json({ resources: [
        { '@id': `${base}/flat/`, '@type': 'PackageBaseAddress/3.0.0' },
        { '@id': `${base}/reg/`, '@type': 'RegistrationsBaseUrl/3.6.0' },
      ] });
    }
    if (url === `/flat/${id}/index.json`) return json({ versions: ['1.29.0', version] });
    if (url === `/reg/${id}/${version}.json`) return json({ catalogEntry: `${base}/catalog/${id}.${version}.json` });
    if (url === `/catalog/${id}.${version}.json`) return json({ packageSize: nupkg.length, packageHash: feed.hash, packageHashAlgorithm: 'SHA512' });
    if (url === `/flat/${id}/${version}/${id}.${version}.nupkg`) {
      const m = /bytes=(\d+)-/.exec(req.headers.range ?? '');
      const start = m ? Number(m[1]) : 0;
      res.writeHead(m ? 206 : 200, { 'content-length': nupkg.length - start });
      if (feed.dropAfter > 0) {
        const cut = feed.dropAfter;
        feed.dropAfter = 0;
        res.write(nupkg.subarray(start, start + cut));
        setTimeout(() => res.destroy(), 20);
        return;
      }
      return res.end(nupkg.subarray(start));
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const options = (storageDir: string, progress?: DownloadProgress[]) => ({
  storageDir, ortPackageDir, feedIndex: `${base}/v3/index.json`, platform: 'linux' as const, arch: 'x64',
  onProgress: (p: DownloadProgress) => progress?.push(p),
});

test('a SHA-512 that does not match the feed\'s installs nothing and says so', async () => {
  const storage = path.join(root, 'bad');
  const good = feed.hash;
  feed.hash = createHash('sha512').update('something else').digest('base64');
  try {
    await assert.rejects(installGpuSupport(options(storage)), /failed verification.*SHA-512/);
  } finally {
    feed.hash = good;
  }
  assert.equal(installedGpuSupport(storage, ortPackageDir), undefined);
  assert.equal(fs.existsSync(path.join(storage, 'gpu', `onnxruntime-${version}-cuda12`)), false);
});

test('installs the provider libraries beside a copy of the binding, verified; an interrupted download resumes', async () => {
  const storage = path.join(root, 'ok');
  feed.dropAfter = 20_000;
  await assert.rejects(installGpuSupport(options(storage)), /broke off|cancelled|terminated|HTTP/);
  const progress: DownloadProgress[] = [];
  const before = feed.requests.length;
  const installed = await installGpuSupport(options(storage, progress));
  assert.ok(feed.requests.slice(before).some((r) => r.endsWith('bytes=20000-')), feed.requests.join('\n'));
  assert.deepEqual(installed.manifest.files, libs.map((l) => ({ name: l.name, size: l.data.length, sha256: createHash('sha256').update(l.data).digest('hex') })));
  for (const l of libs) assert.deepEqual(fs.readFileSync(path.join(installed.bindingDir, l.name)), l.data);
  assert.ok(fs.existsSync(path.join(installed.bindingDir, 'onnxruntime_binding.node')));
  assert.ok(progress.some((p) => p.phase === 'verifying') && progress.some((p) => p.phase === 'installing'));
  assert.deepEqual(installedGpuSupport(storage, ortPackageDir)?.bindingDir, installed.bindingDir);
  assert.equal(fs.readdirSync(path.join(storage, 'gpu', 'downloads')).length, 0, 'the package is deleted once unpacked');
  // the copy loads in a fresh process (onnxruntime-common found beside it) and runs a CPU session
  const out = execFileSync(process.execPath, ['-e', `
    const ort = require(${JSON.stringify(installed.ortNodeDir)});
    console.log(require.resolve(${JSON.stringify(installed.ortNodeDir)}).startsWith(${JSON.stringify(storage)}), typeof ort.InferenceSession.create);
  `], { encoding: 'utf8' });
  assert.equal(out.trim(), 'true function');
  // a second install finds it and downloads nothing
  const n = feed.requests.length;
  await installGpuSupport(options(storage));
  assert.equal(feed.requests.length, n);
  // with the libraries in place, a CUDA failure is blamed on the CUDA runtime (or the driver), not on missing libraries
  const d = diagnoseProviderFailure({ provider: 'cuda', reason: 'Failed to load shared library', bindingDir: installed.bindingDir, libDirs: [path.join(root, 'no-libs')], platform: 'linux' });
  assert.deepEqual([d.problem, d.offerInstall], ['cuda-runtime', false]);
  assert.match(d.message, /CUDA 12 and cuDNN 9.*libcudart\.so\.12/);
});

test('other platforms are told what they have instead', async () => {
  await assert.rejects(installGpuSupport({ ...options(path.join(root, 'win')), platform: 'win32', arch: 'x64' }), /Linux x64 only.*DirectML/);
});

test('without the provider libraries the diagnosis offers the install', () => {
  const d = diagnoseProviderFailure({ provider: 'cuda', reason: 'Failed to load shared library', bindingDir: path.join(root, 'empty'), libDirs: [], platform: 'linux' });
  assert.deepEqual([d.problem, d.offerInstall], ['ort-provider-libs', true]);
  assert.match(d.message, /libonnxruntime_providers_shared\.so, libonnxruntime_providers_cuda\.so/);
});
