/**
 * Issue 5 in the extension host, bundled and activated against the vscode stub with a local fake Hub (HF_ENDPOINT):
 * Download Model… (any repo id, progress with bytes/speed, gated repo → Set Hugging Face Token → retry, cancel
 * leaves nothing installed, the HF cache layout), Add Model… (validation messages, SDXL refiner refused, SDXL added), the panel's
 * model list with families and recommended settings, and the execution-provider status after a generation.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildTestExtension } from '../fixtures/extensionBundle';
import { buildTinyModel } from '../fixtures/tinyModel';
import { FakeHub } from '../fixtures/fakeHub';
import { createContextParts, createVscodeStub, installVscodeStub } from '../fixtures/vscodeStub';
import type { InlineDiffusionApi } from '../../src/extension';

const repo = path.resolve(__dirname, '../..');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inline-diffusion-models-'));
const extensionDir = path.join(root, 'extension');
const storage = path.join(root, 'storage');
const hfCache = path.join(root, 'hf-cache');
const TOKEN = 'hf_SECRETtoken123';
const config: Record<string, unknown> = { steps: 1, sampler: 'euler', threads: 1, executionProvider: 'cuda', releaseAfterIdleMinutes: 0 };
const stub = createVscodeStub({ workspaceFolder: path.join(root, 'workspace'), config });
const parts = createContextParts(storage);
let hub: FakeHub;
let uninstall: () => void = () => undefined;
const subscriptions: Array<{ dispose(): unknown }> = [];
let api: InlineDiffusionApi;
const saved = { HF_ENDPOINT: process.env.HF_ENDPOINT, HF_HUB_CACHE: process.env.HF_HUB_CACHE, HF_TOKEN: process.env.HF_TOKEN };

/** A tiny model folder made to read as `family` by its configs. */
function familyModel(dir: string, family: 'lcm' | 'sd-turbo'): string {
  buildTinyModel(dir, { seed: 3 });
  const unetCfg = path.join(dir, 'unet', 'config.json');
  const unet = fs.existsSync(unetCfg) ? JSON.parse(fs.readFileSync(unetCfg, 'utf8')) as Record<string, unknown> : {};
  if (family === 'lcm') unet.time_cond_proj_dim = 256;
  if (family === 'sd-turbo') unet.cross_attention_dim = 1024;
  fs.writeFileSync(unetCfg, JSON.stringify(unet));
  if (family === 'sd-turbo') {
    const sched = path.join(dir, 'scheduler', 'scheduler_config.json');
    fs.writeFileSync(sched, JSON.stringify({ ...JSON.parse(fs.readFileSync(sched, 'utf8')), timestep_spacing: 'trailing', prediction_type: 'epsilon' }));
  }
  return dir;
}

/** A TAESD repo as deinferno/taesd-onnx lays it out; the tiny model's VAE decoder stands in for the decoder. */
function taesdRepo(modelDir: string): string {
  const dir = path.join(root, 'taesd-repo');
  fs.mkdirSync(path.join(dir, 'vae_decoder'), { recursive: true });
  fs.copyFileSync(path.join(modelDir, 'vae_decoder', 'model.onnx'), path.join(dir, 'vae_decoder', 'model.onnx'));
  fs.writeFileSync(path.join(dir, 'README.md'), '# taesd\n');
  return dir;
}

before(async () => {
  const repoDir = buildTinyModel(path.join(root, 'repo'), { seed: 5 });
  hub = await FakeHub.start([
    { repoId: 'test-org/tiny-sd', dir: repoDir },
    { repoId: 'gated/tiny-sd', dir: repoDir, requiredToken: TOKEN },
    { repoId: 'test-org/tiny-cached', dir: repoDir },
    { repoId: 'deinferno/taesd-onnx', dir: taesdRepo(repoDir) },
  ]);
  process.env.HF_ENDPOINT = hub.endpoint;
  process.env.HF_HUB_CACHE = hfCache;
  delete process.env.HF_TOKEN;
  await buildTestExtension(extensionDir);
  fs.copyFileSync(path.join(repo, 'models/catalog.json'), path.join(extensionDir, 'models/catalog.json'));
  uninstall = installVscodeStub(stub.vscode);
  const extension = require(path.join(extensionDir, 'dist/extension.js')) as { activate(context: unknown): unknown };
  api = extension.activate({ subscriptions, extensionUri: stub.vscode.Uri.file(extensionDir), ...parts }) as InlineDiffusionApi;
});

after(async () => {
  for (const s of subscriptions.reverse()) await s.dispose();
  uninstall();
  await hub.close();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  fs.rmSync(root, { recursive: true, force: true });
});

const anyRepo = (items: Array<{ label: string }>) => items.find((i) => i.label.includes('Any Hugging Face repo id'));
const lastMessage = (): [string, string] | undefined => stub.messages[stub.messages.length - 1];

