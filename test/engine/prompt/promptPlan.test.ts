import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { ClipTokenizer } from '../../../src/engine/tokenizer';
import { buildPromptPlan, conditioningAt, preparePrompts, type ChunkEncoder, type PromptPlanInput } from '../../../src/engine/prompt';

const CLIP_DIR = path.resolve(__dirname, '../../../../shared/data/clip');

/** An encoder whose hidden states (width 1) hold each row's first content id: which text a conditioning came from. */
async function idEncoder(): Promise<ChunkEncoder> {
  const tokenizer = await ClipTokenizer.fromFolder(CLIP_DIR);
  return {
    tokenizer,
    async encode(ids, rows) {
      const hidden = new Float32Array(rows * 77);
      for (let r = 0; r < rows; r++) hidden.fill(ids[r * 77 + 1], r * 77, (r + 1) * 77);
      return { hidden, width: 1 };
    },
  };
}

async function plan(patch: Partial<PromptPlanInput>): Promise<ReturnType<typeof buildPromptPlan>> {
  return buildPromptPlan({
    prompt: '[cat:dog:0.5]', negativePrompt: '', steps: 4, schedulerOrder: 1, cfgScale: 7, embeddedGuidance: false,
    zeroNegative: false, encoders: [await idEncoder()], options: { emphasis: 'original' }, ...patch,
  });
}

test('prompt editing switches at A1111\'s call numbering: Euler over 4 steps, Heun over 4 × 2 (its 7 model calls)', async () => {
  const tokenizer = await ClipTokenizer.fromFolder(CLIP_DIR);
  const [cat, dog] = [tokenizer.encodeContent('cat')[0], tokenizer.encodeContent('dog')[0]];
  const textAt = async (order: number, calls: number): Promise<number[]> => {
    const p = await plan({ schedulerOrder: order });
    return Array.from({ length: calls }, (_, s) => conditioningAt(p.parts[0].schedule, s).hidden[0]);
  };
  assert.deepEqual(await textAt(1, 4), [cat, cat, cat, dog]);
  assert.deepEqual(await textAt(2, 7), [cat, cat, cat, cat, cat, dog, dog]);
});

test('the unconditional is encoded where guidance or AND needs it, and AND is refused on a UNet without a CFG batch', async () => {
  assert.equal((await plan({ cfgScale: 1 })).negative, undefined);
  assert.notEqual((await plan({ cfgScale: 1, prompt: 'cat AND dog' })).negative, undefined);
  assert.notEqual((await plan({ cfgScale: 1, prompt: 'cat:0.5' })).negative, undefined);
  await assert.rejects(plan({ embeddedGuidance: true, prompt: 'cat AND dog' }), /AND and sub-prompt weights .* combine with the unconditional prediction/);
});

test('old prompt editing timelines: the plan switches where A1111\'s old schedule does; the infotext says so where A1111 1.6+ does', async () => {
  const encoder = await idEncoder();
  const tokenizer = encoder.tokenizer;
  const plan = (useOldScheduling: boolean): Promise<ReturnType<typeof conditioningAt>[]> => buildPromptPlan({
    prompt: '[cat:dog:1.0]', negativePrompt: '', steps: 4, schedulerOrder: 1, cfgScale: 1, embeddedGuidance: false,
    zeroNegative: false, encoders: [encoder], options: { emphasis: 'original', useOldScheduling },
  }).then((p) => [0, 1, 2, 3].map((s) => conditioningAt(p.parts[0].schedule, s)));
  const [cat, dog] = ['cat', 'dog'].map((w) => tokenizer.encodeContent(w)[0]);
  assert.deepEqual((await plan(false)).map((c) => c.hidden[1]), [cat, cat, cat, cat]);
  assert.deepEqual((await plan(true)).map((c) => c.hidden[1]), [cat, cat, dog, dog]);
  const extra = (prompt: string, negativePrompt: string, useOldScheduling: boolean, emphasis: 'original' | 'none' = 'original') =>
    preparePrompts({ prompt, negativePrompt, steps: 4, schedulerOrder: 1, emphasis, tokenizer, useOldScheduling }).infotextExtra;
  assert.deepEqual([
    extra('[cat:dog:1.0]', '', true), extra('[cat:dog:1.0]', '', false),
    // the same schedule under both timelines (a fraction below 1, an integer step): A1111 writes nothing
    extra('[cat:dog:0.5] [red:blue:2]', '', true),
    extra('a cat', '[blurry:sharp:1.0]', true),
    extra('[(cat:1.2):dog:1.0]', '', true, 'none'),
  ], [
    [['Old prompt editing timelines', 'True']], [], [], [['Old prompt editing timelines', 'True']],
    [['Old prompt editing timelines', 'True'], ['Emphasis', 'None']],
  ]);
});

test('the 20-chunk limit counts a negative prompt with its <kind:args> tags, as it is encoded (only the prompt\'s are taken out)', async () => {
  const tokenizer = await ClipTokenizer.fromFolder(CLIP_DIR);
  const tags = '<lora:style:0.8> '.repeat(300); // ~1,800 tokens of tags, a few of text
  const prepare = (prompt: string, negativePrompt: string) =>
    preparePrompts({ prompt, negativePrompt, steps: 4, schedulerOrder: 1, emphasis: 'original', tokenizer });
  assert.throws(() => prepare('a cat', `${tags}blurry`), /^Error: negative prompt: \d+ tokens make \d+ chunks of 75; at most 20/);
  // in the prompt the tags are taken out before counting (handed to their handlers; here none: a warning)
  assert.doesNotThrow(() => prepare(`${tags}a cat`, 'blurry'));
});
