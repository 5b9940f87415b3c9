/**
 * The mask editor's pixels (webview/maskPaint.ts) and the run-length message the panel sends
 * (src/common/maskRuns.ts): strokes, eraser, clear, invert, pointer coordinates, and every malformed message refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMaskRuns, encodeMaskRuns, MASK_RUNS_LIMITS, maskRunsPainted } from '../../src/common/maskRuns';
import { MaskPaint, toImagePoint } from '../../webview/maskPaint';

const count = (p: MaskPaint) => p.data.reduce((n, v) => n + (v === 255 ? 1 : 0), 0);

test('a dab paints a disc of the brush diameter; a drag paints the capsule between its points', () => {
  const p = new MaskPaint(64, 48);
  p.stroke(20.5, 20.5, 20.5, 20.5, 10);
  const n = count(p);
  assert.ok(Math.abs(n - Math.PI * 25) < 12, `disc of ${n} pixels`);
  assert.equal(p.data[20 * 64 + 20], 255);
  assert.equal(p.data[20 * 64 + 27], 0);
  p.clear();
  p.stroke(10, 10, 50, 10, 4);
  assert.ok(Math.abs(count(p) - (40 * 4 + Math.PI * 4)) < 16, `${count(p)}`);
  for (let x = 10; x < 50; x++) assert.equal(p.data[10 * 64 + x], 255, `x ${x}`);
  assert.equal(p.data[20 * 64 + 30], 0);
});

test('strokes off the edge paint only what is inside; the eraser clears; invert and clear', () => {
  const p = new MaskPaint(16, 16);
  p.stroke(-5, -5, 30, 30, 3);
  assert.ok(p.painted());
  assert.equal(p.data[0], 255);
  assert.equal(p.data[15 * 16 + 15], 255);
  p.stroke(0, 0, 16, 16, 40, true);
  assert.ok(!p.painted());
  p.invert();
  assert.equal(count(p), 256);
  p.clear();
  assert.equal(count(p), 0);
  assert.throws(() => new MaskPaint(0, 4), /positive/);
});

test('pointer coordinates on a canvas shown at another size map to image pixels', () => {
  assert.deepEqual(toImagePoint(100, 50, 200, 100, 512, 256), { x: 256, y: 128 });
  assert.deepEqual(toImagePoint(0, 0, 0, 0, 64, 64), { x: 0, y: 0 });
});

test('run lengths round-trip a painted mask and stay small', () => {
  const p = new MaskPaint(512, 512);
  p.stroke(100, 100, 400, 300, 40);
  const runs = encodeMaskRuns(p.data, 512, 512);
  assert.ok(runs.runs.length < 1000, `${runs.runs.length} runs`);
  assert.ok(maskRunsPainted(runs));
  const back = decodeMaskRuns(JSON.parse(JSON.stringify(runs)));
  assert.ok(back.ok);
  assert.deepEqual(back.ok && back.gray, p.data);
  // a mask painted from its first pixel starts with an empty keep run
  const full = encodeMaskRuns(new Uint8Array([255, 255, 0]), 3, 1);
  assert.deepEqual(full.runs, [0, 2, 1]);
  assert.ok(!maskRunsPainted(encodeMaskRuns(new Uint8Array(4), 2, 2)));
});

test('malformed masks are refused with one line, never decoded', () => {
  const bad: unknown[] = [
    null, 'mask', { width: 2, height: 2 }, { width: 0, height: 2, runs: [4] }, { width: 2.5, height: 2, runs: [5] },
    { width: MASK_RUNS_LIMITS.sideMax + 1, height: 1, runs: [1] }, { width: 2, height: 2, runs: [] },
    { width: 2, height: 2, runs: [1, 1] }, { width: 2, height: 2, runs: [5, -1] }, { width: 2, height: 2, runs: [1.5, 2.5] },
    { width: 2, height: 2, runs: ['4'] }, { width: 2, height: 2, runs: { length: 1 } },
  ];
  for (const value of bad) {
    const r = decodeMaskRuns(value);
    assert.ok(!r.ok, JSON.stringify(value));
    assert.ok(!r.ok && !r.problem.includes('\n') && r.problem.length > 10);
  }
});
