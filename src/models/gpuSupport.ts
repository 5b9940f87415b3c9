/**
 * "Install GPU Support (CUDA)" without `vscode`: fetches the NuGet package onnxruntime-node's own install script
 * fetches (Microsoft.ML.OnnxRuntime.Gpu.Linux at the package's version, found through the feed's service index),
 * checks its size and hash against the feed's catalog entry, takes out the CUDA provider libraries, and builds a
 * copy of onnxruntime-node in the extension's storage whose binding folder holds them — ONNX Runtime looks for
 * provider libraries beside libonnxruntime, so the engine loads that copy (INLINE_DIFFUSION_ORT_NODE).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { DownloadProgress } from '../hub/progress';
import { extractZipEntry, readZipEntries } from './zipReader';

export const NUGET_INDEX = 'https://api.nuget.org/v3/index.json';
export const GPU_PACKAGE_ID = 'Microsoft.ML.OnnxRuntime.Gpu.Linux';
/** As onnxruntime-node's script/install-metadata.js lists them for linux/x64:cuda12. */
export const GPU_FILES = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so', 'libonnxruntime_providers_tensorrt.so'] as const;
const PACKAGE_PATH = 'runtimes/linux-x64/native/';
const MANIFEST = 'gpu-support.json';

export interface GpuSupportManifest {
  readonly ortVersion: string;
  readonly package: string;
  readonly packageUrl: string;
  readonly packageSha512: string;
  readonly files: ReadonlyArray<{ readonly name: string; readonly size: number; readonly sha256: string }>;
  readonly installedAt: string;
}

export interface GpuInstall {
  /** The onnxruntime-node copy: the value of INLINE_DIFFUSION_ORT_NODE. */
  readonly ortNodeDir: string;
  /** Its binding folder, holding the provider libraries. */
  readonly bindingDir: string;
  readonly manifest: GpuSupportManifest;
}

export interface GpuInstallOptions {
  /** The extension's global storage folder. */
  readonly storageDir: string;
  /** The bundled node_modules/onnxruntime-node (copied, with its onnxruntime-common). */
  readonly ortPackageDir: string;
  /** NuGet v3 service index; default nuget.org's. */
  readonly feedIndex?: string;
  readonly onProgress?: (p: DownloadProgress) => void;
  readonly signal?: AbortSignal;
  readonly platform?: NodeJS.Platform;
  readonly arch?: string;
}

export function ortVersion(ortPackageDir: string): string {
  return (JSON.parse(fs.readFileSync(path.join(ortPackageDir, 'package.json'), 'utf8')) as { version: string }).version;
}

function installDir(storageDir: string, version: string): string {
  return path.join(storageDir, 'gpu', `onnxruntime-${version}-cuda12`);
}

function layout(dir: string, platform: string, arch: string): { ortNodeDir: string; bindingDir: string } {
  const ortNodeDir = path.join(dir, 'node_modules', 'onnxruntime-node');
  return { ortNodeDir, bindingDir: path.join(ortNodeDir, 'bin', 'napi-v6', platform, arch) };
}

/** The installed GPU support for this onnxruntime-node version, if complete. */
export function installedGpuSupport(storageDir: string, ortPackageDir: string): GpuInstall | undefined {
  let version: string;
  try {
    version = ortVersion(ortPackageDir);
  } catch {
    return undefined;
  }
  const dir = installDir(storageDir, version);
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as GpuSupportManifest;
    const where = layout(dir, 'linux', 'x64');
    if (manifest.ortVersion !== version || !manifest.files.every((f) => fs.existsSync(path.join(where.bindingDir, f.name)))) return undefined;
    return { ...where, manifest };
  } catch {
    return undefined;
  }
}

