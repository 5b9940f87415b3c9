/**
 * TAESD (Tiny AutoEncoder for Stable Diffusion, madebyollin; diffusers' AutoencoderTiny) as a step-preview decoder:
 * a ~5 MB ONNX decoder that turns SD 1.x/2.x latents (UNet space: AutoencoderTiny's scaling_factor is 1, so no
 * division) into B×3×H×W in [-1, 1] (DecoderTiny ends with x·2 − 1), shown downscaled so no side exceeds
 * `maxSide`. Found in the model folder (taesd/vae_decoder/model.onnx, taesd/model.onnx, taesd_decoder.onnx) or
 * at INLINE_DIFFUSION_PREVIEW_DECODER (a TAESD the user downloaded). Without one, previews stay linear (preview.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExecutionProviderSetting, RgbImage } from '../protocol/engineMessages';
import { toFloat32 } from './fp16';
import { decodedToRgbImages } from './imageOps';
import { checkLength, floatFeed, pickInput, pickOutput } from './modelFeeds';
import { createSession, type OnnxSession } from './onnx';

export const PREVIEW_DECODER_ENV = 'INLINE_DIFFUSION_PREVIEW_DECODER';
/** Longest preview side in pixels (a 512² image previews at 256²). */
export const PREVIEW_MAX_SIDE = 256;

/** The preview decoder for a model folder: its own TAESD first, else the one the environment names, else none. */
export function findPreviewDecoder(modelDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const own = ['taesd/vae_decoder/model.onnx', 'taesd/model.onnx', 'taesd_decoder.onnx'].map((f) => path.join(modelDir, f));
  const fromEnv = env[PREVIEW_DECODER_ENV];
  return [...own, ...(fromEnv ? [fromEnv] : [])].find((f) => {
    try {
      return fs.statSync(f).isFile();
    } catch {
      return false;
    }
  });
}

/** Shrinks an RGB image by the whole factor that brings its longest side to ≤ maxSide (box average). */
export function downscaleRgb(image: RgbImage, maxSide: number): RgbImage {
  const k = Math.ceil(Math.max(image.width, image.height) / maxSide);
  if (k <= 1) return image;
  const width = Math.floor(image.width / k);
  const height = Math.floor(image.height / k);
  const out = new Uint8Array(width * height * 3);
  const n = k * k;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let dy = 0; dy < k; dy++) {
          const row = ((y * k + dy) * image.width + x * k) * 3 + c;
          for (let dx = 0; dx < k; dx++) sum += image.rgb[row + dx * 3];
        }
        out[(y * width + x) * 3 + c] = Math.round(sum / n);
      }
    }
  }
  return { width, height, rgb: out };
}

export class PreviewDecoder {
  private constructor(readonly file: string, private readonly session: OnnxSession) {}

  static async load(file: string, opts: { executionProvider?: ExecutionProviderSetting; threads?: number; log?: (m: string) => void } = {}): Promise<PreviewDecoder> {
    const session = await createSession(file, opts);
    pickInput(session, 'latent_sample');
    return new PreviewDecoder(file, session);
  }

  /** Latents B×4×h×w (UNet space) → one preview per image, at most maxSide on its longest side. */
  async decode(latents: Float32Array, dims: readonly number[], maxSide = PREVIEW_MAX_SIDE): Promise<RgbImage[]> {
    checkLength('preview decoder latents', latents, dims);
    const input = pickInput(this.session, 'latent_sample');
    const output = pickOutput(this.session, ['sample']);
    const per = latents.length / dims[0];
    const images: RgbImage[] = [];
    for (let b = 0; b < dims[0]; b++) { // one at a time: bounded memory, static-batch exports work
      const part = latents.subarray(b * per, (b + 1) * per);
      const result = (await this.session.run({ [input.name]: floatFeed(input, this.session, part, [1, ...dims.slice(1)]) }))[output.name];
      const data = toFloat32(result.data, `${this.file} output ${output.name}`);
      for (const image of decodedToRgbImages(data, result.dims)) images.push(downscaleRgb(image, maxSide));
    }
    return images;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
