/** Engine warnings that explain an unexpected result, on the tiny random-weight ONNX model. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Engine } from '../../src/engine/engine';
import type { GenerateRequest } from '../../src/protocol/engineMessages';
import { buildTinyModel } from '../fixtures/tinyModel';

let root: string;
let modelDir: string;
const engine = new Engine();

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-warnings-'));
  modelDir = buildTinyModel(path.join(root, 'tiny'), { seed: 7 });
});

after(async () => {
  await engine.release();
  fs.rmSync(root, { recursive: true, force: true });
});

function img2img(steps: number, strength: number): GenerateRequest {
  return {
    modelDir, prompt: 'a red circle', negativePrompt: '', sampler: 'ddim', steps, cfgScale: 7.5, seed: 1, width: 64,
    height: 64, batchSize: 1, initImage: { width: 64, height: 64, rgb: new Uint8Array(64 * 64 * 3).fill(90) }, strength,
    previews: false, rng: 'cpu', executionProvider: 'cpu', threads: 1,
  };
}

test('img2img warns when ⌊steps × strength⌋ is 0 (no denoising step runs), and only then', async () => {
  const none = await engine.generate(img2img(4, 0.2));
  assert.deepEqual(none.warnings.filter((w) => w.includes('no step to run')).length, 1);
  const one = await engine.generate(img2img(4, 0.25));
  assert.deepEqual(one.warnings, []);
});

test('an fp16 model on the CPU is said to be slower and no smaller than fp32 (issue 15); an fp32 one is not', async () => {
  const { FP16_ON_CPU_WARNING, ranFp16OnCpu } = await import('../../src/engine/model');
  const { realArchModel } = await import('../fixtures/realArch');
  const run = (variant: string): ReturnType<Engine['generate']> => engine.generate({
    modelDir: realArchModel('sd15', variant), prompt: 'a boat', negativePrompt: null, sampler: 'euler', steps: 1, cfgScale: 7, seed: 1,
    width: 64, height: 64, batchSize: 1, initImage: null, strength: 0.75, previews: false, rng: 'cpu', executionProvider: 'cpu', threads: 1,
  });
  const fp16 = await run('optimum-fp16');
  assert.ok(fp16.warnings.includes(FP16_ON_CPU_WARNING), fp16.warnings.join('\n'));
  assert.equal(ranFp16OnCpu(fp16.warnings), true);
  assert.equal(ranFp16OnCpu((await run('optimum')).warnings), false);
});