test('Download Model… offers the catalog with family, size and licence, and any repo id', async () => {
  let offered: string[] = [];
  stub.picks.push((items) => { offered = items.map((i) => `${i.label} | ${(i as { description?: string }).description ?? ''}`); return undefined; });
  assert.equal(await stub.vscode.commands.executeCommand('inlineDiffusion.downloadModel'), undefined);
  assert.ok(offered.some((l) => /SD-Turbo.*\| SD-Turbo · fp16 \(for GPUs: on the CPU converted once to fp32\) · ~2\.58 GB/.test(l)), offered.join('\n'));
  assert.ok(offered.some((l) => /Stable Diffusion 1\.5 \(fp32.*\| SD 1\.x · fp32 \(the CPU choice\)/.test(l)), offered.join('\n'));
  assert.ok(offered.some((l) => /LCM.*\| LCM · /.test(l)), offered.join('\n'));
  assert.match(offered[offered.length - 1], /Any Hugging Face repo id/);
});

test('a repo id downloads with progress (bytes, file) into global storage and joins the panel\'s models', async () => {
  stub.picks.push(anyRepo);
  stub.inputs.push('test-org/tiny-sd');
  const before = stub.progressReports.length;
  const dir = await stub.vscode.commands.executeCommand('inlineDiffusion.downloadModel') as string;
  assert.equal(dir, path.join(storage, 'models', 'test-org--tiny-sd'));
  assert.ok(fs.existsSync(path.join(dir, 'unet', 'model.onnx')));
  const reports = stub.progressReports.slice(before);
  assert.ok(reports.some((r) => /of .*B/.test(r.message ?? '')), JSON.stringify(reports));
  assert.equal(Math.round(reports.reduce((s, r) => s + (r.increment ?? 0), 0)), 100);
  assert.match(lastMessage()?.[1] ?? '', /Downloaded test-org\/tiny-sd \(SD 1\.x, .*unet/);
  const setup = await api.generationHost.panelSetup();
  const choice = setup.models.find((m) => m.id === dir);
  assert.deepEqual([choice?.label, choice?.family, choice?.problem], ['test-org/tiny-sd (downloaded) · SD 1.x', 'sd1', null]);
});

test('a gated repo asks for a token; the token goes to SecretStorage, the retry downloads, and no message shows it', async () => {
  stub.picks.push(anyRepo);
  stub.inputs.push('gated/tiny-sd');
  stub.answers.push('Set Hugging Face Token');
  stub.inputs.push(TOKEN);
  assert.equal(await stub.vscode.commands.executeCommand('inlineDiffusion.downloadModel'), undefined);
  assert.equal(parts.secretValues.get('inlineDiffusion.huggingFaceToken'), TOKEN);
  assert.ok(stub.messages.some(([level, m]) => level === 'error' && /gated|token|401/i.test(m)), JSON.stringify(stub.messages));
  const dir = await stub.vscode.commands.executeCommand('inlineDiffusion.downloadModel', 'gated/tiny-sd') as string;
  assert.ok(fs.existsSync(path.join(dir, 'model_index.json')));
  assert.ok(hub.requests.some((r) => r.authorization === `Bearer ${TOKEN}`));
  const shown = JSON.stringify([stub.messages, stub.progressReports]);
  assert.ok(!shown.includes('SECRETtoken'), 'the token must never be shown');
});

test('a cancelled download installs nothing and says it was cancelled', async () => {
  hub.faults.throttleBytesPerSec = 200_000;
  stub.progressControl.cancelAfterReports = 2;
  assert.equal(await stub.vscode.commands.executeCommand('inlineDiffusion.downloadModel', 'test-org/tiny-cached'), undefined);
  hub.faults.throttleBytesPerSec = 0;
  assert.equal(fs.existsSync(path.join(storage, 'models', 'test-org--tiny-cached')), false);
  assert.match(lastMessage()?.[1] ?? '', /cancelled/i);
});

test('with downloadLocation huggingFaceCache the model lands in the HF cache layout and is listed from there', async () => {
  config.downloadLocation = 'huggingFaceCache';
  try {
    const dir = await stub.vscode.commands.executeCommand('inlineDiffusion.downloadModel', 'test-org/tiny-cached') as string;
    assert.ok(dir.startsWith(path.join(hfCache, 'models--test-org--tiny-cached', 'snapshots')), dir);
  } finally {
    delete config.downloadLocation;
  }
  const labels = (await api.generationHost.panelSetup()).models.map((m) => m.label);
  assert.ok(labels.includes('test-org/tiny-cached (Hugging Face cache) · SD 1.x'), labels.join('\n'));
});

test('Add Model… checks the folder: a missing part and an SDXL refiner are refused with the reason; SDXL and LCM folders join', async () => {
  const broken = buildTinyModel(path.join(root, 'broken'), { seed: 1 });
  fs.rmSync(path.join(broken, 'unet'), { recursive: true });
  stub.openDialogs.push([broken]);
  assert.equal(await stub.vscode.commands.executeCommand('inlineDiffusion.addModel'), undefined);
  assert.match(lastMessage()?.[1] ?? '', /unet/);

  const refiner = buildTinyModel(path.join(root, 'xl-refiner'), { seed: 1, xl: true });
  const index = JSON.parse(fs.readFileSync(path.join(refiner, 'model_index.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(path.join(refiner, 'model_index.json'), JSON.stringify({ ...index, requires_aesthetics_score: true }));
  stub.openDialogs.push([refiner]);
  assert.equal(await stub.vscode.commands.executeCommand('inlineDiffusion.addModel'), undefined);
  assert.match(lastMessage()?.[1] ?? '', /SDXL refiner|XL refiner/);
  assert.equal(lastMessage()?.[0], 'error');

  const xl = buildTinyModel(path.join(root, 'my-xl'), { seed: 1, xl: true });
  stub.openDialogs.push([xl]);
  assert.equal(await stub.vscode.commands.executeCommand('inlineDiffusion.addModel'), xl);
  assert.match(lastMessage()?.[1] ?? '', /Added my-xl: SDXL, .*text_encoder_2 .*tokenizer_2 /);

  const lcm = familyModel(path.join(root, 'my-lcm'), 'lcm');
  stub.openDialogs.push([lcm]);
  assert.equal(await stub.vscode.commands.executeCommand('inlineDiffusion.addModel'), lcm);
  assert.match(lastMessage()?.[1] ?? '', /Added my-lcm: LCM, /);
  const choice = (await api.generationHost.panelSetup()).models.find((m) => m.id === lcm);
  assert.deepEqual([choice?.label, choice?.recommended?.sampler, choice?.recommended?.steps], ['my-lcm (added) · LCM', 'lcm', 4]);
});

test('SD-Turbo folders offer 1 step without CFG', async () => {
  const turbo = familyModel(path.join(root, 'sd-turbo'), 'sd-turbo');
  stub.openDialogs.push([turbo]);
  await stub.vscode.commands.executeCommand('inlineDiffusion.addModel');
  const r = (await api.generationHost.panelSetup()).models.find((m) => m.id === turbo)?.recommended;
  assert.deepEqual([r?.sampler, r?.steps, r?.cfgScale], ['euler', 1, 0]);
});

test('a generation asked for CUDA on a machine without it runs on the CPU; the status bar and a warning say so', async (t) => {
  const setup = await api.generationHost.panelSetup();
  const job = await api.generationHost.enqueue({ ...setup.defaults, prompt: 'a red circle', steps: 1, randomSeed: false, seed: 1 }, 'altText');
  const outcome = await job.done;
  assert.equal(outcome.status, 'finished', outcome.status === 'failed' ? outcome.error.message : '');
  const item = stub.statusItems[0];
  if (item.text === '$(chip) CUDA') return t.skip('CUDA runs here');
  assert.deepEqual([item.text, item.visible], ['$(chip) CPU', true]);
  const warning = stub.messages.find(([level, m]) => level === 'warning' && m.includes('CUDA'));
  assert.ok(warning, JSON.stringify(stub.messages));
  assert.match(warning[1], /CUDA provider libraries are missing|CUDA 12 and cuDNN 9/);
  assert.match(warning[1], /generated on the CPU instead/);
});

test('the TAESD catalog entry installs a preview decoder: the next generation previews at full size through it', async () => {
  const file = await stub.vscode.commands.executeCommand('inlineDiffusion.downloadModel', 'taesd') as string;
  assert.equal(file, path.join(storage, 'models', 'deinferno--taesd-onnx', 'vae_decoder', 'model.onnx'));
  assert.match(lastMessage()?.[1] ?? '', /step previews .* now go through it/);
  assert.ok(!(await api.generationHost.panelSetup()).models.some((m) => m.label.includes('taesd')), 'a decoder is no model');
  const setup = await api.generationHost.panelSetup();
  const embedded = setup.models.find((m) => m.label.includes('(embedded)'));
  const sizes: string[] = [];
  const sub = api.generationHost.service.onProgress((p) => sizes.push(...p.previews.map((im) => `${im.width}x${im.height}`)));
  try {
    const job = await api.generationHost.enqueue({ ...setup.defaults, model: embedded?.id ?? '', prompt: 'a blue square', steps: 2, randomSeed: false, seed: 2 }, 'altText');
    const outcome = await job.done;
    assert.equal(outcome.status, 'finished', outcome.status === 'failed' ? outcome.error.message : '');
  } finally {
    sub.dispose();
  }
  assert.deepEqual(sizes, ['64x64', '64x64']); // linear previews of this model would be 8x8
});
