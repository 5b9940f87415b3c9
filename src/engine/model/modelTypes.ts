/**
 * The contract between the pipeline (pure TypeScript math) and a loaded model (ONNX sessions, src/engine/onnx/onnxModel.ts).
 * Tests give the pipeline fakes of this interface; model.ts implements it over onnxruntime-node.
 * All tensors are flat, batch-major float32 with their shape in the doc line.
 */

import type { ModelSchedulerSetup } from './modelScheduler';

/** What a model folder says about itself (src/engine/model/modelFolder.ts reads and validates it). */
export interface ModelInfo {
  /** Absolute path of the model folder. */
  readonly dir: string;
  /** Folder name, used as A1111's "Model" value. */
  readonly name: string;
  /** model_index.json's `_class_name` (e.g. "StableDiffusionPipeline", "OnnxStableDiffusionPipeline"). */
  readonly pipelineClass: string;
  /** scheduler/scheduler_config.json as it is (snake_case keys), `_class_name` included. */
  readonly schedulerConfig: Record<string, unknown>;
  /**
   * The scheduler as diffusers' pipeline loads it (model_index.json's class, the pipeline's fix-ups), with what the
   * engine says about it; absent: computed from schedulerConfig alone.
   */
  readonly scheduler?: ModelSchedulerSetup;
  /** Latent channels (UNet in_channels, 4 for SD; an inpainting UNet's in_channels − 5). */
  readonly latentChannels: number;
  /**
   * An inpainting UNet (in_channels 9: SD 1.5 / 2 inpainting): its sample is [latents; mask (1 channel); masked-image
   * latents] along the channels, as diffusers' StableDiffusionInpaintPipeline concatenates them; it needs a mask.
   */
  readonly inpainting?: boolean;
  /** VAE downsampling factor (8 for SD). */
  readonly vaeScaleFactor: number;
  /** VAE scaling_factor (0.18215 for SD 1.x/2.x). */
  readonly scalingFactor: number;
  /** UNet sample_size (latent side); native image size = sampleSize × vaeScaleFactor. */
  readonly sampleSize: number;
  /**
   * The VAE config's sample_size in pixels (diffusers' tile_sample_min_size: tiled decoding cuts tiles of this side);
   * absent: sampleSize × vaeScaleFactor.
   */
  readonly vaeSampleSize?: number;
  /** Tokenizer folder (vocab.json, merges.txt, tokenizer_config.json). */
  readonly tokenizerDir: string;
  /** Whether vae_encoder/model.onnx is present (img2img). */
  readonly hasVaeEncoder: boolean;
  /** Latent→RGB preview factors: rows = latent channels, columns = R,G,B; plus bias. */
  readonly previewFactors: { readonly factors: number[][]; readonly bias: number[] };
  /** "fp32" or "fp16" (from the UNet's declared `sample` input type once loaded; "fp32" before). */
  readonly precision: 'fp32' | 'fp16';
  /** Stable Diffusion XL: the second tokenizer and text encoder; absent for SD 1.x / 2.x. */
  readonly xl?: XlInfo;
}

/** How decodeLatents decodes: whole images (default) or in diffusers' overlapping tiles. */
export interface DecodeOptions {
  readonly tiling?: { readonly tileLatent: number; readonly tileSample: number };
}

/** What an SDXL folder adds (diffusers' StableDiffusionXLPipeline). */
export interface XlInfo {
  /** tokenizer_2/ (OpenCLIP ViT-bigG's BPE in CLIP's format; pad "!" = id 0). */
  readonly tokenizer2Dir: string;
  /**
   * model_index.json `force_zeros_for_empty_prompt` (diffusers' default true): with no negative prompt the
   * unconditional embeddings (hidden states and pooled) are zeros instead of the encoded empty string.
   */
  readonly forceZerosForEmptyPrompt: boolean;
}

/** SDXL text conditioning: both encoders' penultimate hidden states side by side, and text_encoder_2's pooled embeds. */
export interface XlTextConditioning {
  /** B×77×(D1 + D2): text_encoder's hidden_states[-2] then text_encoder_2's, per token. */
  readonly hidden: Float32Array;
  readonly hiddenDims: number[];
  /** B×P: text_encoder_2's `text_embeds` (projected pooled output). */
  readonly pooled: Float32Array;
  readonly pooledDims: number[];
}

/** The VAE encoder's posterior N(mean, exp(logvar)), unscaled, B×C×h×w each; logvar undefined when not given. */
export interface LatentDistribution {
  readonly mean: Float32Array;
  readonly logvar?: Float32Array;
}

