/**
 * Compares models the way models/shapes-64/README.md reports them (not part of npm test):
 *
 *   node --import tsx test/pipeline/judgeModel.ts MODEL_DIR [ROUNDS=4] [UNIFORM_PROMPTS=30]
 *
 * prints samplerQuality.test.ts's judge over ROUNDS seed sets (80 pictures a sampler at 4), then measureUniform's
 * UNIFORM_PROMPTS prompts (two pictures each, every sampler) with the share of right shapes per size × shape.
 * About 70 s + 60 s per 30 uniform prompts on two idle cores.
 */
import * as path from 'node:path';
import { measureSamplers, measureUniform, scoreTable, JUDGED_SAMPLERS } from './samplerJudge';

async function main(): Promise<void> {
  const [dir, rounds = '4', prompts = '30'] = process.argv.slice(2);
  if (!dir) throw new Error('usage: judgeModel.ts MODEL_DIR [ROUNDS=4] [UNIFORM_PROMPTS=30]');
  const modelDir = path.resolve(dir);
  const fixed = await measureSamplers(modelDir, JUDGED_SAMPLERS, Number(rounds));
  console.log(`${modelDir}\nsamplerQuality's prompts, ${fixed[0].pictures} pictures a sampler:\n${scoreTable(fixed)}`);
  const { scores, byClass } = await measureUniform(modelDir, Number(prompts));
  console.log(`\nuniform prompts, ${scores[0].pictures} pictures a sampler:\n${scoreTable(scores)}`);
  const all = scores.reduce((n, s) => n + s.shape, 0) / scores.reduce((n, s) => n + s.pictures, 0);
  console.log(`shape right over all ${scores.length} samplers: ${(100 * all).toFixed(1)}%; by class: `
    + [...byClass].sort().map(([k, [ok, n]]) => `${k} ${Math.round((100 * ok) / n)}%`).join(', '));
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
