import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProgress } from '../../webview/progressText';
import { formatProgress as hostFormat } from '../../src/generation/progressMeter';

test('the progress line says which pass of hires. fix a step belongs to, in the panel and in the host alike', () => {
  const base = { step: 3, totalSteps: 10, itPerSec: 2, etaMs: 3500, imageIndex: 1, imageCount: 2 };
  assert.equal(formatProgress(base), 'image 2/2 · step 3/10 · 2.0 it/s · ETA 4s');
  assert.equal(formatProgress({ ...base, pass: 1 }), 'image 2/2 · first pass · step 3/10 · 2.0 it/s · ETA 4s');
  assert.equal(formatProgress({ ...base, pass: 2, imageCount: 1 }), 'hires pass · step 3/10 · 2.0 it/s · ETA 4s');
  for (const p of [base, { ...base, pass: 1 }, { ...base, pass: 2 }]) assert.equal(hostFormat(p), formatProgress(p));
});
