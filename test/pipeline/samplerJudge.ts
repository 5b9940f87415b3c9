/**
 * Issue 19's measurement of the embedded model (models/shapes-64) under every sampler a user can pick: 20 pictures
 * per sampler at 20 steps, CFG 7, 64×64 — 10 prompts × 2 seeds, the 11 × 10 prompts covering all 40 cases of four
 * shapes × both sizes × five positions — judged by judgeShapesSoft. The prompts and seeds are this file's own (no other
 * test uses them). Used by samplerQuality.test.ts; judgeModel.ts runs it (with more seeds) and measureUniform (prompts
 * with the colours varied too) on any model folder, to compare two models.
 */
import assert from 'node:assert/strict';
import { decode } from 'fast-png';
import { Engine } from '../../src/engine/engine';
import type { GenerateRequest } from '../../src/protocol/engineMessages';
import {
  COLOUR_NAMES, POSITION_NAMES, SHAPE_NAMES, judgeShapesSoft,
  type ColourName, type PositionName, type ShapeName,
} from './shapeJudge';

export const JUDGED_SAMPLERS = [
  'euler', 'euler_a', 'heun', 'lms', 'dpmpp_2m', 'dpmpp_2m_karras', 'ddim', 'plms', 'ddpm', 'unipc', 'lcm',
] as const;
export type JudgedSampler = (typeof JUDGED_SAMPLERS)[number];

const SIDE = 64;
const PROMPTS_PER_SAMPLER = 10;
const SEEDS_PER_PROMPT = 2;

export interface JudgeCase {
  readonly text: string;
  readonly shape: ShapeName;
  readonly size: 'small' | 'large';
  readonly colour: ColourName;
  readonly background: ColourName;
  readonly position: PositionName;
}

/** The 40 shape × size × position cases, colours spread over the palette (shape and background always differ). */
export function judgeCases(): JudgeCase[] {
  const out: JudgeCase[] = [];
  for (let k = 0; k < 40; k++) {
    const shape = SHAPE_NAMES[k % 4];
    const size = Math.floor(k / 4) % 2 === 0 ? 'large' : 'small';
    const position = POSITION_NAMES[Math.floor(k / 8) % 5];
    const colour = COLOUR_NAMES[(k * 5 + 3) % 8];
    let background = COLOUR_NAMES[(k * 3 + 6) % 8];
    if (background === colour) background = COLOUR_NAMES[(k * 3 + 7) % 8];
    const where = position === 'centre' ? 'in the middle' : `in the ${position}`;
    out.push({ text: `a ${size} ${colour} ${shape} ${where} on a ${background} background`, shape, size, colour, background, position });
  }
  return out;
}

export interface SamplerScore {
  readonly sampler: JudgedSampler;
  readonly pictures: number;
  /** Background and shape colour both the named ones. */
  readonly colours: number;
  readonly shape: number;
  readonly position: number;
  /** Mean soft IoU of the named shape's template with the picture (0 where no shape was found). */
  readonly meanIou: number;
  readonly misses: string[];
}

function request(modelDir: string, c: JudgeCase, sampler: string, seed: number): GenerateRequest {
  return {
    modelDir, prompt: c.text, negativePrompt: '', sampler, steps: 20, cfgScale: 7, seed, width: SIDE, height: SIDE,
    batchSize: SEEDS_PER_PROMPT, initImage: null, strength: 0.75, previews: false, rng: 'cpu', executionProvider: 'cpu',
    threads: 2,
  };
}

/** A sampler's running tally: the SamplerScore fields, filled picture by picture. */
interface Tally { pictures: number; colours: number; shape: number; position: number; iou: number; misses: string[] }

/** Generates the case's two pictures under `sampler` from `seed` and adds their judgements to `tally` (and `byClass`). */
async function judgeCase(
  engine: Engine, modelDir: string, c: JudgeCase, sampler: string, seed: number, tally: Tally,
  byClass?: Map<string, [number, number]>,
): Promise<void> {
  const out = await engine.generate(request(modelDir, c, sampler, seed));
  assert.equal(out.images.length, SEEDS_PER_PROMPT);
  out.images.forEach((im, i) => {
    const d = decode(im.png);
    assert.deepEqual([d.width, d.height, d.channels, d.depth], [SIDE, SIDE, 3, 8], 'an 8-bit RGB 64×64 PNG');
    const got = judgeShapesSoft(Uint8Array.from(d.data), SIDE, SIDE);
    const okColours = got.background === c.background && got.shapeColour === c.colour;
    tally.pictures += 1;
    tally.colours += Number(okColours);
    tally.shape += Number(got.shape === c.shape);
    tally.position += Number(got.position === c.position);
    tally.iou += got.shapeColour === null ? 0 : got.ious[c.shape];
    const cls = byClass?.get(`${c.size} ${c.shape}`) ?? [0, 0];
    cls[0] += Number(got.shape === c.shape);
    cls[1] += 1;
    byClass?.set(`${c.size} ${c.shape}`, cls);
    if (!okColours || got.shape !== c.shape) {
      tally.misses.push(`seed ${seed + i} "${c.text}" → ${got.shapeColour ?? 'no'} ${got.shape ?? 'shape'} on ${got.background} `
        + `(IoU ${got.iou.toFixed(2)})`);
    }
  });
}

