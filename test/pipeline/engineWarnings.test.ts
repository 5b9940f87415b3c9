/** Engine warnings that explain an unexpected result, on the tiny random-weight ONNX model. */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Engine } from '../../src/engine/engine';
import { folderDigest } from '../fixtures/folderDigest';
import type { GenerateRequest } from '../../src/protocol/engineMessages';
import { buildTinyModel } from '../fixtures/tinyModel';
import { imageDelta, realArchModel } from '../fixtures/realArch';
import { decodeImage } from '../../src/engine/image/imageIo';

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

test('an fp16 model on the CPU is said to be slower and no smaller than fp32 when it runs as it is (issue 15); an fp32 one is not', async () => {
  const { FP16_ON_CPU_WARNING, ranFp16OnCpu } = await import('../../src/engine/model');
  const asItIs = new Engine({ fp32Copies: false });
  try {
    const fp16 = await asItIs.generate(fp16Request('optimum-fp16'));
    assert.ok(fp16.warnings.includes(FP16_ON_CPU_WARNING), fp16.warnings.join('\n'));
    assert.equal(ranFp16OnCpu(fp16.warnings), true);
    assert.equal(fp16.fp32Copy, undefined);
    assert.equal(ranFp16OnCpu((await asItIs.generate(fp16Request('optimum'))).warnings), false);
  } finally {
    await asItIs.release();
  }
});

function fp16Request(variant: string): GenerateRequest {
  return {
    modelDir: realArchModel('sd15', variant), prompt: 'a boat', negativePrompt: null, sampler: 'euler', steps: 2, cfgScale: 7, seed: 1,
    width: 64, height: 64, batchSize: 1, initImage: null, strength: 0.75, previews: false, rng: 'cpu', executionProvider: 'cpu', threads: 1,
  };
}

describe('an fp16 model on the CPU runs from its fp32 copy (issue 15)', () => {
  test('one info line instead of the warning; the picture within the fp16 bar of the fp16 graph\'s; made once, then reused; the model folder untouched', async () => {
    const { FP16_ON_CPU_WARNING } = await import('../../src/engine/model');
    const fp32CacheDir = path.join(root, 'fp32-cache');
    const logs: string[] = [];
    const before = folderDigest(realArchModel('sd15', 'optimum-fp16'));
    const asItIs = new Engine({ fp32Copies: false });
    const withCopy = new Engine({ fp32CacheDir, log: (_level, m) => logs.push(m) });
    try {
      const fp16 = await asItIs.generate(fp16Request('optimum-fp16'));
      const copied = await withCopy.generate(fp16Request('optimum-fp16'));
      assert.ok(!copied.warnings.includes(FP16_ON_CPU_WARNING), copied.warnings.join('\n'));
      assert.match(copied.fp32Copy ?? '', /^this fp16 model runs on the CPU from an fp32 copy of its unet, text_encoder, vae_decoder, vae_encoder \(\d+\.\d\d GiB in .*fp32-cache; made now in \d+\.\d s, once\)/);
      const d = imageDelta(decodeImage(copied.images[0].png).rgb, decodeImage(fp16.images[0].png).rgb);
      assert.ok(Math.max(...d.meanPerChannel) <= 2, `fp32 copy vs fp16 graph: max |Δ| ${d.max}, mean ${d.meanPerChannel.join('/')}`);
      // a new engine (a new process) finds the copy: not written again
      const unetCopy = fs.readdirSync(fp32CacheDir).map((e) => path.join(fp32CacheDir, e, 'model.onnx.data')).filter((f) => fs.existsSync(f));
      assert.equal(unetCopy.length, 4);
      const mtimes = unetCopy.map((f) => fs.statSync(f).mtimeMs);
      const again = new Engine({ fp32CacheDir });
      try {
        const second = await again.generate(fp16Request('optimum-fp16'));
        assert.match(second.fp32Copy ?? '', /made once, on its first load/);
        assert.deepEqual(decodeImage(second.images[0].png).rgb, decodeImage(copied.images[0].png).rgb);
      } finally {
        await again.release();
      }
      assert.deepEqual(unetCopy.map((f) => fs.statSync(f).mtimeMs), mtimes);
      assert.equal(folderDigest(realArchModel('sd15', 'optimum-fp16')), before, 'the model folder was changed');
      // an fp32 model has no copy and no note
      assert.equal((await withCopy.generate(fp16Request('optimum'))).fp32Copy, undefined);
    } finally {
      await asItIs.release();
      await withCopy.release();
    }
  });

  test('where no copy can be made, the fp16 graph runs with the warning and the reason', async () => {
    const { FP16_ON_CPU_WARNING } = await import('../../src/engine/model');
    const blocked = path.join(root, 'not-a-folder');
    fs.writeFileSync(blocked, 'a file where the cache folder would be');
    const e = new Engine({ fp32CacheDir: path.join(blocked, 'fp32') });
    try {
      const out = await e.generate(fp16Request('optimum-fp16'));
      assert.ok(out.warnings.includes(FP16_ON_CPU_WARNING), out.warnings.join('\n'));
      assert.ok(out.warnings.some((w) => /^no fp32 copy of .*unet.model\.onnx could be made for the CPU \(.*\); it runs in fp16$/.test(w)), out.warnings.join('\n'));
      assert.equal(out.fp32Copy, undefined);
    } finally {
      await e.release();
    }
  });
});
