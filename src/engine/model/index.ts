/** The model room's front door: what a model folder says (read without ONNX Runtime), its family and hash, and the engine's errors. */
export { defaultModelDir } from './defaultModel';
export { EngineError } from './engineError';
export { isDir, isFile } from './fileChecks';
export { ModelError } from './modelError';
export { detectModelFamily, recommendedSettings } from './modelFamily';
export type { FamilyInfo, ModelFamily } from './modelFamily';
export { COMPONENT_FILES, modelHash, readModelFolder } from './modelFolder';
export { modelSchedulerSetup } from './modelScheduler';
export type { ModelSchedulerSetup } from './modelScheduler';
export { decodePlan, estimateMemory, judgeMemory, modelWeightsBytes, unetAttentionOf, untiledDecodeBytes, UNTILED_DECODE_BUDGET } from './memoryEstimate';
export type { MemoryEstimate, MemoryVerdict, RunShape, UnetAttention } from './memoryEstimate';
export type { DecodeOptions, LatentDistribution, LoadedModel, ModelInfo, PredictNoiseExtras, TextEncoderRun, XlTextConditioning } from './modelTypes';
export { FP16_ON_CPU_WARNING, ranFp16OnCpu } from './precisionNote';
export { concat, encodeVarint, fields, lengthDelimited, readVarint, text } from './protobuf';
export type { Field } from './protobuf';
export { EMBEDDING_EXTENSIONS, listNetworkFiles, LORA_EXTENSIONS, preferredWeight } from './networkFiles';
export type { NetworkFile } from './networkFiles';