/** Per-call extras of predictNoise. */
export interface PredictNoiseExtras {
  /** For models with hasGuidanceEmbedding: the guidance scale w to embed. */
  readonly guidanceScale?: number;
  /** SDXL: `text_embeds`, one row of P per UNet batch item (B×P). */
  readonly textEmbeds?: Float32Array;
  /** SDXL: `time_ids`, one row per UNet batch item: original (h, w), crop (top, left), target (h, w). */
  readonly timeIds?: Float32Array;
  /**
   * The UNet batch row of the sample's first item (rows are images 0…B−1 repeated: [uncond × B; cond × B …]); 0 when
   * absent. The pipeline's inpainting wrapper reads it to add each image's mask and masked-image latents.
   */
  readonly firstRow?: number;
}

/**
 * One text encoder as A1111's prompt conditioning reads it: rows × 77 ids → rows × 77 × width hidden states, and
 * for SDXL's text_encoder_2 its pooled embeds (rows × P).
 */
export type TextEncoderRun = (ids: Int32Array, rows: number) => Promise<{ hidden: Float32Array; width: number; pooled?: Float32Array }>;

/** A model whose sessions are loaded; every method converts to and from the dtypes the sessions declare. */
export interface LoadedModel {
  readonly info: ModelInfo;
  /** Name of the execution provider that runs the UNet ("cpu", "cuda", …). */
  readonly executionProvider: string;
  /** Token ids (B×77, as the tokenizer gives them) → last_hidden_state B×77×D; returns data and D. */
  encodeText(ids: Int32Array, batch: number): Promise<{ data: Float32Array; dims: number[] }>;
  /**
   * LCM UNets (a `timestep_cond` input): the guidance scale is embedded in the UNet call, so the pipeline runs one
   * pass per step on the prompt alone (no CFG batch) and passes cfgScale as opts.guidanceScale. Absent = false.
   */
  readonly hasGuidanceEmbedding?: boolean;
  /**
   * One UNet call: sample B×C×h×w, the scheduler's timestep, encoder_hidden_states B×77×D → noise prediction B×C×h×w.
   * opts.guidanceScale: for models with hasGuidanceEmbedding, the guidance scale w to embed (w − 1 as diffusers' LCM pipeline);
   * opts.textEmbeds / opts.timeIds: SDXL's added conditions, required by SDXL UNets.
   */
  predictNoise(sample: Float32Array, sampleDims: number[], timestep: number,
               hiddenStates: Float32Array, hiddenDims: number[], opts?: PredictNoiseExtras): Promise<Float32Array>;
  /**
   * SDXL (info.xl): ids of both tokenizers (B×77 each) → the UNet's conditioning, as diffusers'
   * StableDiffusionXLPipeline.encode_prompt: hidden_states[-2] of each encoder concatenated, text_encoder_2's text_embeds.
   */
  encodeTextXl?(ids: Int32Array, ids2: Int32Array, batch: number): Promise<XlTextConditioning>;
  /**
   * The text encoders for A1111's conditioning, in order (SDXL: both): SD 1.x/2.x last_hidden_state, or with clip
   * skip N ≥ 2 hidden_states[-N] through the final layer norm; SDXL each encoder's penultimate hidden states and
   * text_encoder_2's text_embeds (A1111 applies no clip skip there). Throws where clip skip cannot be found.
   */
  textEncoderRuns?(clipSkip: number): Promise<TextEncoderRun[]>;
  /**
   * Frees the text encoders' memory once a generation's prompts are encoded: they are created again by the next
   * encode (issue 15: the memory they would hold through the denoise and the VAE decode, against their re-create time).
   */
  releaseTextEncoders?(): Promise<void>;
  /** The UNet's encoder_hidden_states token axis where the export fixed it (77), else undefined. */
  readonly unetTokens?: number;
  /**
   * Scaled latents B×C×h×w (divided by scaling_factor inside) → image B×3×H×W in [-1, 1]; with opts.tiling, tile by
   * tile as diffusers' AutoencoderKL.tiled_decode (src/engine/image/vaeTiles.ts).
   */
  decodeLatents(latents: Float32Array, latentDims: number[], opts?: DecodeOptions): Promise<Float32Array>;
  /** Image B×3×H×W in [-1, 1] → latents B×C×h×w (the distribution's mean, × scaling_factor inside). */
  encodeImage(image: Float32Array, imageDims: number[]): Promise<Float32Array>;
  /**
   * What an img2img result should say when the VAE encoder samples with its own unseeded noise (asked once per
   * loaded model; src/engine/onnx/onnxModel.ts). Models that cannot tell leave it out.
   */
  vaeEncoderNoiseWarning?(): Promise<string | undefined>;
  /**
   * Image B×3×H×W in [-1, 1] → the VAE posterior, unscaled: its mean B×C×h×w and, where the encoder gives them
   * (`latent_parameters`), its log-variance; encoders that output latents only give those as the mean. img2img
   * samples it as diffusers does (pipeline.ts); absent: encodeImage's mean is used.
   */
  encodeImageDistribution?(image: Float32Array, imageDims: number[]): Promise<LatentDistribution>;
  /** Frees every session. Afterwards the model must not be used. */
  release(): Promise<void>;
}
