/**
 * LoRAs and textual-inversion embeddings against diffusers itself (issue 16): the files of test/fixtures/lora/
 * (kohya and diffusers/PEFT namings, alpha ≠ rank, attention, feed-forward, projection and LoCon conv layers, text
 * encoders; A1111 embeddings in emb_params .safetensors, string_to_param .pt and SDXL clip_l/clip_g) applied by the
 * Engine to the real-architecture ONNX folders, and compared with what diffusers' `load_lora_weights` + `fuse_lora`
 * (and `load_textual_inversion`) made on the torch modules. The bar of realArch.test.ts: max |Δ| ≤ 2, mean ≤ 0.25
 * per channel on fp32 graphs; mean ≤ 2 on fp16 graphs. Weight 0 gives the base picture byte for byte, and the
 * model's files are never changed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { Engine } from '../../src/engine/engine';
import { folderDigest } from '../fixtures/folderDigest';
import { decodeImage } from '../../src/engine/image/imageIo';
import { parseInfotext } from '../../src/engine/infotext';
import type { GenerateRequest } from '../../src/protocol/engineMessages';
import { imageDelta, realArchModel, type RealArchFamily } from '../fixtures/realArch';

const LORA_DIR = path.resolve(__dirname, '../fixtures/lora');
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lora-cache-'));
const engine = new Engine({ networkCacheDir: cacheDir });
after(async () => {
  await engine.release();
  fs.rmSync(cacheDir, { recursive: true, force: true });
  fs.rmSync(`${cacheDir}-fp32`, { recursive: true, force: true }); // fp16 models' fp32 copies (the engine's default beside it)
});

interface LoraCase {
  readonly id: string;
  readonly family: RealArchFamily;
  readonly loras: ReadonlyArray<[string, number]>;
  readonly prompt: string;
  readonly negative: string;
  readonly seed: number;
  readonly steps: number;
  readonly cfg: number;
  readonly width: number;
  readonly height: number;
  readonly reference: string;
}

const cases = JSON.parse(fs.readFileSync(path.join(LORA_DIR, 'cases.json'), 'utf8')) as LoraCase[];

function request(c: LoraCase, variant: string, loras = c.loras): GenerateRequest {
  const tags = loras.map(([name, w]) => ` <lora:${name}:${w}>`).join('');
  return {
    modelDir: realArchModel(c.family, variant), prompt: `${c.prompt}${tags}`, negativePrompt: c.negative,
    sampler: null, steps: c.steps, cfgScale: c.cfg, seed: c.seed, width: c.width, height: c.height, batchSize: 1,
    initImage: null, strength: 0.75, previews: false, rng: 'cpu', executionProvider: 'cpu', threads: 1,
    loraDir: LORA_DIR, embeddingsDir: LORA_DIR,
  };
}

const VARIANTS: Record<string, string[]> = {
  sd15: ['optimum', 'legacy', 'optimum-old', 'optimum-fp16'], 'sd2-v': ['optimum'], sdxl: ['optimum'],
};

describe('LoRAs and embeddings against diffusers', () => {
  for (const c of cases) {
    for (const variant of VARIANTS[c.family]) {
      test(`${c.id} on ${c.family}/${variant}`, async (t) => {
        const before = folderDigest(realArchModel(c.family, variant));
        const out = await engine.generate(request(c, variant));
        const d = imageDelta(decodeImage(out.images[0].png).rgb, decodeImage(fs.readFileSync(path.join(LORA_DIR, c.reference))).rgb);
        const mean = Math.max(...d.meanPerChannel);
        const report = `max |Δ| ${d.max}, mean |Δ| per channel ${d.meanPerChannel.map((m) => m.toFixed(3)).join('/')}; warnings: ${out.warnings.join(' | ') || 'none'}`;
        t.diagnostic(report);
        assert.ok(variant.endsWith('fp16') ? mean <= 2 : d.max <= 2 && mean <= 0.25, report);
        assert.deepEqual(out.warnings.filter((w) => /LoRA|embedding/i.test(w)), [], report);
        assert.equal(folderDigest(realArchModel(c.family, variant)), before, 'the model folder was changed');
        // fp16 graphs on the CPU: the LoRA is applied to the fp32 copy's weights (issue 15)
        assert.equal(out.fp32Copy !== undefined, variant.endsWith('fp16'), out.fp32Copy ?? 'no fp32 copy');
        const { params } = parseInfotext(out.images[0].infotext);
        if (c.loras.length > 0) assert.match(params['Lora hashes'] ?? '', new RegExp(`${c.loras[0][0]}: [0-9a-f]{12}`));
      });
    }
  }
});

describe('LoRA weights and the cache', () => {
  const c = cases.find((x) => x.id === 'sd15-kohya-0.8')!;

  test('weight 0 gives the base picture byte for byte (and the LoRA changes it well past the bar)', async () => {
    const base = await engine.generate(request(c, 'optimum', []));
    const zero = await engine.generate(request(c, 'optimum', [['sd15-kohya', 0]]));
    assert.deepEqual(decodeImage(zero.images[0].png).rgb, decodeImage(base.images[0].png).rgb);
    const d = imageDelta(decodeImage(base.images[0].png).rgb, decodeImage(fs.readFileSync(path.join(LORA_DIR, c.reference))).rgb);
    assert.ok(d.max > 20 && Math.max(...d.meanPerChannel) > 2, `the LoRA barely changes the picture: ${JSON.stringify(d)}`);
  });

  test('the LCM-LoRA-named fixture (every module of the UNet, small factors) changes the picture well past the bar', async () => {
    const lcm = cases.find((x) => x.id === 'sd15-lcm-naming-1')!;
    const base = await engine.generate(request(lcm, 'optimum', []));
    const d = imageDelta(decodeImage(base.images[0].png).rgb, decodeImage(fs.readFileSync(path.join(LORA_DIR, lcm.reference))).rgb);
    assert.ok(d.max > 20 && Math.max(...d.meanPerChannel) > 2, `the LoRA barely changes the picture: ${JSON.stringify(d)}`);
  });

  test('without the embeddings folder the names are plain words, and the picture is another', async () => {
    const ti = cases.find((x) => x.id === 'sd15-ti')!;
    const out = await engine.generate({ ...request(ti, 'optimum'), embeddingsDir: null });
    const d = imageDelta(decodeImage(out.images[0].png).rgb, decodeImage(fs.readFileSync(path.join(LORA_DIR, ti.reference))).rgb);
    assert.ok(d.max > 20 && Math.max(...d.meanPerChannel) > 2, `the embeddings barely change the picture: ${JSON.stringify(d)}`);
  });

  test('the same set again comes from the cache; another set writes another copy', async () => {
    const first = await engine.generate(request(c, 'optimum', [['sd15-kohya', 0.3]]));
    const again = await engine.generate(request(c, 'optimum', [['sd15-kohya', 0.3]]));
    assert.equal(again.timingsMs.networks?.cacheHit, true);
    assert.deepEqual(decodeImage(again.images[0].png).rgb, decodeImage(first.images[0].png).rgb);
    const other = await engine.generate(request(c, 'optimum', [['sd15-kohya', 0.4]]));
    assert.equal(other.timingsMs.networks?.cacheHit, false);
  });

  test('an unknown name, a LoRA for another base and a .pt LoRA: a warning each, the picture is made', async () => {
    const out = await engine.generate(request(c, 'optimum', [['no-such-lora', 1], ['sdxl-kohya', 1]]));
    assert.equal(out.images.length, 1);
    assert.ok(out.warnings.some((w) => /no LoRA named "no-such-lora"/.test(w)), out.warnings.join('\n'));
    assert.ok(out.warnings.some((w) => /LoRA sdxl-kohya: (none of its|\d+ of \d+ layers applied)/.test(w)), out.warnings.join('\n'));
  });
});
