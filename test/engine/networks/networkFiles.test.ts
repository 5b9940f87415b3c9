/**
 * The networks room's file readers on bad input (issue 16 "Bad input"): safetensors files that are truncated, not
 * safetensors, or whose header lies (offsets, dtypes, shapes, overlaps, gaps), NaN in a factor, factor shapes that do
 * not fit, LoHa/LoKr, pickled LoRAs, a torch pickle naming a callable — each one clear message naming the file —
 * and the readers on good input (kohya and diffusers names, SDXL's LDM block names as diffusers maps them, alphas).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  listFolder, LORA_EXTENSIONS, loraShortHash, parseSafetensors, readEmbedding, readLora, readTorchFile, resolveLoraTags,
  SafetensorsError,
} from '../../../src/engine/networks';
import { kohyaUnetKey, loraLayers, mapSgmBlocks, truncateRank, type LoraLayer } from '../../../src/engine/networks/loraFile';
import { unpickle } from '../../../src/engine/networks/torchPickle';
import { isKnownLcmLora, isMarkedLcm, KNOWN_LCM_LORAS } from '../../../src/engine/networks/library';
import { createHash } from 'node:crypto';
import { extractExtraNetworks } from '../../../src/engine/prompt';

const FIXTURES = path.resolve(__dirname, '../../fixtures/lora');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'networks-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A safetensors file from a header object and data bytes (the header as given: it may lie). */
function safetensors(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32 = (...v: number[]): Uint8Array => new Uint8Array(new Float32Array(v).buffer);

describe('safetensors header checks', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } };
  const data = f32(1, 2, 3);
  const fails = (bytes: Uint8Array, pattern: RegExp): void => {
    assert.throws(() => parseSafetensors(bytes, '/x/bad.safetensors'), (e: unknown) =>
      e instanceof SafetensorsError && e.message.startsWith('bad.safetensors: ') && pattern.test(e.message));
  };

  test('a valid file reads', () => {
    const st = parseSafetensors(safetensors({ ...ok, __metadata__: { k: 'v' } }, data), 'good.safetensors');
    assert.deepEqual([...st.tensors.keys()], ['a', 'b']);
    assert.equal(st.metadata.k, 'v');
  });
  test('shorter than 8 bytes', () => fails(new Uint8Array(3), /shorter than the 8-byte header length/));
  test('not a safetensors file (a pickle, text)', () => {
    fails(new TextEncoder().encode('PK\u0003\u0004 this is a zip, not safetensors at all'), /not a safetensors file/);
  });
  test('truncated header and truncated data', () => {
    const bytes = safetensors(ok, data);
    fails(bytes.subarray(0, 20), /truncated/);
    fails(bytes.subarray(0, bytes.length - 2), /lie outside|not described|truncated/);
  });
  test('a header that is not JSON', () => {
    const bytes = safetensors(ok, data);
    bytes[9] = 0x7b; bytes[10] = 0x7b;
    fails(bytes, /header is not JSON/);
  });
  test('an unknown dtype', () => fails(safetensors({ a: { dtype: 'F33', shape: [3], data_offsets: [0, 12] } }, data), /unknown dtype "F33"/));
  test('shape × dtype size that is not the byte length', () => {
    fails(safetensors({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 12] } }, data), /needs 16 bytes, its offsets give 12/);
  });
  test('offsets past the data', () => fails(safetensors({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data), /outside the 12 bytes/));
  test('overlapping tensors', () => {
    fails(safetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, data), /overlaps/);
  });
  test('a gap between tensors', () => {
    fails(safetensors({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, data), /gap/);
  });
  test('negative or fractional offsets and shapes', () => {
    fails(safetensors({ a: { dtype: 'F32', shape: [-3], data_offsets: [0, 12] } }, data), /not a list of sizes/);
    fails(safetensors({ a: { dtype: 'F32', shape: [3], data_offsets: [0.5, 12] } }, data), /not \[begin, end\]/);
  });
});

