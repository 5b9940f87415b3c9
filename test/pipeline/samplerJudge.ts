/**
 * Issue 19's measurement of the embedded model (models/shapes-64) under every sampler a user can pick: 20 pictures
 * per sampler at 20 steps, CFG 7, 64×64 — 5 prompts × 4 seeds, the 11 × 5 prompts covering all four shapes × both
 * sizes × all five positions — judged by judgeShapesSoft. The prompts and seeds are this file's own (no other test
 * uses them). Used by samplerQuality.test.ts; a script may call measureSamplers on another model folder to compare.
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
      let colours = 0;
      let shape = 0;
      let position = 0;
      let iou = 0;
      const misses: string[] = [];
      for (let k = 0; k < PROMPTS_PER_SAMPLER * rounds; k++) {
        // every sampler: all four shapes, both sizes, all five positions; the 110 prompts: all 40 cases
        const c = cases[(j * 7 + (k % PROMPTS_PER_SAMPLER) * 11) % cases.length];
        const seed = 31_000 + 100 * j + 10 * (k % PROMPTS_PER_SAMPLER) + 100_000 * Math.floor(k / PROMPTS_PER_SAMPLER);
        const out = await engine.generate(request(modelDir, c, sampler, seed));
        assert.equal(out.images.length, SEEDS_PER_PROMPT);
        out.images.forEach((im, i) => {
          const d = decode(im.png);
          assert.deepEqual([d.width, d.height, d.channels, d.depth], [SIDE, SIDE, 3, 8], 'an 8-bit RGB 64×64 PNG');
          const got = judgeShapesSoft(Uint8Array.from(d.data), SIDE, SIDE);
          const okColours = got.background === c.background && got.shapeColour === c.colour;
          colours += Number(okColours);
          shape += Number(got.shape === c.shape);
          position += Number(got.position === c.position);
          iou += got.shapeColour === null ? 0 : got.ious[c.shape];
          if (!okColours || got.shape !== c.shape) {
            misses.push(`seed ${seed + i} "${c.text}" → ${got.shapeColour ?? 'no'} ${got.shape ?? 'shape'} on ${got.background} `
              + `(IoU ${got.iou.toFixed(2)})`);
          }
        });
      }
      const pictures = PROMPTS_PER_SAMPLER * SEEDS_PER_PROMPT * rounds;
      scores.push({ sampler, pictures, colours, shape, position, meanIou: iou / pictures, misses });
    }
    return scores;
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
