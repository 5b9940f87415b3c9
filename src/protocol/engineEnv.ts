/**
 * Environment variables the host sets for the engine process it forks (src/generation/engineClient.ts env): plain constants
 * both sides read, so the host need not load the engine's ONNX code to name them.
 */

/**
 * The folder of another copy of the onnxruntime-node package (the extension's GPU support copy, whose binding
 * folder also holds the CUDA provider libraries that ORT looks for beside libonnxruntime). When it cannot be
 * loaded, the bundled package is used and the reason logged.
 */
export const ORT_OVERRIDE_ENV = 'INLINE_DIFFUSION_ORT_NODE';

/** A TAESD decoder (.onnx) for step previews of SD 1.x/2.x models without one in their folder. */
export const PREVIEW_DECODER_ENV = 'INLINE_DIFFUSION_PREVIEW_DECODER';

/** `1` / `0`: the CLI runs the engine on a worker thread or not, whatever the model's size (src/cli/generate.ts wantsWorker). */
export const CLI_WORKER_ENV = 'INLINE_DIFFUSION_CLI_WORKER';
/** Where LoRA-patched model copies are cached (default ~/.cache/inline-diffusion/networks). */
export const NETWORK_CACHE_ENV = 'INLINE_DIFFUSION_NETWORK_CACHE';
/** Where fp32 copies of fp16 models run on the CPU are cached (default ~/.cache/inline-diffusion/fp32). */
export const FP32_CACHE_ENV = 'INLINE_DIFFUSION_FP32_CACHE';
