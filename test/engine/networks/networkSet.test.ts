/**
 * applyNetworks on the tiny SD 1.5 export (no sessions): the patched copies land in the cache, keyed by the set;
 * the same set is found again; past the size limit the least recently used set goes; the model folder is not
 * written; a LoRA for another base says how many of its layers fit.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { applyNetworks, indexGraphWeights, type LoraRequest } from '../../../src/engine/networks';
import { poolsAtArgmaxOfIds, tokenEmbedding } from '../../../src/engine/networks/onnxWeights';
import { concat, lengthDelimited } from '../../../src/engine/model';
import { realArchModel } from '../../fixtures/realArch';

const FIXTURES = path.resolve(__dirname, '../../fixtures/lora');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'network-set-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const lora = (name: string, weight: number): LoraRequest => ({ name, file: path.join(FIXTURES, `${name}.safetensors`), te: weight, unet: weight });
const input = (loras: LoraRequest[], cacheDir: string, cacheLimitBytes?: number) => ({
  modelDir: realArchModel('sd15', 'optimum'), xl: false, layersPerBlock: 2, loras, embeddings: [], cacheDir, cacheLimitBytes,
});

test('a set is written once, found again, and evicted past the limit (least recently used first)', async () => {
  const cache = path.join(tmp, 'a');
  const unetData = path.join(realArchModel('sd15', 'optimum'), 'unet', 'model.onnx_data');
  const before = fs.statSync(unetData).mtimeMs;
  const first = await applyNetworks(input([lora('sd15-kohya', 0.5)], cache));
  assert.equal(first.timingsMs.cacheHit, false);
  assert.ok(first.files.unet !== undefined && first.files.text_encoder !== undefined);
  assert.ok(fs.existsSync(path.join(path.dirname(first.files.unet), 'model.onnx_data')), 'the external data travels with the copy');
  assert.deepEqual(first.notes, ['LoRA sd15-kohya: 14 of 14 layers applied']);
  const again = await applyNetworks(input([lora('sd15-kohya', 0.5)], cache));
  assert.equal(again.timingsMs.cacheHit, true);
  assert.equal(again.key, first.key);
  const other = await applyNetworks(input([lora('sd15-kohya', 0.6)], cache, 1));
  assert.notEqual(other.key, first.key);
  assert.deepEqual(fs.readdirSync(cache), [other.key], 'the older set was removed past the 1-byte limit');
  assert.equal(fs.statSync(unetData).mtimeMs, before);
});

test('weight 0 everywhere and no embeddings: nothing is patched, the model loads from its folder', async () => {
  const out = await applyNetworks(input([lora('sd15-kohya', 0)], path.join(tmp, 'b')));
  assert.equal(out.key, '');
  assert.deepEqual(out.files, {});
  assert.match(out.infotext.map(([k, v]) => `${k}: ${v}`).join(), /Lora hashes: sd15-kohya: [0-9a-f]{12}/);
});

test('an SDXL LoRA on SD 1.5: how many layers were applied and which not', async () => {
  const out = await applyNetworks(input([lora('sdxl-kohya', 1)], path.join(tmp, 'c')));
  const w = out.warnings.join('\n');
  assert.match(w, /LoRA sdxl-kohya: \d+ of 17 layers applied; not applied: /);
  assert.match(w, /4 layers for text_encoder_2 \(an SDXL LoRA\?\): this model has one text encoder/);
});

test('a broken LoRA file: one warning naming it, the others still apply', async () => {
  const broken = path.join(tmp, 'broken.safetensors');
  fs.writeFileSync(broken, fs.readFileSync(path.join(FIXTURES, 'sd15-peft.safetensors')).subarray(0, 300));
  const out = await applyNetworks(input([{ name: 'broken', file: broken, te: 1, unet: 1 }, lora('sd15-kohya', 1)], path.join(tmp, 'd')));
  assert.match(out.warnings.join('\n'), /broken\.safetensors: .*<lora:broken> was not applied/);
  assert.deepEqual(out.notes, ['LoRA sd15-kohya: 14 of 14 layers applied']);
});

test('a LoRA in the LCM-LoRA naming: all of its 277 layers applied (convs, samplers, time_emb_proj included)', async () => {
  const out = await applyNetworks(input([lora('sd15-lcm-naming', 1)], path.join(tmp, 'f')));
  assert.deepEqual(out.warnings, []);
  assert.deepEqual(out.notes, ['LoRA sd15-lcm-naming: 277 of 277 layers applied']);
});

test('dyn (A1111): the file\'s rank patches the same bytes as no dyn, fewer ranks other bytes, and each is its own set', async () => {
  const cache = path.join(tmp, 'g');
  const unet = async (dyn?: number): Promise<{ key: string; bytes: Buffer }> => {
    const out = await applyNetworks(input([{ ...lora('sd15-kohya', 1), ...(dyn === undefined ? {} : { dyn }) }], cache));
    return { key: out.key, bytes: fs.readFileSync(path.join(path.dirname(out.files.unet!), 'model.onnx_data')) };
  };
  const full = await unet();
  const four = await unet(4);
  const two = await unet(2);
  assert.equal(new Set([full.key, four.key, two.key]).size, 3);
  assert.ok(full.bytes.equals(four.bytes), 'dyn = rank (4) is the whole LoRA');
  assert.ok(!full.bytes.equals(two.bytes), 'dyn 2 drops ranks');
});

test('an embedding made for another model (other width) is left out with a warning naming it', async () => {
  const file = path.join(tmp, 'wide.safetensors');
  const data = new Float32Array(2 * 16).fill(0.1);
  const json = JSON.stringify({ emb_params: { dtype: 'F32', shape: [2, 16], data_offsets: [0, data.byteLength] } });
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(json), Buffer.from(data.buffer)]));
  const out = await applyNetworks({ ...input([], path.join(tmp, 'e')), embeddings: [{ name: 'wide', file }] });
  assert.match(out.warnings.join('\n'), /wide\.safetensors: its vectors are 16 wide, text_encoder's are 8 \(an embedding for another model\?\); it was not used/);
  assert.deepEqual(out.embeddings, []);
});

test('SDXL embeddings: a copy of text_encoder_2\'s end-of-text row, the largest id, for A1111\'s pooled output', async () => {
  const sdxl = realArchModel('sdxl', 'optimum');
  const out = await applyNetworks({
    modelDir: sdxl, xl: true, layersPerBlock: 2, loras: [], embeddings: [{ name: 'fixturexl', file: path.join(FIXTURES, 'fixturexl.safetensors') }],
    cacheDir: path.join(tmp, 'h'), eosId2: 49407,
  });
  assert.deepEqual(out.embeddings, [{ name: 'fixturexl', ids: [49408, 49409] }]);
  assert.equal(out.pooledEosId, 49410);
  const te2 = new Uint8Array(fs.readFileSync(out.files.text_encoder_2!));
  const table = tokenEmbedding(indexGraphWeights(te2, 'te2', true))!;
  assert.deepEqual(table.dims, [49411, 8]);
  assert.equal(table.place.kind, 'inline');
  const place = table.place as { offset: number; length: number };
  const row = (k: number): Uint8Array => te2.subarray(place.offset + k * 32, place.offset + (k + 1) * 32);
  assert.deepEqual(row(49410), row(49407), 'the copy holds the end-of-text vector');
  const te1 = new Uint8Array(fs.readFileSync(out.files.text_encoder!));
  assert.deepEqual(tokenEmbedding(indexGraphWeights(te1, 'te1', true))!.dims, [49410, 8], 'text_encoder (not pooled) gets no copy');
});

test('which graphs pool at argmax(input_ids): through Cast / Reshape yes, through Equal (the eos_token_id form) no', () => {
  const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
  const node = (op: string, inputs: string[], output: string): Uint8Array =>
    lengthDelimited(1, concat([...inputs.map((i) => lengthDelimited(1, utf8(i))), lengthDelimited(2, utf8(output)), lengthDelimited(3, utf8(`/${op}`)), lengthDelimited(4, utf8(op))]));
  const model = (...nodes: Uint8Array[]): Uint8Array => lengthDelimited(7, concat(nodes));
  assert.equal(poolsAtArgmaxOfIds(model(node('Reshape', ['input_ids', 'shape'], 'r'), node('Cast', ['r'], 'c'), node('ArgMax', ['c'], 'a'))), true);
  assert.equal(poolsAtArgmaxOfIds(model(node('Equal', ['input_ids', 'eos'], 'e'), node('Cast', ['e'], 'c'), node('ArgMax', ['c'], 'a'))), false);
  assert.equal(poolsAtArgmaxOfIds(model(node('ArgMax', ['logits'], 'a'))), false);
  assert.equal(poolsAtArgmaxOfIds(new Uint8Array(fs.readFileSync(path.join(realArchModel('sdxl', 'optimum'), 'text_encoder_2', 'model.onnx')))), true);
});
