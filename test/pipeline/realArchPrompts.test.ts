/**
 * Whole images follow A1111's conditioning (issue 14): on the real-architecture SD 1.5 fixture, AUTOMATIC1111's own
 * prompt code computed the conditioning in torch of a long weighted prompt with BREAK (3 chunks, 231 tokens), of a
 * prompt with editing and alternation, and of one edited under "Old prompt editing timelines"; diffusers'
 * StableDiffusionPipeline drew each with DDIM through prompt_embeds, switching them at A1111's steps
 * (test/fixtures/real-arch/record_a1111_images.py, a1111_cases.json). The engine, given only the prompt text, must
 * draw the same picture: max |Δ| ≤ 2 and mean |Δ| ≤ 0.25 per channel (levels of 255), as realArch.test.ts holds
 * plain prompts to.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { Engine } from '../../src/engine/engine';
import { decodeImage } from '../../src/engine/image/imageIo';
import { parseInfotext } from '../../src/engine/infotext';
import type { GenerateRequest } from '../../src/protocol/engineMessages';
import { imageDelta, REAL_ARCH_DIR, realArchModel } from '../fixtures/realArch';

interface A1111Case {
  readonly id: string;
  readonly prompt: string;
  readonly negative: string;
  readonly steps: number;
  readonly cfg: number;
  readonly seed: number;
  readonly oldTimelines: boolean;
  readonly sampler: string;
  readonly width: number;
  readonly height: number;
  readonly tokens: number;
  /** A1111 steps at which the conditioning changed (diffusers' prompt_embeds were swapped before them). */
  readonly switchSteps: readonly number[];
  readonly reference: string;
}

const cases = JSON.parse(fs.readFileSync(path.join(REAL_ARCH_DIR, 'a1111_cases.json'), 'utf8')) as A1111Case[];
const engine = new Engine();
after(() => engine.release());

function request(c: A1111Case, oldTimelines = c.oldTimelines): GenerateRequest {
  return {
    modelDir: realArchModel('sd15', 'optimum'), prompt: c.prompt, negativePrompt: c.negative, sampler: c.sampler,
    steps: c.steps, cfgScale: c.cfg, seed: c.seed, width: c.width, height: c.height, batchSize: 1, initImage: null,
    strength: 0.75, previews: false, rng: 'cpu', executionProvider: 'cpu', threads: 1,
    ...(oldTimelines ? { oldPromptEditingTimelines: true } : {}),
  };
}

async function delta(req: GenerateRequest, c: A1111Case): Promise<{ max: number; mean: number; infotext: string }> {
  const out = await engine.generate(req);
  const ref = decodeImage(fs.readFileSync(path.join(REAL_ARCH_DIR, c.reference))).rgb;
  const d = imageDelta(decodeImage(out.images[0].png).rgb, ref);
  return { max: d.max, mean: Math.max(...d.meanPerChannel), infotext: out.images[0].infotext };
}

test('the recorded cases are what this test means: 3 chunks with BREAK, switches from editing and alternation', () => {
  assert.deepEqual(cases.map((c) => [c.id, c.tokens, c.switchSteps.length > 0, c.oldTimelines]), [
    ['a1111-long-break', 231, false, false], ['a1111-editing', 77, true, false], ['a1111-editing-old', 77, true, true],
  ]);
});

for (const c of cases) {
  test(`${c.id}: the engine draws diffusers' picture of A1111's conditioning`, async (t) => {
    const d = await delta(request(c), c);
    const report = `${c.id}: max |Δ| ${d.max}, mean |Δ| ${d.mean.toFixed(3)} (levels of 255)`;
    t.diagnostic(report);
    assert.ok(d.max <= 2 && d.mean <= 0.25, report);
    assert.equal(parseInfotext(d.infotext).params['Old prompt editing timelines'], c.oldTimelines ? 'True' : undefined);
  });
}

/** What each case would be with the feature it exercises missing: the bar must tell it from A1111's picture. */
const WITHOUT: Record<string, { what: string; req: (c: A1111Case) => GenerateRequest }> = {
  'a1111-long-break': { what: 'the text after BREAK dropped', req: (c) => ({ ...request(c), prompt: c.prompt.split(' BREAK ')[0] }) },
  'a1111-editing': {
    what: 'no editing (the first text throughout)',
    req: (c) => ({ ...request(c), prompt: c.prompt.replace('[lighthouse:(castle:1.3):0.4]', 'lighthouse').replace('[calm|stormy]', 'calm') }),
  },
  'a1111-editing-old': { what: 'the new timelines', req: (c) => request(c, false) },
};

for (const c of cases) {
  test(`${c.id}: the bar tells A1111's picture from one with ${WITHOUT[c.id].what}`, async (t) => {
    const d = await delta(WITHOUT[c.id].req(c), c);
    t.diagnostic(`${c.id} with ${WITHOUT[c.id].what}: max |Δ| ${d.max}, mean |Δ| ${d.mean.toFixed(3)}`);
    assert.ok(d.max > 2 * 4 && d.mean > 0.25, `max |Δ| ${d.max}, mean ${d.mean}`);
  });
}
