/**
 * The Engine end to end on the embedded trained model (models/shapes-64), the way the CLI uses it: defaults from the
 * folder (native size, the model's own scheduler), a picture of what the prompt names, seeds that reproduce, a
 * batch whose images equal their seeds alone, and img2img that keeps the picture. Quality at scale is
 * modelQuality.test.ts's job; this checks the engine's plumbing on real weights.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { Engine } from '../../src/engine/engine';
import { readModelFolder } from '../../src/engine/model/modelFolder';
import { defaultRequest } from '../../src/engine/request';
import type { GenerateRequest } from '../../src/protocol/engineMessages';
import { judgeShapes } from './shapeJudge';

const MODEL_DIR = path.resolve(__dirname, '../../models/shapes-64');
const engine = new Engine();
after(() => engine.release());

function rgbOf(png: Uint8Array): { width: number; height: number; rgb: Uint8Array } {
  const d = decode(png);
  assert.deepEqual([d.channels, d.depth], [3, 8]);
  return { width: d.width, height: d.height, rgb: Uint8Array.from(d.data) };
}

test('the embedded model: native-size PNG of the named colours, reproducible seeds, batch = alone, img2img', async () => {
  const info = await readModelFolder(MODEL_DIR);
  const base: GenerateRequest = {
    ...defaultRequest(info), prompt: 'a red circle in the centre on a blue background', seed: 11,
    executionProvider: 'cpu', threads: 2,
  };
  const native = info.sampleSize * info.vaeScaleFactor;

  const [first] = (await engine.generate(base)).images;
  const image = rgbOf(first.png);
  assert.deepEqual([image.width, image.height, first.width, first.height], [native, native, native, native]);
  assert.match(first.infotext, new RegExp(`^a red circle in the centre on a blue background\\nSteps: 20, Sampler: [^,]+, `
    + `CFG scale: 7\\.5, Seed: 11, Size: ${native}x${native}, Model hash: [0-9a-f]{10}, Model: shapes-64, RNG: CPU, Version: `));
  const judged = judgeShapes(image.rgb, image.width, image.height);
  assert.deepEqual([judged.background, judged.shapeColour], ['blue', 'red'], JSON.stringify(judged));

  const again = await new Engine().generate(base);
  assert.deepEqual(again.images[0].png, first.png);

  const batch = await engine.generate({ ...base, seed: 10, batchSize: 2, sampler: 'euler_a' });
  const alone = await engine.generate({ ...base, seed: 11, sampler: 'euler_a' });
  assert.deepEqual(rgbOf(batch.images[1].png).rgb, rgbOf(alone.images[0].png).rgb);

  // img2img at a low strength keeps the picture's colours; at strength 0 it is the picture through the VAE.
  const img2img = await engine.generate({ ...base, initImage: image, strength: 0.3, seed: 99 });
  const kept = judgeShapes(rgbOf(img2img.images[0].png).rgb, native, native);
  assert.deepEqual([kept.background, kept.shapeColour], ['blue', 'red']);
  assert.match(img2img.images[0].infotext, /, Denoising strength: 0\.3, /);
});