async function getJson(url: string, signal: AbortSignal | undefined, what: string): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (e) {
    if (signal?.aborted) throw new Error('GPU support download cancelled');
    throw new Error(`could not reach ${new URL(url).origin} for ${what}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new Error(`${what}: ${url} answered HTTP ${res.status}`);
  const body = await res.json() as unknown;
  if (typeof body !== 'object' || body === null) throw new Error(`${what}: ${url} did not answer a JSON object`);
  return body as Record<string, unknown>;
}

/** The package URL and the size + SHA-512 its feed's catalog entry records. */
async function resolvePackage(index: string, id: string, version: string, signal?: AbortSignal): Promise<{ url: string; size: number; sha512: string }> {
  const service = await getJson(index, signal, 'the NuGet service index');
  const resources = Array.isArray(service.resources) ? service.resources as Array<Record<string, unknown>> : [];
  const find = (type: RegExp): string | undefined => {
    const r = resources.find((x) => typeof x['@type'] === 'string' && type.test(x['@type']));
    return typeof r?.['@id'] === 'string' ? r['@id'] : undefined;
  };
  const base = find(/^PackageBaseAddress\/3\.0\.0$/);
  const registrations = find(/^RegistrationsBaseUrl/);
  if (base === undefined || registrations === undefined) throw new Error(`${index} lists no PackageBaseAddress/RegistrationsBaseUrl`);
  const lower = id.toLowerCase();
  const v = version.toLowerCase();
  const versions = await getJson(`${base}${lower}/index.json`, signal, `the versions of ${id}`);
  if (!Array.isArray(versions.versions) || !versions.versions.includes(v)) {
    throw new Error(`${id} ${version} is not on the feed (it has ${Array.isArray(versions.versions) ? versions.versions.slice(-5).join(', ') : 'no versions'})`);
  }
  const leaf = await getJson(`${registrations}${lower}/${v}.json`, signal, `the registration of ${id} ${version}`);
  const entry = typeof leaf.catalogEntry === 'string'
    ? await getJson(leaf.catalogEntry, signal, `the catalog entry of ${id} ${version}`)
    : (leaf.catalogEntry as Record<string, unknown> | undefined);
  const size = entry?.packageSize;
  const hash = entry?.packageHash;
  if (typeof size !== 'number' || typeof hash !== 'string' || (entry?.packageHashAlgorithm ?? 'SHA512') !== 'SHA512') {
    throw new Error(`the feed gives no size and SHA-512 for ${id} ${version}: it cannot be verified, so it is not installed`);
  }
  return { url: `${base}${lower}/${v}/${lower}.${v}.nupkg`, size, sha512: Buffer.from(hash, 'base64').toString('hex') };
}

/** Downloads `url` to `file` (resuming a `.part` with Range), checking size and SHA-512. */
async function downloadVerified(url: string, file: string, size: number, sha512: string, o: GpuInstallOptions): Promise<void> {
  const part = `${file}.part`;
  let have = fs.existsSync(part) ? fs.statSync(part).size : 0;
  if (have > size) { await fsp.rm(part); have = 0; }
  const res = await fetch(url, { signal: o.signal, headers: have > 0 ? { Range: `bytes=${have}-` } : {} })
    .catch((e: Error) => { throw new Error(o.signal?.aborted ? 'GPU support download cancelled (the part downloaded is kept)' : `could not download ${url}: ${e.message}`); });
  if (res.status !== 200 && res.status !== 206) throw new Error(`${url} answered HTTP ${res.status}`);
  if (res.status === 200) have = 0;
  const out = fs.createWriteStream(part, { flags: have > 0 ? 'a' : 'w' });
  const start = Date.now();
  let done = have;
  const report = (phase: DownloadProgress['phase']): void => {
    const secs = (Date.now() - start) / 1000;
    const speed = secs > 0.5 ? (done - have) / secs : 0;
    o.onProgress?.({ file: path.basename(file), fileIndex: 0, fileCount: 1, fileBytesDone: done, fileBytesTotal: size,
      bytesDone: done, bytesTotal: size, bytesPerSecond: speed, etaSeconds: speed > 0 ? (size - done) / speed : null, phase });
  };
  try {
    let last = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      done += chunk.length;
      if (Date.now() - last > 250) { last = Date.now(); report('downloading'); }
    }
  } catch (e) {
    throw new Error(o.signal?.aborted ? 'GPU support download cancelled (the part downloaded is kept)' : `download of ${url} broke off: ${(e as Error).message}`);
  } finally {
    await new Promise<void>((r) => out.end(() => r()));
  }
  report('verifying');
  const got = fs.statSync(part).size;
  const hash = createHash('sha512');
  for await (const chunk of fs.createReadStream(part)) hash.update(chunk as Buffer);
  const digest = hash.digest('hex');
  if (got !== size || digest !== sha512) {
    await fsp.rm(part, { force: true });
    throw new Error(`${path.basename(file)} failed verification: ${got} bytes, SHA-512 ${digest.slice(0, 16)}…; the feed says ${size} bytes, ${sha512.slice(0, 16)}… (deleted; run the command again)`);
  }
  await fsp.rename(part, file);
}

/** Installs (or finds) GPU support; returns where the engine should load onnxruntime-node from. */
export async function installGpuSupport(o: GpuInstallOptions): Promise<GpuInstall> {
  const platform = o.platform ?? process.platform;
  const arch = o.arch ?? process.arch;
  if (platform !== 'linux' || arch !== 'x64') {
    throw new Error(`onnxruntime-node's CUDA provider exists for Linux x64 only (this is ${platform}/${arch}); `
      + (platform === 'win32' ? 'on Windows, DirectML ships with the extension.' : 'on macOS, CoreML ships with the extension.'));
  }
  const existing = installedGpuSupport(o.storageDir, o.ortPackageDir);
  if (existing) return existing;
  const version = ortVersion(o.ortPackageDir);
  const pkg = await resolvePackage(o.feedIndex ?? NUGET_INDEX, GPU_PACKAGE_ID, version, o.signal);
  const downloads = path.join(o.storageDir, 'gpu', 'downloads');
  await fsp.mkdir(downloads, { recursive: true });
  const nupkg = path.join(downloads, `${GPU_PACKAGE_ID.toLowerCase()}.${version}.nupkg`);
  if (!fs.existsSync(nupkg)) await downloadVerified(pkg.url, nupkg, pkg.size, pkg.sha512, o);

  o.onProgress?.({ file: null, fileIndex: 0, fileCount: 1, fileBytesDone: pkg.size, fileBytesTotal: pkg.size, bytesDone: pkg.size, bytesTotal: pkg.size, bytesPerSecond: 0, etaSeconds: null, phase: 'installing' });
  const final = installDir(o.storageDir, version);
  const staging = `${final}.partial`;
  await fsp.rm(staging, { recursive: true, force: true });
  const where = layout(staging, platform, arch);
  // The onnxruntime-node copy: its JS, this platform's binding folder, and onnxruntime-common beside it.
  await fsp.mkdir(where.bindingDir, { recursive: true });
  await fsp.cp(path.join(o.ortPackageDir, 'package.json'), path.join(where.ortNodeDir, 'package.json'));
  await fsp.cp(path.join(o.ortPackageDir, 'dist'), path.join(where.ortNodeDir, 'dist'), { recursive: true });
  await fsp.cp(path.join(o.ortPackageDir, 'bin', 'napi-v6', platform, arch), where.bindingDir, { recursive: true });
  const common = path.join(path.dirname(o.ortPackageDir), 'onnxruntime-common');
  const nestedCommon = path.join(o.ortPackageDir, 'node_modules', 'onnxruntime-common');
  await fsp.cp(fs.existsSync(nestedCommon) ? nestedCommon : common, path.join(staging, 'node_modules', 'onnxruntime-common'), { recursive: true });

  const entries = await readZipEntries(nupkg);
  const files: Array<{ name: string; size: number; sha256: string }> = [];
  for (const name of GPU_FILES) {
    const entry = entries.find((e) => e.name === `${PACKAGE_PATH}${name}`);
    if (entry === undefined) throw new Error(`${path.basename(nupkg)} has no ${PACKAGE_PATH}${name}`);
    const sha256 = await extractZipEntry(nupkg, entry, path.join(where.bindingDir, name));
    files.push({ name, size: entry.size, sha256 });
  }
  const manifest: GpuSupportManifest = {
    ortVersion: version, package: `${GPU_PACKAGE_ID} ${version}`, packageUrl: pkg.url, packageSha512: pkg.sha512, files,
    installedAt: new Date().toISOString(),
  };
  await fsp.writeFile(path.join(staging, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  await fsp.rm(final, { recursive: true, force: true });
  await fsp.rename(staging, final);
  await fsp.rm(nupkg, { force: true }); // hundreds of MB, no longer needed
  const installed = installedGpuSupport(o.storageDir, o.ortPackageDir);
  if (!installed) throw new Error(`GPU support was unpacked into ${final} but does not read back`);
  return installed;
}
