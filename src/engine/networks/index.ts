/**
 * The networks room's front door: LoRA / LoCon files and textual-inversion embeddings (A1111's extra networks)
 * applied to an ONNX model's weights at load — patched copies in a cache folder, the user's files untouched.
 */
export { applyNetworks, DEFAULT_CACHE_LIMIT, loraShortHash } from './networkSet';
export type { AppliedNetworks, EmbeddingIds, NetworkSetInput } from './networkSet';
export { EMBEDDING_EXTENSIONS, isMarkedLcm, listFolder, LORA_EXTENSIONS, resolveLoraTags } from './library';
export type { LibraryEntry, LoraRequest } from './library';
export { LoraError, readLora } from './loraFile';
export type { Component, LoraLayer, LoraNetwork } from './loraFile';
export { readEmbedding, EmbeddingError } from './embeddingFile';
export type { Embedding } from './embeddingFile';
export { parseSafetensors, readSafetensors, SafetensorsError } from './safetensors';
export { readTorchFile, TorchFileError } from './torchPickle';
export { indexGraphWeights } from './onnxWeights';
export { DEFAULT_FP32_CACHE_LIMIT, fp32CopyOf, wantsFp32Copy } from './fp32Cache';
export type { Fp32CopyResult } from './fp32Cache';
export { isFp16Graph, writeFp32Copy } from './fp32Copy';