function kohya(layers: Record<string, { down: number[]; downShape: number[]; up: number[]; upShape: number[]; alpha?: number }>): Uint8Array {
  const header: Record<string, unknown> = {};
  const parts: Uint8Array[] = [];
  let at = 0;
  const add = (name: string, values: number[], shape: number[]): void => {
    const bytes = f32(...values);
    header[name] = { dtype: 'F32', shape, data_offsets: [at, at + bytes.length] };
    parts.push(bytes);
    at += bytes.length;
  };
  for (const [name, l] of Object.entries(layers)) {
    add(`${name}.lora_down.weight`, l.down, l.downShape);
    add(`${name}.lora_up.weight`, l.up, l.upShape);
    if (l.alpha !== undefined) add(`${name}.alpha`, [l.alpha], []);
  }
  const data = new Uint8Array(at);
  let p = 0;
  for (const part of parts) { data.set(part, p); p += part.length; }
  return safetensors(header, data);
}

describe('LoRA files', () => {
  test('kohya names, alpha / rank', () => {
    const st = parseSafetensors(kohya({ lora_unet_down_blocks_0_attentions_0_proj_in: { down: [1, 2], downShape: [1, 2], up: [3, 4], upShape: [2, 1], alpha: 0.5 } }), 'k.safetensors');
    const net = loraLayers(st);
    assert.equal(net.layers.length, 1);
    assert.equal(net.layers[0].key, 'down_blocks_0_attentions_0_proj_in');
    assert.equal(net.layers[0].component, 'unet');
    assert.equal(net.layers[0].scale, 0.5);
  });

  test('NaN in a factor is refused naming the file and the tensor', () => {
    const st = parseSafetensors(kohya({ lora_unet_x: { down: [Number.NaN, 2], downShape: [1, 2], up: [3, 4], upShape: [2, 1] } }), '/a/nan.safetensors');
    assert.throws(() => loraLayers(st), /nan\.safetensors: tensor "lora_unet_x\.lora_down\.weight" holds NaN/);
  });

  test('factors whose ranks differ are not applied, with the reason', () => {
    const st = parseSafetensors(kohya({ lora_unet_x: { down: [1, 2, 3, 4], downShape: [2, 2], up: [3, 4], upShape: [2, 1] } }), 'r.safetensors');
    const net = loraLayers(st);
    assert.equal(net.layers.length, 0);
    assert.match(net.refused[0], /do not make a product/);
  });

  test('LoHa and LoKr layers are refused with the reason', () => {
    const bytes = safetensors({ 'lora_unet_x.hada_w1_a': { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1));
    assert.match(loraLayers(parseSafetensors(bytes, 'h.safetensors')).refused.join(), /LoHa layers are not supported/);
    const kr = safetensors({ 'lora_unet_x.lokr_w1': { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1));
    assert.match(loraLayers(parseSafetensors(kr, 'k.safetensors')).refused.join(), /LoKr layers are not supported/);
  });

  test('a safetensors file that is no LoRA', () => {
    const bytes = safetensors({ 'model.weight': { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1));
    assert.throws(() => loraLayers(parseSafetensors(bytes, 'm.safetensors')), /m\.safetensors: no LoRA layers found/);
  });

  test('.pt / .ckpt LoRAs are refused (pickles are not loaded)', async () => {
    const file = path.join(tmp, 'style.pt');
    fs.writeFileSync(file, 'anything');
    await assert.rejects(readLora(file), /style\.pt: \.pt LoRA files are Python pickles, which are not loaded/);
  });

  test('a truncated LoRA file', async () => {
    const file = path.join(tmp, 'cut.safetensors');
    fs.writeFileSync(file, fs.readFileSync(path.join(FIXTURES, 'sd15-kohya.safetensors')).subarray(0, 5000));
    await assert.rejects(readLora(file), /cut\.safetensors: .*(truncated|outside)/);
  });

  test('SDXL LDM block names map to diffusers blocks as diffusers maps them', () => {
    const names = ['lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q', 'lora_unet_output_blocks_5_0_out_layers_3',
      'lora_unet_middle_block_2_in_layers_2', 'lora_unet_input_blocks_1_0_emb_layers_1', 'lora_unet_output_blocks_2_2_conv'];
    const mapped = mapSgmBlocks(names, 2);
    const keys = names.map((n) => kohyaUnetKey(mapped.get(n)!.slice('lora_unet_'.length)));
    assert.deepEqual(keys, ['down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q', 'up_blocks_1_resnets_2_conv2',
      'mid_block_resnets_1_conv1', 'down_blocks_0_resnets_0_time_emb_proj', 'up_blocks_0_upsamplers_0_conv']);
  });

  test('the fixtures read, with A1111\'s Lora hash (kohya addnet hash, 12 hex)', async () => {
    const net = await readLora(path.join(FIXTURES, 'sdxl-kohya.safetensors'));
    assert.equal(net.layers.length, 17);
    assert.deepEqual(new Set(net.layers.map((l) => l.component)), new Set(['unet', 'text_encoder', 'text_encoder_2']));
    assert.match(loraShortHash(net), /^[0-9a-f]{12}$/);
    const peft = await readLora(path.join(FIXTURES, 'sd15-peft.safetensors'));
    assert.ok(peft.layers.every((l) => l.scale === 6 / 4), 'lora_alpha 6 of the adapter metadata over rank 4');
  });
  test('the LCM-LoRA naming (kohya prefixes on diffusers module paths, fp16, LoCon convs, samplers): every module read', async () => {
    // test/fixtures/lora/README.md: the published LCM-LoRA for SD 1.5 has 278 such modules; the tiny UNet 277
    const net = await readLora(path.join(FIXTURES, 'sd15-lcm-naming.safetensors'));
    assert.equal(net.layers.length, 277);
    assert.deepEqual(net.refused, []);
    const byKey = new Map(net.layers.map((l) => [l.key, l]));
    for (const key of ['down_blocks_0_attentions_0_proj_in', 'down_blocks_0_downsamplers_0_conv', 'up_blocks_2_upsamplers_0_conv',
      'mid_block_attentions_0_transformer_blocks_0_ff_net_0_proj', 'up_blocks_3_attentions_2_transformer_blocks_0_attn2_to_out_0',
      'down_blocks_1_resnets_0_conv_shortcut', 'mid_block_resnets_1_time_emb_proj']) assert.ok(byKey.has(key), key);
    assert.deepEqual(byKey.get('down_blocks_0_downsamplers_0_conv')!.downShape.slice(1), [8, 3, 3]);
    assert.ok(net.layers.every((l) => l.component === 'unet' && l.scale === 6 / 4), 'alpha 6 (fp16) over rank 4');
  });
});

describe('<lora:…> tags', () => {
  const library = listFolder(FIXTURES, LORA_EXTENSIONS);
  test('name and weights (A1111: te, unet; default 1)', () => {
    const tags = extractExtraNetworks('a cat <lora:sd15-kohya:0.5> <lora:sd15-peft> <lora:sd2-v-kohya:0.2:0.7>').networks.get('lora')!;
    const { loras, warnings } = resolveLoraTags(tags, FIXTURES, library);
    assert.deepEqual(warnings, []);
    assert.deepEqual(loras.map((l) => [l.name, l.te, l.unet]), [['sd15-kohya', 0.5, 0.5], ['sd15-peft', 1, 1], ['sd2-v-kohya', 0.2, 0.7]]);
  });
  test('an unknown name and a weight that is no number: a warning each', () => {
    const tags = extractExtraNetworks('<lora:nope:1> <lora:sd15-kohya:abc>').networks.get('lora')!;
    const { loras, warnings } = resolveLoraTags(tags, FIXTURES, library);
    assert.equal(loras.length, 0);
    assert.match(warnings[0], /<lora:nope>: no LoRA named "nope" in/);
    assert.match(warnings[1], /the weight is not a number/);
  });
  test('no folder set', () => {
    const tags = extractExtraNetworks('<lora:x>').networks.get('lora')!;
    assert.match(resolveLoraTags(tags, undefined, new Map()).warnings[0], /no LoRA folder is set/);
  });
  test('A1111 1.10\'s parameters: positional te:unet:dyn, named te= unet= dyn= (a named one wins), unet defaults to te', () => {
    const tags = extractExtraNetworks('<lora:sd15-kohya:0.5:0.7:2> <lora:sd15-peft:te=0.25:dyn=16> <lora:sd2-v-kohya:1:0.3:te=0.6:unet=0.9>'
      + ' <lora:sdxl-kohya:0.8:dyn= -1 >').networks.get('lora')!;
    const { loras, warnings } = resolveLoraTags(tags, FIXTURES, library);
    assert.deepEqual(warnings, []);
    assert.deepEqual(loras.map((l) => [l.name, l.te, l.unet, l.dyn]),
      [['sd15-kohya', 0.5, 0.7, 2], ['sd15-peft', 0.25, 0.25, 16], ['sd2-v-kohya', 0.6, 0.9, undefined], ['sdxl-kohya', 0.8, 0.8, -1]]);
  });
  test('a dyn that is no whole number: the LoRA is not applied; an unknown named parameter: one warning, applied without it', () => {
    const tags = extractExtraNetworks('<lora:sd15-kohya:1:dyn=1.5> <lora:sd15-peft:0.8:lbw=0,1,1,0:foo=2>').networks.get('lora')!;
    const { loras, warnings } = resolveLoraTags(tags, FIXTURES, library);
    assert.deepEqual(loras.map((l) => [l.name, l.te, l.unet, l.dyn]), [['sd15-peft', 0.8, 0.8, undefined]]);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /<lora:sd15-kohya:1:dyn=1\.5>: dyn "1\.5" is not a whole number .*not applied/);
    assert.equal(warnings[1], '<lora:sd15-peft:0.8:lbw=0,1,1,0:foo=2>: "lbw=", "foo=" are not known here (A1111\'s Lora reads te=, unet=, dyn=; '
      + 'lbw= is the lora-block-weight extension\'s); the LoRA was applied without them');
  });
});

describe('LCM-LoRAs', () => {
  test('the published LCM-LoRA files are known by size and sha256, the catalog\'s pins', () => {
    const catalog = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../models/catalog.json'), 'utf8')) as
      { models: Array<{ role: string; lcm?: boolean; files: Array<{ size?: number; sha256?: string }> }> };
    const pinned = catalog.models.filter((m) => m.role === 'lora' && m.lcm === true).map((m) => ({ size: m.files[0].size, sha256: m.files[0].sha256 }));
    assert.deepEqual(pinned, [...KNOWN_LCM_LORAS]);
  });
  test('a file of a known size and sha256 is an LCM-LoRA under any name; a mark beside a file makes one too', () => {
    const file = path.join(tmp, 'renamed-lcm.safetensors');
    const bytes = fs.readFileSync(path.join(FIXTURES, 'sd15-lcm-naming.safetensors'));
    fs.writeFileSync(file, bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    assert.equal(isKnownLcmLora(file, [{ size: bytes.length, sha256 }]), true);
    assert.equal(isKnownLcmLora(file, [{ size: bytes.length, sha256: '0'.repeat(64) }]), false, 'same size, other bytes');
    assert.equal(isKnownLcmLora(file, [{ size: bytes.length + 1, sha256 }]), false);
    assert.equal(isMarkedLcm(file), false, 'the fixture is no published LCM-LoRA');
    fs.writeFileSync(path.join(tmp, 'renamed-lcm.json'), JSON.stringify({ lcm: true }));
    assert.equal(isMarkedLcm(file), true);
  });
});

describe('dyn: the first ranks of each layer (A1111\'s lyco_helpers.rebuild_conventional)', () => {
  // rank 3, out 2, inner 2: up [2, 3], down [3, 2]
  const layer: LoraLayer = {
    name: 'l', component: 'unet', key: 'k', scale: 0.5,
    up: new Float32Array([1, 2, 3, 4, 5, 6]), upShape: [2, 3], down: new Float32Array([1, 0, 0, 1, 1, 1]), downShape: [3, 2],
  };
  const product = (l: LoraLayer): number[] => {
    const r = l.downShape[0];
    const out: number[] = [];
    for (let o = 0; o < 2; o++) for (let i = 0; i < 2; i++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += l.up[o * r + k] * l.down[k * 2 + i];
      out.push(s);
    }
    return out;
  };
  test('dyn 2 keeps up[:, :2] and down[:2, :]; the scale stays alpha / the file\'s rank', () => {
    const t = truncateRank(layer, 2)!;
    assert.deepEqual([...t.up], [1, 2, 4, 5]);
    assert.deepEqual(t.upShape, [2, 2]);
    assert.deepEqual([...t.down], [1, 0, 0, 1]);
    assert.deepEqual(t.downShape, [2, 2]);
    assert.equal(t.scale, 0.5);
    assert.deepEqual(product(t), [1, 2, 4, 5]);
  });
  test('Python\'s slicing: dyn ≥ rank keeps all, a negative dyn drops from the end, 0 keeps nothing', () => {
    assert.equal(truncateRank(layer, 3), layer);
    assert.equal(truncateRank(layer, 64), layer);
    assert.deepEqual([...truncateRank(layer, -2)!.up], [1, 4]);
    assert.equal(truncateRank(layer, 0), undefined);
    assert.equal(truncateRank(layer, -3), undefined);
  });
  test('a LoCon conv (down [rank, in, 3, 3], up [out, rank, 1, 1]) keeps its kernel', () => {
    const conv: LoraLayer = { ...layer, down: new Float32Array(3 * 2 * 9).map((_, i) => i), downShape: [3, 2, 3, 3], upShape: [2, 3, 1, 1] };
    const t = truncateRank(conv, 1)!;
    assert.deepEqual(t.downShape, [1, 2, 3, 3]);
    assert.deepEqual(t.upShape, [2, 1, 1, 1]);
    assert.deepEqual([...t.down], Array.from({ length: 18 }, (_, i) => i));
    assert.deepEqual([...t.up], [1, 4]);
  });
});

describe('embeddings and the pickle reader', () => {
  test('A1111 .pt (string_to_param, a Parameter) reads without running pickle code', async () => {
    const emb = await readEmbedding(path.join(FIXTURES, 'fixtureneg.pt'));
    assert.equal(emb.count, 1);
    assert.equal(emb.widths.text_encoder, 8);
  });
  test('SDXL clip_l / clip_g', async () => {
    const emb = await readEmbedding(path.join(FIXTURES, 'fixturexl.safetensors'));
    assert.equal(emb.count, 2);
    assert.deepEqual(emb.widths, { text_encoder: 8, text_encoder_2: 8 });
  });
  test('a pickle that names a callable outside tensors and dicts is refused, nothing runs', () => {
    // protocol 2: GLOBAL 'os system', the argument tuple, REDUCE, STOP
    const evil = new Uint8Array([0x80, 0x02, ...new TextEncoder().encode('cos\nsystem\n'), 0x58, 4, 0, 0, 0,
      ...new TextEncoder().encode('true'), 0x85, 0x52, 0x2e]);
    assert.throws(() => unpickle(evil, '/e/evil.pt', () => undefined), /evil\.pt: refers to os\.system, which this reader does not run/);
  });
  test('a file that is no zip (legacy torch or not torch)', async () => {
    const file = path.join(tmp, 'old.pt');
    fs.writeFileSync(file, new Uint8Array([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]));
    await assert.rejects(readTorchFile(file), /old\.pt: is not a zip archive/);
    await assert.rejects(readEmbedding(file), /old\.pt: .*convert it to \.safetensors/);
  });
  test('a safetensors file that is no embedding', async () => {
    await assert.rejects(readEmbedding(path.join(FIXTURES, 'sd15-kohya.safetensors')), /sd15-kohya\.safetensors: is not an embedding/);
  });
});
