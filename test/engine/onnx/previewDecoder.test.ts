/**
 * TAESD preview decoders of both export conventions: diffusers / Optimum names (`latent_sample` → `sample`,
 * AutoencoderTiny.decode: output in [-1, 1], latents as the UNet gives them, config.json's scaling_factor honoured)
 * and taesd.py's Decoder exported as is (other names: output in [0, 1]). A 1×1 convolution that copies latent
 * channels 0–2 to RGB stands in for the decoder, so the expected bytes follow from diffusers' postprocess
 * (x/2 + 0.5, clamp, ×255, round) or taesd's ([0, 1], clamp, ×255, round).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { conventionOf, PreviewDecoder } from '../../../src/engine/onnx/previewDecoder';
import { floatInit, writeModel } from '../../fixtures/onnxBuilder';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'preview-conv-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** A decoder graph: out[c] = latent[c] for c < 3 (1×1 conv), with the given I/O names. */
function writeDecoder(dir: string, input: string, output: string, config?: unknown): string {
  const weights = new Array(12).fill(0);
  for (let c = 0; c < 3; c++) weights[c * 4 + c] = 1;
  const file = path.join(dir, 'model.onnx');
  writeModel(file, {
    name: 'taesd_decoder',
    inputs: [{ name: input, elemType: 'float', dims: [1, 4, 'h', 'w'] }],
    outputs: [{ name: output, elemType: 'float', dims: [1, 3, 'h', 'w'] }],
    nodes: [{ op: 'Conv', inputs: [input, 'w'], outputs: [output] }],
    initializers: [floatInit('w', [3, 4, 1, 1], weights)],
  });
  if (config !== undefined) fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return file;
}

/** Latents 1×4×2×2 with channel values 0.12, 0.31, 0.62, 9 at every position. */
const LATENTS = Float32Array.from({ length: 16 }, (_, i) => [0.12, 0.31, 0.62, 9][Math.floor(i / 4)]);

async function decodePixel(file: string): Promise<number[]> {
  const decoder = await PreviewDecoder.load(file, { executionProvider: 'cpu', threads: 1 });
  try {
    const [image] = await decoder.decode(LATENTS, [1, 4, 2, 2]);
    assert.deepEqual([image.width, image.height], [2, 2]);
    return Array.from(image.rgb.subarray(0, 3));
  } finally {
    await decoder.release();
  }
}

test('diffusers names: output in [-1, 1], latents undivided (AutoencoderTiny scaling_factor 1)', async () => {
  const dir = path.join(root, 'diffusers', 'vae_decoder');
  fs.mkdirSync(dir, { recursive: true });
  const file = writeDecoder(dir, 'latent_sample', 'sample', { _class_name: 'AutoencoderTiny', scaling_factor: 1.0 });
  // (0.12 + 1)/2·255 = 142.8, (0.31 + 1)/2·255 = 167.0, (0.62 + 1)/2·255 = 206.55
  assert.deepEqual(await decodePixel(file), [143, 167, 207]);
});

test('diffusers names with a config scaling_factor: latents divided by it first', async () => {
  const dir = path.join(root, 'scaled');
  fs.mkdirSync(dir, { recursive: true });
  const file = writeDecoder(dir, 'latent_sample', 'sample', { scaling_factor: 0.5 });
  // inputs 0.24, 0.62, 1.24 → 158.1, 206.55, clamped 255
  assert.deepEqual(await decodePixel(file), [158, 207, 255]);
});

test('taesd.py\'s Decoder exported as is (other names): output in [0, 1]', async () => {
  const dir = path.join(root, 'raw');
  fs.mkdirSync(dir, { recursive: true });
  const file = writeDecoder(dir, 'input.1', '252');
  // 0.12·255 = 30.6, 0.31·255 = 79.05, 0.62·255 = 158.1
  assert.deepEqual(await decodePixel(file), [31, 79, 158]);
});

test('conventionOf reads the names and a scaling_factor, and refuses a bad one', () => {
  assert.deepEqual([
    conventionOf(['latent_sample'], ['sample'], undefined),
    conventionOf(['latent_sample'], ['output'], { scaling_factor: 2 }),
    conventionOf(['x'], ['sample'], {}),
  ], [
    { outputRange: 'minus-one-one', scalingFactor: 1 },
    { outputRange: 'zero-one', scalingFactor: 2 },
    { outputRange: 'zero-one', scalingFactor: 1 },
  ]);
  assert.throws(() => conventionOf(['latent_sample'], ['sample'], { scaling_factor: '0.18' }), /scaling_factor should be a positive number, found "0.18"/);
});
