/**
 * The contract between the pipeline (pure TypeScript math) and a loaded model (ONNX sessions, src/engine/model.ts).
 * Tests give the pipeline fakes of this interface; model.ts implements it over onnxruntime-node.
 * All tensors are flat, batch-major float32 with their shape in the doc line.
 */

/** What a model folder says about itself (src/engine/modelFolder.ts reads and validates it). */
export interface ModelInfo {
  /** Absolute path of the model folder. */
  readonly dir: string;
  /** Folder name, used as A1111's "Model" value. */
  readonly name: string;
  /** model_index.json's `_class_name` (e.g. "StableDiffusionPipeline", "OnnxStableDiffusionPipeline"). */
  readonly pipelineClass: string;
  /** scheduler/scheduler_config.json as it is (snake_case keys), `_class_name` included. */
  readonly schedulerConfig: Record<string, unknown>;
  /** Latent channels (UNet in_channels, 4 for SD). */
  readonly latentChannels: number;
  /** VAE downsampling factor (8 for SD). */
  readonly vaeScaleFactor: number;
  /** VAE scaling_factor (0.18215 for SD 1.x/2.x). */
  readonly scalingFactor: number;
  /** UNet sample_size (latent side); native image size = sampleSize × vaeScaleFactor. */
  readonly sampleSize: number;
  /** Tokenizer folder (vocab.json, merges.txt, tokenizer_config.json). */
  readonly tokenizerDir: string;
  /** Whether vae_encoder/model.onnx is present (img2img). */
  readonly hasVaeEncoder: boolean;
  /** Latent→RGB preview factors: rows = latent channels, columns = R,G,B; plus bias. */
  readonly previewFactors: { readonly factors: number[][]; readonly bias: number[] };
  /** "fp32" or "fp16" (from the UNet's declared `sample` input type once loaded; "fp32" before). */
  readonly precision: 'fp32' | 'fp16';
}

/** Stage timings in milliseconds. */
export interface StageTimingsMs {
  load: number;
  textEncoder: number;
  unet: number;
  unetSteps: number[];
  vae: number;
  png: number;
  total: number;
}

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
   * opts.guidanceScale: for models with hasGuidanceEmbedding, the guidance scale w to embed (w − 1 as diffusers' LCM pipeline).
   */
  predictNoise(sample: Float32Array, sampleDims: number[], timestep: number,
               hiddenStates: Float32Array, hiddenDims: number[], opts?: { readonly guidanceScale?: number }): Promise<Float32Array>;
  /** Scaled latents B×C×h×w (divided by scaling_factor inside) → image B×3×H×W in [-1, 1]. */
  decodeLatents(latents: Float32Array, latentDims: number[]): Promise<Float32Array>;
  /** Image B×3×H×W in [-1, 1] → latents B×C×h×w (the distribution's mean, × scaling_factor inside). */
  encodeImage(image: Float32Array, imageDims: number[]): Promise<Float32Array>;
  /** Frees every session. Afterwards the model must not be used. */
  release(): Promise<void>;
}