function score(sampler: JudgedSampler, t: Tally): SamplerScore {
  return { sampler, pictures: t.pictures, colours: t.colours, shape: t.shape, position: t.position, meanIou: t.iou / t.pictures, misses: t.misses };
}

const emptyTally = (): Tally => ({ pictures: 0, colours: 0, shape: 0, position: 0, iou: 0, misses: [] });

/**
 * Generates and judges the 20 pictures of each sampler (in JUDGED_SAMPLERS' order unless `samplers` says); `rounds` > 1
 * repeats them with other seeds (round r adds 100,000·r), for comparing two models on more pictures than CI needs.
 */
export async function measureSamplers(
  modelDir: string, samplers: readonly JudgedSampler[] = JUDGED_SAMPLERS, rounds = 1,
): Promise<SamplerScore[]> {
  const cases = judgeCases();
  const engine = new Engine();
  try {
    const scores: SamplerScore[] = [];
    for (const sampler of samplers) {
      const j = JUDGED_SAMPLERS.indexOf(sampler);
      const tally = emptyTally();
      for (let k = 0; k < PROMPTS_PER_SAMPLER * rounds; k++) {
        // every sampler: all four shapes, both sizes, all five positions; the 110 prompts: all 40 cases
        const c = cases[(j * 7 + (k % PROMPTS_PER_SAMPLER) * 11) % cases.length];
        const seed = 31_000 + 100 * j + 10 * (k % PROMPTS_PER_SAMPLER) + 100_000 * Math.floor(k / PROMPTS_PER_SAMPLER);
        await judgeCase(engine, modelDir, c, sampler, seed, tally);
      }
      scores.push(score(sampler, tally));
    }
    return scores;
  } finally {
    await engine.release();
  }
}

/**
 * `n` cases drawn uniformly and independently (seeded: mulberry32) over shape × size × colour × background (≠ the
 * colour) × position. judgeCases() spreads its 40 cases over shape × size × position but ties each to one colour pair
 * (its five small stars are all white on yellow); these vary the colours too.
 */
export function uniformCases(n: number, seed = 19): JudgeCase[] {
  let a = seed >>> 0;
  const next = (k: number): number => { // mulberry32
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * k);
  };
  const out: JudgeCase[] = [];
  for (let k = 0; k < n; k++) {
    const shape = SHAPE_NAMES[next(4)];
    const size = next(2) === 0 ? 'large' : 'small';
    const colour = COLOUR_NAMES[next(8)];
    const background = COLOUR_NAMES.filter((b) => b !== colour)[next(7)];
    const position = POSITION_NAMES[next(5)];
    const where = position === 'centre' ? 'in the middle' : `in the ${position}`;
    out.push({ text: `a ${size} ${colour} ${shape} ${where} on a ${background} background`, shape, size, colour, background, position });
  }
  return out;
}

/**
 * A second, broader measurement (not run by npm test: ~1 minute per 30 prompts): every sampler draws the same
 * uniformCases(prompts), two pictures each (seeds 77,000 + 10·k). Returns the scores and, over all samplers, the
 * share of pictures with the right shape per size × shape ('small star': [right, pictures]).
 */
export async function measureUniform(
  modelDir: string, prompts = 30, samplers: readonly JudgedSampler[] = JUDGED_SAMPLERS,
): Promise<{ scores: SamplerScore[]; byClass: Map<string, [number, number]> }> {
  const cases = uniformCases(prompts);
  const byClass = new Map<string, [number, number]>();
  const engine = new Engine();
  try {
    const scores: SamplerScore[] = [];
    for (const sampler of samplers) {
      const tally = emptyTally();
      for (const [k, c] of cases.entries()) await judgeCase(engine, modelDir, c, sampler, 77_000 + 10 * k, tally, byClass);
      scores.push(score(sampler, tally));
    }
    return { scores, byClass };
  } finally {
    await engine.release();
  }
}

/** The scores as a markdown table (percentages), the way models/shapes-64/README.md shows them. */
export function scoreTable(scores: readonly SamplerScore[]): string {
  const pct = (n: number, of: number): string => `${Math.round((100 * n) / of)}%`;
  return [
    `| sampler | ${scores.map((s) => s.sampler).join(' | ')} |`,
    `|---|${scores.map(() => '---').join('|')}|`,
    `| colours right | ${scores.map((s) => pct(s.colours, s.pictures)).join(' | ')} |`,
    `| shape right | ${scores.map((s) => pct(s.shape, s.pictures)).join(' | ')} |`,
    `| position right | ${scores.map((s) => pct(s.position, s.pictures)).join(' | ')} |`,
    `| mean soft IoU | ${scores.map((s) => s.meanIou.toFixed(2)).join(' | ')} |`,
  ].join('\n');
}
