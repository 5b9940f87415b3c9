/**
 * A rough estimate of the memory one generation needs, made before anything loads, so that a request no machine
 * could run is refused with a sentence instead of an out-of-memory abort: the weights (the ONNX files' sizes), the
 * UNet's largest activations (the self-attention maps of its first attention level, as unet/config.json declares
 * it, for every sample of the batch, twice with classifier-free guidance) and the VAE decoder's (full-size feature
 * maps and its attention at the latent size, one image at a time). A UNet whose attention the engine fuses
 * (attentionFusion.ts: no attention maps in memory) counts its measured working memory instead. It errs low: a UNet
 * whose config does not say where its attention is counts none.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { attentionFusable } from './attentionFusion';

export interface MemoryEstimate {
  readonly weightsBytes: number;
  readonly unetBytes: number;
  readonly vaeBytes: number;
  readonly totalBytes: number;
}

/** Bytes of the ONNX graphs and their external data in a model's component folders. */
export function modelWeightsBytes(modelDir: string, components: readonly string[]): number {
  let total = 0;
  for (const component of components) {
    let names: string[];
    try {
      names = readdirSync(join(modelDir, component));
    } catch {
      continue;
    }
    for (const name of names) {
      if (!/\.(onnx|onnx_data|pb|bin|data)$/.test(name) && !name.endsWith('.onnx.data')) continue;
      try {
        total += statSync(join(modelDir, component, name)).size;
      } catch {
        // vanished meanwhile
      }
    }
  }
  return total;
}

/** The UNet's first self-attention level: heads, and how many times the latent is halved before it. */
export interface UnetAttention {
  readonly heads: number;
  readonly downsamplings: number;
  /** The engine runs this UNet's attention fused (no attention maps in memory). */
  readonly fused?: boolean;
}

/**
 * A fused UNet's working memory per sample and latent pixel: measured 0.70 GiB for full-size SD 1.5 at 512² with
 * classifier-free guidance (2 samples × 64² latent pixels; README "Benchmarks").
 */
export const FUSED_UNET_BYTES_PER_LATENT_PIXEL = Math.round(0.7 * 2 ** 30 / (2 * 64 * 64));

/** From diffusers' unet/config.json: `down_block_types` (the first CrossAttn block) and `attention_head_dim`. */
export function unetAttentionOf(modelDir: string): UnetAttention | null {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(join(modelDir, 'unet', 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
  const blocks = Array.isArray(config.down_block_types) ? config.down_block_types : [];
  const level = blocks.findIndex((b) => typeof b === 'string' && b.startsWith('CrossAttn'));
  if (level < 0) return null;
  const dims = config.attention_head_dim;
  const heads = typeof dims === 'number' ? dims : Array.isArray(dims) && typeof dims[level] === 'number' ? dims[level] as number : 1;
  return { heads: Math.max(1, Math.min(64, heads)), downsamplings: level, fused: attentionFusable(join(modelDir, 'unet', 'model.onnx')) };
}

export interface RunShape {
  readonly width: number;
  readonly height: number;
  readonly batchSize: number;
  /** Classifier-free guidance runs the UNet on two samples per image. */
  readonly guidance: boolean;
  /** Pixels per latent side (8 for every Stable Diffusion VAE). */
  readonly vaeScaleFactor: number;
  /** The decode runs in tiles of this many pixels a side (decodePlan), one at a time. */
  readonly tiled?: number;
}

/**
 * The VAE decoder's working memory for one untiled width×height image: its last blocks hold 128 channels at full
 * size, a few of them alive at once, plus its mid-block attention (n² for n latent pixels).
 */
export function untiledDecodeBytes(width: number, height: number, vaeScaleFactor: number): number {
  const tokens = (width / vaeScaleFactor) * (height / vaeScaleFactor);
  return width * height * 128 * 4 * 3 + tokens * tokens * 4;
}

/** The share of this machine's memory an untiled VAE decode may take before "auto" decodes in tiles. */
export const UNTILED_DECODE_BUDGET = 0.25;

/**
 * Whether the VAE decodes in diffusers' tiles (`tileSample` pixels a side): "tiled" whenever a side is larger than
 * a tile (diffusers' own condition), "auto" when also the untiled decode would take more than UNTILED_DECODE_BUDGET
 * of `totalBytes`, "full" and "fast" never.
 */
export function decodePlan(setting: 'auto' | 'full' | 'tiled' | 'fast', width: number, height: number, vaeScaleFactor: number,
    tileSample: number, totalBytes: number): 'full' | 'tiled' {
  const larger = width > tileSample || height > tileSample;
  if (!larger || setting === 'full' || setting === 'fast') return 'full';
  if (setting === 'tiled') return 'tiled';
  return untiledDecodeBytes(width, height, vaeScaleFactor) > UNTILED_DECODE_BUDGET * totalBytes ? 'tiled' : 'full';
}

/** The estimate for a run of `shape` on weights of `weightsBytes`, with the UNet's first attention level. */
export function estimateMemory(weightsBytes: number, shape: RunShape, attention: UnetAttention | null): MemoryEstimate {
  const tokens = (shape.width / shape.vaeScaleFactor) * (shape.height / shape.vaeScaleFactor);
  const samples = shape.batchSize * (shape.guidance ? 2 : 1);
  // float32 attention maps of n² per head at the first attention level (n: its tokens), one set alive at a time
  const attnTokens = attention === null ? 0 : tokens / 4 ** attention.downsamplings;
  const unetBytes = attention === null ? 0 : attention.fused === true ? samples * tokens * FUSED_UNET_BYTES_PER_LATENT_PIXEL
    : samples * attention.heads * attnTokens * attnTokens * 4;
  const vaeBytes = shape.tiled !== undefined
    ? untiledDecodeBytes(Math.min(shape.width, shape.tiled), Math.min(shape.height, shape.tiled), shape.vaeScaleFactor) + shape.width * shape.height * 3 * 4 * 2
    : untiledDecodeBytes(shape.width, shape.height, shape.vaeScaleFactor);
  return { weightsBytes, unetBytes, vaeBytes, totalBytes: weightsBytes + unetBytes + vaeBytes };
}

export type MemoryVerdict =
  | { readonly kind: 'ok' }
  | { readonly kind: 'warn'; readonly message: string }
  | { readonly kind: 'refuse'; readonly message: string };

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(bytes < 10 * 2 ** 30 ? 1 : 0)} GiB`;
}

/** Refuse above the machine's total memory, warn above what is free now. */
export function judgeMemory(estimate: MemoryEstimate, totalBytes: number, freeBytes: number, what: string): MemoryVerdict {
  const needs = `${what} needs about ${gib(estimate.totalBytes)} (weights ${gib(estimate.weightsBytes)}, UNet ${gib(estimate.unetBytes)}, VAE decode ${gib(estimate.vaeBytes)})`;
  if (estimate.totalBytes > totalBytes) {
    return { kind: 'refuse', message: `${needs}, more than this machine's ${gib(totalBytes)} of memory: use a smaller size or batch` };
  }
  if (estimate.totalBytes > freeBytes) {
    return { kind: 'warn', message: `${needs}, more than the ${gib(freeBytes)} free now: it may swap or run out of memory` };
  }
  return { kind: 'ok' };
}
