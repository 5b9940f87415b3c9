/**
 * Messages between the extension host (src/generation/engineClient.ts) and the engine process (src/engine/main.ts).
 * Plain data only: numbers, strings, arrays, typed arrays (IPC uses serialization 'advanced').
 * Both sides import this file with `import type`; guards (isToEngine / isFromEngine) live beside the handlers.
 */

import type { HiresUpscaler } from '../common/hires';

export type ExecutionProviderSetting = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml';
export type RngSource = 'cpu' | 'nv';
/** A1111's "Emphasis" setting: how (word:1.2) weights apply — "original" (weights, then the mean restored), "no-norm", "none". */
export type EmphasisSetting = 'original' | 'no-norm' | 'none';
/**
 * How the final latents become the image: "auto" (the full VAE, in diffusers' tiles when the untiled decode would
 * pass the memory budget), "full" (never tiled), "tiled" (diffusers' tiled_decode whenever the image is larger than
 * a tile), "fast" (the model folder's TAESD decoder: a draft in a fraction of a second; the full VAE without one).
 */
export type VaeDecodeSetting = 'auto' | 'full' | 'tiled' | 'fast';

/** An RGB image, 3 bytes a pixel, row-major. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
}

/** A grayscale image, 1 byte a pixel, row-major (an inpainting mask: 255 = repaint). */
export interface GrayImage {
  readonly width: number;
  readonly height: number;
  readonly gray: Uint8Array;
}

/** A1111's "Inpaint area": the whole picture, or "Only masked" (the masked region cropped, inpainted, pasted back). */
export type InpaintArea = 'whole' | 'masked';
/** A1111's "Mask mode": "Inpaint masked" (the painted part is repainted) or "Inpaint not masked". */
export type MaskMode = 'masked' | 'unmasked';
/** A1111's "Masked content": what the masked area starts from. */
export type MaskedContent = 'fill' | 'original' | 'latent-noise' | 'latent-nothing';

/** Inpainting: a mask over the init image and A1111's settings for it. */
export interface InpaintSettings {
  /** The mask (any size: resized to the init image's); white = repaint. */
  readonly mask: GrayImage;
  /** "Mask blur" σ in pixels, 0…64 (A1111's default 4). */
  readonly maskBlur: number;
  readonly maskMode: MaskMode;
  readonly maskedContent: MaskedContent;
  readonly inpaintArea: InpaintArea;
  /** "Only masked padding, pixels", 0…256 (A1111's default 32). */
  readonly inpaintPadding: number;
}

/** Everything one generation needs; validated by src/engine/request.ts before any model is loaded. */
/** A1111's img2img resize modes: "Just resize", "Crop and resize", "Resize and fill". */
export type InitResizeMode = 'just' | 'crop' | 'fill';

export interface GenerateRequest {
  /** Model folder (diffusers / Optimum ONNX layout). */
  readonly modelDir: string;
  readonly prompt: string;
  /**
   * null: no negative prompt (diffusers' negative_prompt=None: the empty prompt's embeddings, or zeros for SDXL models
   * with force_zeros_for_empty_prompt); '' is the empty prompt, encoded (an SDXL model then differs from null).
   */
  readonly negativePrompt: string | null;
  /** Short id ("euler_a"), A1111 name ("Euler a") or diffusers class name; null = the model's own scheduler. */
  readonly sampler: string | null;
  readonly steps: number;
  readonly cfgScale: number;
  /** Seed of image 0; image i uses seed + i. */
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  readonly batchSize: number;
  /** img2img source image (any size; resized to width×height), or null for txt2img. */
  readonly initImage: RgbImage | null;
  /** img2img strength in 0…1. */
  readonly strength: number;
  /**
   * How the init image meets width×height when its size differs, as A1111's img2img "Resize mode": 'just' ("Just
   * resize", the default when absent), 'crop' ("Crop and resize"), 'fill' ("Resize and fill").
   */
  readonly resizeMode?: InitResizeMode;
  /** Inpainting over initImage (absent or null: none). */
  readonly inpaint?: InpaintSettings | null;
  /** Send a latent preview after every step. */
  readonly previews: boolean;
  readonly rng: RngSource;
  /** A1111's "Clip skip" (1…12; 1, the default, reads the last layer). */
  readonly clipSkip?: number;
  /** A1111's "Emphasis" ("original" by default). */
  readonly emphasis?: EmphasisSetting;
  /**
   * A1111's "Use old prompt editing timelines" (its infotext's "Old prompt editing timelines: True", and images of
   * A1111 before 1.6 with "[" in the prompt): [a:b:N] switches at a fraction of the steps for N < 1 and at step N
   * otherwise, instead of "a decimal point means a fraction". Absent or false: the new timelines.
   */
  readonly oldPromptEditingTimelines?: boolean;
  /** How the VAE decodes (absent: "auto"). */
  readonly vaeDecode?: VaeDecodeSetting;
  readonly executionProvider: ExecutionProviderSetting;
  /** intra-op threads; null = the engine's default. */
  readonly threads: number | null;
  /** Where `<lora:name:weight>` names are looked up (A1111's models/Lora); absent: tags are warned about and ignored. */
  readonly loraDir?: string | null;
  /** Textual-inversion embeddings whose file names the prompts may use (A1111's embeddings/). */
  readonly embeddingsDir?: string | null;
  /** A1111's "Variation seed" of image 0 (image i uses variationSeed + i); applies when variationStrength > 0. */
  readonly variationSeed?: number;
  /** A1111's "Variation strength", 0…1: how far the noise is slerped toward the variation seed's (absent: 0). */
  readonly variationStrength?: number;
  /** A1111's "Resize seed from" (pixels): the seed's noise as made for this size, centred (absent: none). */
  readonly seedResizeFrom?: { readonly width: number; readonly height: number };
  /** A1111's hires. fix (text to image only); absent or null: none. */
  readonly hires?: HiresRequest | null;
}

