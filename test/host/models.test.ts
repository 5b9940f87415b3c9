/** The vscode-free pieces of issue 5's host side: idle release, progress lines, model settings, token check, precision guess, model listing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IdleReleaser } from '../../src/models/idleRelease';
import { formatDuration } from '../../src/common/formatDuration';
import { formatDownloadProgress } from '../../src/models/downloadProgress';
import { readModelSettings, DEFAULT_MODEL_SETTINGS } from '../../src/models/modelSettings';
import { checkHfToken } from '../../src/models/hfToken';
import { guessPrecision } from '../../src/models/modelInspect';
import { listAllModels, listDownloadedModels } from '../../src/models/modelSources';
import type { DownloadProgress } from '../../src/hub/progress';

function fakeTimers() {
  const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  return {
    timers,
    setTimer: (fn: () => void, ms: number) => { const t = { fn, ms, cleared: false }; timers.push(t); return t; },
    clearTimer: (h: unknown) => { (h as { cleared: boolean }).cleared = true; },
  };
}

test('idle release: unloads after the configured minutes since the last job, not while busy, never at 0', async () => {
  const t = fakeTimers();
  let unloads = 0;
  let busy = false;
  let minutes = 10;
  const r = new IdleReleaser({ unload: async () => { unloads++; }, minutes: () => minutes, isBusy: () => busy, ...t });
  r.touch();
  r.touch(); // a second job ended: the clock restarts
  assert.deepEqual(t.timers.map((x) => [x.ms, x.cleared]), [[600_000, true], [600_000, false]]);
  busy = true;
  t.timers[1].fn();
  assert.equal(unloads, 0);
  busy = false;
  r.touch();
  t.timers[2].fn();
  assert.equal(unloads, 1);
  minutes = 0;
  r.touch();
  assert.equal(t.timers.length, 3);
  r.dispose();
});

test('progress lines: file, bytes, speed and time left', () => {
  const p: DownloadProgress = { file: 'unet/model.onnx', fileIndex: 2, fileCount: 9, fileBytesDone: 1, fileBytesTotal: 2,
    bytesDone: 1_200_000_000, bytesTotal: 2_140_000_000, bytesPerSecond: 12_300_000, etaSeconds: 77, phase: 'downloading' };
  assert.deepEqual([formatDownloadProgress(p), formatDuration(3909), formatDownloadProgress({ ...p, phase: 'verifying' })],
    ['unet/model.onnx (3/9) · 1.20 GB of 2.14 GB · 12.3 MB/s · 1m 17s left', '1h 05m 09s', 'verifying unet/model.onnx…']);
});

test('model settings: defaults, and wrong values fall back', () => {
  assert.deepEqual(readModelSettings(() => undefined), DEFAULT_MODEL_SETTINGS);
  const v: Record<string, unknown> = { downloadLocation: 'huggingFaceCache', listHuggingFaceCache: false, releaseAfterIdleMinutes: 0 };
  assert.deepEqual(readModelSettings((k) => v[k]), { downloadLocation: 'huggingFaceCache', listHuggingFaceCache: false, releaseAfterIdleMinutes: 0 });
  const bad: Record<string, unknown> = { downloadLocation: 'usb', listHuggingFaceCache: 'yes', releaseAfterIdleMinutes: -1 };
  assert.deepEqual(readModelSettings((k) => bad[k]), DEFAULT_MODEL_SETTINGS);
});

test('tokens: hf_ plus letters and digits, empty removes', () => {
  assert.deepEqual([checkHfToken('hf_abcDEF123456'), checkHfToken(''), typeof checkHfToken('abc'), typeof checkHfToken('hf_short')],
    [undefined, undefined, 'string', 'string']);
});

test('precision from the UNet size: SD 1.5 fp16 1.72 GB, fp32 3.44 GB; SDXL fp16 5.1 GB, fp32 10.3 GB; tiny unknown', () => {
  assert.deepEqual([guessPrecision(1.72e9, 'sd1'), guessPrecision(3.44e9, 'sd1'), guessPrecision(5e6, 'sd1'),
    guessPrecision(5.14e9, 'sdxl'), guessPrecision(10.27e9, 'sdxl'), guessPrecision(0.5e9, 'sdxl')],
  ['fp16', 'fp32', 'unknown', 'fp16', 'fp32', 'unknown']);
});

test('listing: downloads with a manifest and a pipeline only (not .partial, not a TAESD decoder), each folder once, setting first', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'model-list-'));
  const mk = (name: string, manifest: boolean, pipeline = true): string => {
    const d = path.join(root, 'models', name);
    fs.mkdirSync(d, { recursive: true });
    if (manifest) fs.writeFileSync(path.join(d, 'manifest.json'), JSON.stringify({ repo: name.replace('--', '/'), commit: 'c'.repeat(40) }));
    if (pipeline) fs.writeFileSync(path.join(d, 'model_index.json'), '{}');
    return d;
  };
  const a = mk('org--a', true);
  mk('org--b.partial', true);
  mk('org--c', false);
  mk('deinferno--taesd-onnx', true, false); // a preview decoder, no pipeline
  assert.deepEqual(listDownloadedModels(path.join(root, 'models')).map((m) => m.repoId), ['org/a']);
  const entries = listAllModels({ setting: a, workspaceFolder: undefined, embeddedDir: '/ext/models/shapes-64', added: [a, '/m/x'], downloadRoot: path.join(root, 'models') });
  assert.deepEqual(entries.map((e) => [e.label, e.source]), [['org--a (setting)', 'setting'], ['shapes-64 (embedded)', 'embedded'], ['x (added)', 'added']]);
  fs.rmSync(root, { recursive: true, force: true });
});
