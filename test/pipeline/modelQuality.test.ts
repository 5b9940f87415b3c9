/**
 * Quality of the embedded shapes model (models/shapes-64), measured through the real engine on the committed ONNX
 * files (issue 3): 40 prompts × Euler a, DPM++ 2M and DDIM at 20 steps, CFG 7, 64×64, judged by shapeJudge.ts.
 * Background and shape colour must be the named ones for ≥ 90% of the images, the named position for ≥ 80%;
 * shape identity and the variation across seeds are printed. The judge and the tokenizer files are first checked
 * against fixtures written by the training code (models/train/make_fixtures.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { Engine } from '../../src/engine/engine';
import { ClipTokenizer } from '../../src/engine/tokenizer/clipTokenizer';
import type { GenerateRequest } from '../../src/protocol/engineMessages';
import {
  COLOUR_NAMES, POSITION_NAMES, SHAPE_NAMES, gridTile, judgeShapes,
  type ColourName, type PositionName, type ShapeJudgement, type ShapeName,
} from './shapeJudge';

const MODEL_DIR = path.resolve(__dirname, '../../models/shapes-64');
const TRAIN_DIR = path.resolve(__dirname, '../../models/train');
const SAMPLERS = ['euler_a', 'dpmpp_2m', 'ddim'] as const;
const SIDE = 64;

interface PromptSpec {
  readonly text: string;
  readonly shape: ShapeName;
  readonly colour: ColourName;
  readonly background: ColourName;
  readonly position: PositionName;
}

/** 40 prompts: every shape × position twice, colours spread over the palette, half of them naming a size. */
function buildPrompts(): PromptSpec[] {
  const out: PromptSpec[] = [];
  for (let i = 0; i < 40; i++) {
    const shape = SHAPE_NAMES[i % 4];
    const position = POSITION_NAMES[Math.floor(i / 4) % 5];
    const colour = COLOUR_NAMES[(i * 3) % 8];
    let background = COLOUR_NAMES[(i * 5 + 1) % 8];
    if (background === colour) background = COLOUR_NAMES[(i * 5 + 2) % 8];
    const size = i % 2 === 1 ? (i % 4 === 1 ? 'small ' : 'large ') : '';
    const where = position === 'centre' ? 'in the centre' : `in the ${position}`;
    out.push({ text: `a ${size}${colour} ${shape} ${where} on a ${background} background`, shape, colour, background, position });
  }
  return out;
}

function request(prompt: string, sampler: string, seed: number, batchSize = 1): GenerateRequest {
  return {
    modelDir: MODEL_DIR, prompt, negativePrompt: '', sampler, steps: 20, cfgScale: 7, seed, width: SIDE, height: SIDE,
    batchSize, initImage: null, strength: 0.75, previews: false, rng: 'cpu', executionProvider: 'cpu', threads: 2,
  };
}

/** PNG bytes → RGB bytes, checking it is an 8-bit RGB picture of the asked size. */
function decodeRgb(png: Uint8Array): Uint8Array {
  const img = decode(png);
  assert.deepEqual([img.width, img.height, img.channels, img.depth], [SIDE, SIDE, 3, 8], 'an 8-bit RGB 64×64 PNG');
  return Uint8Array.from(img.data);
}

const pct = (n: number, of: number): string => `${((100 * n) / of).toFixed(1)}%`;

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

test('the judge reads the training renderer\'s pictures correctly', () => {
  const labels = JSON.parse(readFileSync(path.join(TRAIN_DIR, 'judge-check.json'), 'utf8')) as {
    tile: number; columns: number; tiles: Array<{ shape: ShapeName; colour: ColourName; bg: ColourName; pos: PositionName }>;
  };
  const grid = decode(readFileSync(path.join(TRAIN_DIR, 'judge-check.png')));
  const t = labels.tile;
  const got: string[] = [];
  const want: string[] = [];
  labels.tiles.forEach((label, k) => {
    const rgb = gridTile(grid, t, labels.columns, k);
    const j = judgeShapes(rgb, t, t);
    got.push(`${j.background} ${j.shapeColour} ${j.shape} ${j.position}`);
    want.push(`${label.bg} ${label.colour} ${label.shape} ${label.pos}`);
  });
  assert.deepEqual(got, want);
});

test('the engine\'s tokenizer gives the ids the training code gave, on the model\'s own vocabulary', async () => {
  const cases = JSON.parse(readFileSync(path.join(TRAIN_DIR, 'caption-ids.json'), 'utf8')) as Array<{ text: string; ids: number[] }>;
  const tok = await ClipTokenizer.fromFolder(path.join(MODEL_DIR, 'tokenizer'));
  assert.deepEqual(cases.map((c) => tok.encode(c.text)), cases.map((c) => c.ids));
});

