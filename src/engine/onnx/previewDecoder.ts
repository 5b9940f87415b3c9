/**
 * TAESD (Tiny AutoEncoder for Stable Diffusion, madebyollin; diffusers' AutoencoderTiny) as a step-preview decoder:
 * a ~5 MB ONNX decoder that turns SD 1.x/2.x latents into B×3×H×W images, shown downscaled so no side exceeds
 * `maxSide`. TAESD decodes the UNet's (scaled) latents as they are: its latent scale is 1, not 0.18215 (taesd
 * README; AutoencoderTiny's scaling_factor 1.0). Two export conventions exist (conventionOf):
 * - diffusers / Optimum (deinferno/taesd-onnx): `latent_sample` → `sample`, AutoencoderTiny.decode, which ends with
 *   x·2 − 1 (DecoderTiny), so the output is in [-1, 1]; a config.json beside it gives scaling_factor (1.0);
 * - taesd.py's Decoder exported as it is (madebyollin's own ONNX, other names): output in [0, 1].
 * Found in the model folder (taesd/vae_decoder/model.onnx, taesd/model.onnx, taesd_decoder.onnx; taesdxl/… for SDXL) or
 * at INLINE_DIFFUSION_PREVIEW_DECODER (a TAESD the user downloaded, SD 1.x/2.x only). Without one, previews stay linear (preview.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PREVIEW_DECODER_ENV } from '../../protocol/engineEnv';
import type { ExecutionProviderSetting, RgbImage } from '../../protocol/engineMessages';
import { toFloat32 } from './fp16';
import { decodedToRgbImages } from '../image';
import { checkLength, divide, floatFeed, pickInput, pickOutput } from './modelFeeds';
import { createSession, type OnnxSession } from './session';
import { parsePythonJson } from '../../common/pythonJson';

/** Longest preview side in pixels (a 512² image previews at 256²). */
export const PREVIEW_MAX_SIDE = 256;

/**
 * The preview decoder for a model folder: its own TAESD first, else the one the environment names, else none.
 * SDXL latents need TAESDXL: only the folder's own taesdxl/ (or taesdxl_decoder.onnx) is taken for `xl` models,
 * never the SD 1.x/2.x TAESD the environment names.
 */
export function findPreviewDecoder(modelDir: string, env: NodeJS.ProcessEnv = process.env, xl = false): string | undefined {
  const name = xl ? 'taesdxl' : 'taesd';
  const own = [`${name}/vae_decoder/model.onnx`, `${name}/model.onnx`, `${name}_decoder.onnx`].map((f) => join(modelDir, f));
  const fromEnv = xl ? undefined : env[PREVIEW_DECODER_ENV];
  return [...own, ...(fromEnv ? [fromEnv] : [])].find((f) => {
    try {
      return statSync(f).isFile();
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

/** How a preview decoder is fed and what range it returns. */
export interface PreviewConvention {
  /** 'minus-one-one': diffusers' AutoencoderTiny.decode; 'zero-one': taesd.py's Decoder. */
  readonly outputRange: 'minus-one-one' | 'zero-one';
  /** Latents are divided by this before decoding (diffusers: latents / vae.config.scaling_factor; TAESD's is 1). */
  readonly scalingFactor: number;
}

/**
 * The convention of a decoder from its names and the config.json beside it: diffusers' names (`latent_sample` in,
 * `sample` out) mean AutoencoderTiny.decode ([-1, 1]); anything else is taken for taesd.py's Decoder ([0, 1]).
 */
export function conventionOf(inputNames: readonly string[], outputNames: readonly string[], config: unknown): PreviewConvention {
  const diffusers = inputNames.includes('latent_sample') && outputNames.includes('sample');
  const sf = typeof config === 'object' && config !== null ? (config as Record<string, unknown>).scaling_factor : undefined;
  if (sf !== undefined && !(typeof sf === 'number' && sf > 0)) {
    throw new Error(`preview decoder config.json: scaling_factor should be a positive number, found ${JSON.stringify(sf)}`);
  }
  return { outputRange: diffusers ? 'minus-one-one' : 'zero-one', scalingFactor: sf ?? 1 };
}

function readConfigBeside(file: string): unknown {
  const configFile = join(dirname(file), 'config.json');
  if (!existsSync(configFile)) return undefined;
  try {
    return parsePythonJson(readFileSync(configFile, 'utf8'));
  } catch (e) {
    throw new Error(`${configFile} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** x·2 − 1 in float32 (diffusers' DecoderTiny), for decoders that return [0, 1]. */
function zeroOneToSigned(data: Float32Array): Float32Array {
  return data.map((x) => Math.fround(x * 2) - 1);
}

export class PreviewDecoder {
  private constructor(readonly file: string, private readonly session: OnnxSession, readonly convention: PreviewConvention) {}

  static async load(file: string, opts: { executionProvider?: ExecutionProviderSetting; threads?: number; log?: (m: string) => void } = {}): Promise<PreviewDecoder> {
    const config = readConfigBeside(file);
    const session = await createSession(file, opts);
    try {
      pickInput(session, 'latent_sample');
      const convention = conventionOf(session.inputs.map((i) => i.name), session.outputs.map((o) => o.name), config);
      opts.log?.(`preview decoder ${file}: output in ${convention.outputRange === 'zero-one' ? '[0, 1] (taesd.py)' : '[-1, 1] (AutoencoderTiny)'}, `
        + `latents / ${convention.scalingFactor}`);
      return new PreviewDecoder(file, session, convention);
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  /** Latents B×4×h×w (UNet space) → one preview per image, at most maxSide on its longest side. */
  async decode(latents: Float32Array, dims: readonly number[], maxSide = PREVIEW_MAX_SIDE): Promise<RgbImage[]> {
    const images: RgbImage[] = [];
    await this.eachImage(latents, dims, (data, outDims) => {
      for (const image of decodedToRgbImages(data, outDims)) images.push(downscaleRgb(image, maxSide));
    });
    return images;
  }

  /**
   * Latents B×4×h×w (UNet space) → the whole images B×3×H×W in [-1, 1], as the full VAE's decodeLatents gives them
   * (the "fast" decode: A1111's "VAE Decoder: TAESD").
   */
  async decodeImages(latents: Float32Array, dims: readonly number[]): Promise<Float32Array> {
    const parts: Float32Array[] = [];
    await this.eachImage(latents, dims, (data) => { parts.push(data); });
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  }

  private async eachImage(latents: Float32Array, dims: readonly number[], use: (data: Float32Array, dims: readonly number[]) => void): Promise<void> {
    checkLength('preview decoder latents', latents, dims);
    const input = pickInput(this.session, 'latent_sample');
    const output = pickOutput(this.session, ['sample']);
    const { outputRange, scalingFactor } = this.convention;
    const scaled = scalingFactor === 1 ? latents : divide(latents, scalingFactor);
    const per = latents.length / dims[0];
    for (let b = 0; b < dims[0]; b++) { // one at a time: bounded memory, static-batch exports work
      const part = scaled.subarray(b * per, (b + 1) * per);
      const result = (await this.session.run({ [input.name]: floatFeed(input, this.session, part, [1, ...dims.slice(1)]) }))[output.name];
      const raw = toFloat32(result.data, `${this.file} output ${output.name}`);
      use(outputRange === 'zero-one' ? zeroOneToSigned(raw) : raw, result.dims);
    }
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
