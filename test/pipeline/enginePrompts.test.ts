/**
 * A1111's prompt syntax through the real engine on tiny random-weight ONNX models (test/fixtures/tinyModel.ts): long
 * prompts in chunks instead of truncation, editing, AND, emphasis and clip skip in the infotext, and refusals.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { Engine, EngineError } from '../../src/engine/engine';
import type { GenerateRequest } from '../../src/protocol/engineMessages';
import { buildTinyModel } from '../fixtures/tinyModel';

let root: string;
let dynamicDir: string;
let fixedDir: string;
const engine = new Engine();

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-prompts-'));
  dynamicDir = buildTinyModel(path.join(root, 'dynamic'), { seed: 7, dynamicTokens: true });
  fixedDir = buildTinyModel(path.join(root, 'fixed'), { seed: 7 });
});

after(async () => {
  await engine.release();
  fs.rmSync(root, { recursive: true, force: true });
});

function request(patch: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    modelDir: dynamicDir, prompt: 'a red circle', negativePrompt: 'blurry', sampler: 'euler',
    steps: 3, cfgScale: 7.5, seed: 42, width: 64, height: 64, batchSize: 1, initImage: null, strength: 0.75,
    previews: false, rng: 'cpu', executionProvider: 'cpu', threads: 1, ...patch,
  };
}

/** The image's pixels (the PNG bytes differ anyway: they carry the prompt), warnings and infotext. */
const pixels = async (patch: Partial<GenerateRequest>): Promise<{ png: Uint8Array; warnings: readonly string[]; infotext: string }> => {
  const out = await engine.generate(request(patch));
  return { png: Uint8Array.from(decode(out.images[0].png).data), warnings: out.warnings, infotext: out.images[0].infotext };
};

test('a prompt past 75 tokens is read whole (its second chunk changes the image), without a warning', async () => {
  const words = Array.from({ length: 90 }, (_, i) => `word${i}`).join(' ');
  const long = await pixels({ prompt: words });
  const cut = await pixels({ prompt: Array.from({ length: 90 }, (_, i) => `word${i}`).slice(0, 40).join(' ') });
  assert.deepEqual(long.warnings, []);
  assert.notDeepEqual(long.png, cut.png);
});

test('prompt editing switches the conditioning mid-way: neither of its two prompts alone', async () => {
  const edited = await pixels({ prompt: '[a red circle:a blue square:1]' });
  const first = await pixels({ prompt: 'a red circle' });
  const second = await pixels({ prompt: 'a blue square' });
  assert.notDeepEqual(edited.png, first.png);
  assert.notDeepEqual(edited.png, second.png);
  // [x:y:3] with 3 steps never switches (A1111: the first 4 calls read x): the image is x's.
  assert.deepEqual((await pixels({ prompt: '[a red circle:a blue square:3]' })).png, first.png);
});

test('AND with weights runs, and a lone sub-prompt of weight 1 is the plain prompt', async () => {
  const both = await pixels({ prompt: 'a red circle AND a blue square:0.6' });
  assert.notDeepEqual(both.png, (await pixels({ prompt: 'a red circle' })).png);
  assert.deepEqual((await pixels({ prompt: 'a red circle:1' })).png, (await pixels({ prompt: 'a red circle' })).png);
});

test('emphasis other than Original is written as A1111 writes it; weights change the image', async () => {
  const noNorm = await pixels({ prompt: 'a (red:1.5) circle', emphasis: 'no-norm' });
  assert.match(noNorm.infotext, /, Emphasis: No norm, Version: /);
  assert.doesNotMatch((await pixels({ prompt: 'a red circle', emphasis: 'no-norm' })).infotext, /Emphasis/);
  assert.notDeepEqual((await pixels({ prompt: 'a (red:1.5) circle' })).png, (await pixels({ prompt: 'a red circle' })).png);
  assert.deepEqual((await pixels({ prompt: 'a (red:1.5) circle', emphasis: 'none' })).png.length > 0, true);
});

test('a prompt of more than 20 chunks is refused before anything loads; unbalanced brackets never fail', async () => {
  const fresh = new Engine();
  await assert.rejects(fresh.generate(request({ prompt: 'word '.repeat(1501) })), (e: unknown) =>
    e instanceof EngineError && e.code === 'invalid-request'
    && /^prompt: 1501 tokens make 21 chunks of 75; at most 20 \(1500 tokens\) are encoded — shorten it$/.test(e.message));
  await fresh.release();
  for (const prompt of ['((a red circle', 'a ]] circle [[', '[a|', 'a \\', '(a:1.2.3)', '[a|]', '[a:b:1e400]']) {
    assert.equal((await pixels({ prompt })).png.length > 0, true, prompt);
  }
});

test('clip skip on a text encoder without the layers it needs is refused with the reason', async () => {
  await assert.rejects(engine.generate(request({ clipSkip: 2 })), (e: unknown) =>
    e instanceof EngineError && /clip skip 2 cannot be found in .*text_encoder[/\\]model\.onnx/.test(e.message));
});

test('a UNet with a fixed token axis reads the first chunk and names the dropped tokens', async () => {
  const out = await pixels({ modelDir: fixedDir, prompt: Array(80).fill('red').join(' ') });
  assert.deepEqual(out.warnings, ['this UNet reads 77 tokens (its token axis was fixed at export): only the first chunk of 75 is used, 5 tokens are dropped']);
});

test('the engine counts a prompt field as A1111\'s token counter does, with the model\'s tokenizer', async () => {
  // The longest AND part counts: "word," and 80 × "x" are 82 tokens; the tag and the weight syntax count nothing.
  assert.deepEqual(await engine.countTokens(dynamicDir, `a (red:1.2) circle <lora:film:0.8> AND word, ${'x '.repeat(80)}`, 'blurry', 20), {
    prompt: { tokens: 82, limit: 150 }, negativePrompt: { tokens: 1, limit: 75 },
  });
});

test('the counter counts an embedding as its vectors, as A1111\'s does (not the tokens of its name)', async () => {
  const folder = path.resolve(__dirname, '../fixtures/lora'); // fixturestyle: 2 vectors; fixtureneg (.pt): 1
  const withFolder = await engine.countTokens(dynamicDir, 'a fixturestyle photograph', 'fixtureneg, blurry', 20, folder);
  assert.deepEqual(withFolder, { prompt: { tokens: 4, limit: 75 }, negativePrompt: { tokens: 3, limit: 75 } });
  const words = await engine.countTokens(dynamicDir, 'a fixturestyle photograph', 'fixtureneg, blurry', 20);
  assert.ok(words.prompt.tokens > 4 && words.negativePrompt.tokens > 3, JSON.stringify(words));
  // 40 embeddings of 2 vectors: 80 tokens, the second chunk (an embedding is not split across chunks)
  assert.deepEqual((await engine.countTokens(dynamicDir, 'fixturestyle '.repeat(40), '', 20, folder)).prompt, { tokens: 81, limit: 150 });
});