test('draws the named colours, positions and shapes through the real engine (40 prompts × 3 samplers)', async () => {
  const engine = new Engine();
  try {
    const prompts = buildPrompts();
    const tally = { background: 0, colour: 0, position: 0, shape: 0, total: 0, iou: 0 };
    const lines: string[] = [];
    const misses: string[] = [];
    for (const sampler of SAMPLERS) {
      const s = { background: 0, colour: 0, position: 0, shape: 0 };
      for (let i = 0; i < prompts.length; i++) {
        const p = prompts[i];
        const out = await engine.generate(request(p.text, sampler, 1000 + i));
        const j: ShapeJudgement = judgeShapes(decodeRgb(out.images[0].png), SIDE, SIDE);
        s.background += Number(j.background === p.background);
        s.colour += Number(j.shapeColour === p.colour);
        s.position += Number(j.position === p.position);
        s.shape += Number(j.shape === p.shape);
        tally.iou += j.shapeIou;
        if (j.shape !== p.shape || j.shapeColour !== p.colour || j.position !== p.position) {
          misses.push(`${sampler} "${p.text}" → ${j.background}/${j.shapeColour}/${j.shape}/${j.position}`);
        }
      }
      const n = prompts.length;
      lines.push(`${sampler}: background ${pct(s.background, n)}, shape colour ${pct(s.colour, n)}, `
        + `position ${pct(s.position, n)}, shape ${pct(s.shape, n)}`);
      tally.background += s.background;
      tally.colour += s.colour;
      tally.position += s.position;
      tally.shape += s.shape;
      tally.total += n;
    }
    const n = tally.total;
    console.log(`model quality over ${n} images (20 steps, CFG 7, ${SIDE}×${SIDE}):\n  ${lines.join('\n  ')}\n`
      + `  all: background ${pct(tally.background, n)}, shape colour ${pct(tally.colour, n)}, `
      + `position ${pct(tally.position, n)}, shape identity ${pct(tally.shape, n)} `
      + `(mean IoU with the best template ${(tally.iou / n).toFixed(2)}; clean training renders: 0.98)\n  misses:\n    ${misses.join('\n    ')}`);
    assert.ok(tally.background >= 0.9 * n, `background colour right for ${pct(tally.background, n)}, expected ≥ 90%`);
    assert.ok(tally.colour >= 0.9 * n, `shape colour right for ${pct(tally.colour, n)}, expected ≥ 90%`);
    assert.ok(tally.position >= 0.8 * n, `position right for ${pct(tally.position, n)}, expected ≥ 80%`);
    assert.ok(tally.shape >= 0.7 * n, `shape identity right for ${pct(tally.shape, n)}, expected ≥ 70% (aim 85%)`);
  } finally {
    await engine.release();
  }
});

test('the same seed gives an identical PNG; other seeds give other pictures; the empty prompt gives a picture', async () => {
  const engine = new Engine();
  try {
    const prompt = 'a yellow star on a blue background';
    const a = await engine.generate(request(prompt, 'euler_a', 42));
    const other = new Engine();
    const again = await other.generate(request(prompt, 'euler_a', 42));
    await other.release();
    assert.deepEqual(Buffer.from(again.images[0].png), Buffer.from(a.images[0].png), 'same seed, same PNG bytes');

    // Variation: 8 prompts × 4 seeds (one batch each, seeds s … s+3).
    const prompts = buildPrompts().filter((_, i) => i % 5 === 0);
    let pairs = 0;
    let identical = 0;
    let diffSum = 0;
    let areaSpread = 0;
    let sameShapeGroups = 0;
    for (const [k, p] of prompts.entries()) {
      const out = await engine.generate(request(p.text, 'dpmpp_2m', 500 + 10 * k, 4));
      const rgbs = out.images.map((im) => decodeRgb(im.png));
      const judged = rgbs.map((rgb) => judgeShapes(rgb, SIDE, SIDE));
      for (let i = 0; i < rgbs.length; i++) {
        for (let j = i + 1; j < rgbs.length; j++) {
          const d = meanAbsDiff(rgbs[i], rgbs[j]);
          pairs++;
          diffSum += d;
          if (d === 0) identical++;
        }
      }
      const fr = judged.map((j) => j.shapeFraction);
      const mean = fr.reduce((x, y) => x + y, 0) / fr.length;
      areaSpread += Math.sqrt(fr.reduce((x, y) => x + (y - mean) ** 2, 0) / fr.length) / Math.max(mean, 1e-6);
      if (judged.every((j) => j.shape === judged[0].shape)) sameShapeGroups++;
    }
    console.log(`seed variation (dpmpp_2m, ${prompts.length} prompts × 4 seeds): mean |Δ| between two seeds `
      + `${(diffSum / pairs).toFixed(2)} of 255 per channel, ${identical}/${pairs} pairs identical, relative spread of `
      + `shape area ${(100 * areaSpread / prompts.length).toFixed(1)}%, same judged shape in all 4 for `
      + `${sameShapeGroups}/${prompts.length} prompts`);
    assert.equal(identical, 0, 'different seeds gave identical pictures');
    assert.ok(diffSum / pairs > 0.5, `pictures for one prompt barely differ across seeds: mean |Δ| ${(diffSum / pairs).toFixed(3)}`);

    const empty = await engine.generate(request('', 'ddim', 7));
    const rgb = decodeRgb(empty.images[0].png);
    const j = judgeShapes(rgb, SIDE, SIDE);
    console.log(`empty prompt: ${j.background} background (Δ ${j.backgroundDistance.toFixed(0)}), `
      + `${j.shapeColour ?? 'no'} ${j.shape ?? 'shape'}`);
    assert.ok(j.backgroundDistance < 60,
      `empty prompt: border colour is ${j.backgroundDistance.toFixed(0)} away from the nearest palette colour, expected < 60`);
  } finally {
    await engine.release();
  }
});
