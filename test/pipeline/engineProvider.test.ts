/**
 * A GPU provider that cannot start: the engine runs on the CPU and its result says so (a fallback warning the host
 * turns into an explanation). Only meaningful where CUDA is absent; where it runs, the test checks the opposite.
 * INLINE_DIFFUSION_ORT_NODE pointing at a folder that is no onnxruntime-node: the bundled one is used.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Engine } from '../../src/engine/engine';
import { buildTinyModel } from '../fixtures/tinyModel';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-provider-'));
const dir = buildTinyModel(path.join(root, 'tiny'), { seed: 7 });
process.env.INLINE_DIFFUSION_ORT_NODE = path.join(root, 'no-such-onnxruntime-node');
const logs: string[] = [];
const engine = new Engine({ log: (_level, message) => logs.push(message) });

after(async () => {
  await engine.release();
  fs.rmSync(root, { recursive: true, force: true });
});

test('cuda requested: the image is made, and the result names the provider that could not start and why', async () => {
  const out = await engine.generate({
    modelDir: dir, prompt: 'a red circle', negativePrompt: '', sampler: 'euler', steps: 1, cfgScale: 1, seed: 1,
    width: 64, height: 64, batchSize: 1, initImage: null, strength: 0.75, previews: false, rng: 'cpu',
    executionProvider: 'cuda', threads: 1,
  });
  assert.equal(out.images.length, 1);
  assert.ok(logs.some((l) => l.includes('could not load onnxruntime-node from') && l.includes('no-such-onnxruntime-node')), logs.join('\n'));
  const fallbacks = out.providerFallback === undefined ? [] : [out.providerFallback];
  // the same facts reach the warnings, worded for people
  assert.equal(out.warnings.filter((w) => w.startsWith('execution provider fallback: ')).length, fallbacks.length);
  if (out.executionProvider === 'cuda') {
    assert.deepEqual(fallbacks, []);
  } else {
    assert.equal(out.executionProvider, 'cpu');
    assert.equal(fallbacks.length, 1);
    assert.deepEqual([fallbacks[0]?.provider, fallbacks[0]?.ranOn], ['cuda', 'cpu']);
    assert.match(fallbacks[0]?.reason ?? '', /shared library|CUDA|cuda/i);
  }
});