/** A1111's hires. fix: the first pass at width×height, upscaled by `scale`, then image to image at that size. */
export interface HiresRequest {
  /** "Upscale by": the second pass runs at ⌊width·scale⌋×⌊height·scale⌋ rounded down to 8 px; above 1, at most 4. */
  readonly scale: number;
  /** "Hires steps": the second pass's steps; 0 = as many as the first pass (A1111). */
  readonly steps: number;
  /** "Denoising strength" of the second pass, above 0 and at most 1. */
  readonly strength: number;
  /** "Upscaler": a latent one ("Latent", "Latent (bicubic antialiased)" …) or a pixel resampler ("None", "Lanczos": PIL Lanczos). */
  readonly upscaler: HiresUpscaler;
}

export interface GeneratedImage {
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  /** PNG bytes with the A1111 `parameters` chunk. */
  readonly png: Uint8Array;
  /** The `parameters` text stored in the PNG. */
  readonly infotext: string;
}

/** The requested accelerator could not start and the model ran on another provider (the CPU) instead. */
export interface ProviderFallback {
  /** The provider that could not start ("cuda", "dml", "coreml"). */
  readonly provider: string;
  /** The provider the model runs on instead. */
  readonly ranOn: string;
  /** ONNX Runtime's message. */
  readonly reason: string;
}

export interface TimingsMs {
  readonly load: number;
  readonly textEncoder: number;
  readonly unet: number;
  readonly unetSteps: readonly number[];
  readonly vae: number;
  readonly png: number;
  readonly total: number;
  /** LoRAs and embeddings: reading their files, and writing (or finding in the cache) the patched model copies. */
  readonly networks?: { readonly read: number; readonly patch: number; readonly cacheHit: boolean };
}

/** Host → engine. */
export type ToEngine =
  /** Start a generation; answered by exactly one `result` or `error` with the same id. */
  | { readonly type: 'generate'; readonly id: number; readonly request: GenerateRequest }
  /**
   * Load what this request would load (model sessions, LoRA set, VAE decoder) and stop there: no image. Sent after a
   * cancel that killed the engine, so the reload the kill costs happens while the user edits, not after the next
   * Generate. Answered by `preloaded` (an error by `preloaded` with `error`); cancelled like a generation.
   */
  | { readonly type: 'preload'; readonly id: number; readonly request: GenerateRequest }
  /** Cancel a running generation cooperatively (checked between denoising steps). */
  | { readonly type: 'cancel'; readonly id: number }
  /** Release loaded sessions (model switch, idle); answered by `result`-less `unloaded`. */
  | { readonly type: 'unload'; readonly id: number }
  /** Count a prompt's tokens as A1111's counter does (the model folder's tokenizer); answered by `tokenCounts`. */
  | { readonly type: 'countTokens'; readonly id: number; readonly modelDir: string; readonly prompt: string;
      readonly negativePrompt: string; readonly steps: number;
      /** The embeddings folder: an embedding's name counts as its vectors, as A1111's counter counts it. */
      readonly embeddingsDir?: string | null }
  /** Exit cleanly. */
  | { readonly type: 'shutdown' };

/** A1111's token counter for one prompt field: tokens of the longest scheduled text, the next multiple of 75. */
export interface TokenCount { readonly tokens: number; readonly limit: number }

/** Engine → host. */
export type FromEngine =
  /** The process is up and listening. */
  | { readonly type: 'ready'; readonly pid: number }
  /** After each denoising step: 1-based step of totalSteps, its duration, and one preview per image when asked. */
  | { readonly type: 'progress'; readonly id: number; readonly step: number; readonly totalSteps: number;
      readonly stepMs: number; readonly previews: readonly RgbImage[];
      /** With hires. fix: which pass the step belongs to (1: the first, 2: the hires pass). */
      readonly pass?: number }
  /** A generation finished. */
  | { readonly type: 'result'; readonly id: number; readonly images: readonly GeneratedImage[];
      readonly timingsMs: TimingsMs; readonly executionProvider: string; readonly warnings: readonly string[];
      /** Set when the requested provider could not start (its warning is among `warnings` too). */
      readonly providerFallback?: ProviderFallback;
      /** Set when an fp16 model ran on the CPU from its fp32 copy: the line that says where and how large. */
      readonly fp32Copy?: string }
  /** A request failed; `code` classifies it (see EngineErrorCode). */
  | { readonly type: 'error'; readonly id: number; readonly code: EngineErrorCode; readonly message: string }
  /** Sessions released. */
  | { readonly type: 'unloaded'; readonly id: number }
  /** A preload finished: how long the load took, or why it failed (the next generation reports it again). */
  | { readonly type: 'preloaded'; readonly id: number; readonly loadMs: number; readonly error?: string }
  /** The answer to countTokens (an unreadable tokenizer answers with `error`). */
  | { readonly type: 'tokenCounts'; readonly id: number; readonly prompt: TokenCount; readonly negativePrompt: TokenCount }
  /** A line for the host's output channel. */
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string };

export type EngineErrorCode =
  | 'cancelled'
  | 'invalid-request'
  | 'model-invalid'
  | 'model-load-failed'
  | 'out-of-memory'
  | 'internal';
