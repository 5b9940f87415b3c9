/**
 * The prompt room's front door: AUTOMATIC1111's prompt syntax (results identical to its modules/prompt_parser.py and
 * sd_hijack_clip.py: emphasis weights, BREAK, prompt editing and alternation, AND, 75-token chunks) and the text-encoder
 * conditioning built from it.
 */
export { encodePrompts, xlTimeIds } from './promptConditioning';
export { parsePromptAttention } from './attention';
export type { WeightedText } from './attention';
export { promptSchedules } from './schedules';
export type { ScheduleOptions } from './schedules';
export { splitAndPrompts } from './andSplit';
export { embeddingTokens, promptChunks } from './chunks';
export type { EmbeddingTokens, PromptChunk, PromptChunks, PromptEmbedding, EmphasisMode } from './chunks';
export { extractExtraNetworks, handleExtraNetworks } from './extraNetworks';
export type { ExtraNetworkHandler, ExtraNetworkParams } from './extraNetworks';
export { combineComposable } from './composable';
export { applyEmphasis, composableAt, composableConditioning, conditioningAt, encodeTexts, scheduleSteps,
  scheduledConditioning, MAX_CHUNKS, PromptTooLongError } from './conditioning';
export type { ChunkEncoder, ComposablePart, ConditioningOptions, ConditioningSchedule, TextConditioning } from './conditioning';
export { applyLayerNorm, clipSkipOutput, fitFinalLayerNorm } from './clipSkip';
export { addClipSkipOutputs } from './clipSkipGraph';
export type { ClipSkipGraph } from './clipSkipGraph';
export { countPromptTokens } from './tokenCounter';
export type { TokenCount } from './tokenCounter';
export { createGuidedPredictor } from './guidedPrediction';
export type { GuidedPredictor, GuidedPredictorInput, PredictNoise, PromptPlan } from './guidedPrediction';
export { buildPromptPlan, PromptPlanError } from './promptPlan';
export type { PromptPlanInput } from './promptPlan';
export { EMPHASIS_NAMES, preparePrompts } from './promptRequest';
export type { PreparedPrompts, PromptRequest } from './promptRequest';
