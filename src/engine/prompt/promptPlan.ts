/**
 * The text side of a generation, encoded once before sampling: the prompt's AND parts with their editing/alternation
 * schedules, and the negative prompt's schedule where the sampler needs the unconditional prediction (classifier-free
 * guidance, or any AND / sub-prompt weight — A1111 always has it). Schedules count A1111's steps (scheduleSteps).
 */
import { composableConditioning, scheduleSteps, scheduledConditioning, type ChunkEncoder, type ConditioningOptions } from './conditioning';
import type { PromptPlan } from './guidedPrediction';

export interface PromptPlanInput {
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly steps: number;
  /** The scheduler's order (2 for Heun: A1111 schedules prompts over steps × 2 there). */
  readonly schedulerOrder: number;
  readonly cfgScale: number;
  /** LCM UNets embed the guidance scale: there is no unconditional prediction. */
  readonly embeddedGuidance: boolean;
  readonly zeroNegative: boolean;
  readonly encoders: readonly ChunkEncoder[];
  readonly options: ConditioningOptions;
}

/** Thrown for a prompt the model cannot follow as written (AND on a UNet without a CFG batch). */
export class PromptPlanError extends Error {}

export async function buildPromptPlan(input: PromptPlanInput): Promise<PromptPlan> {
  const total = scheduleSteps(input.steps, input.schedulerOrder);
  const parts = await composableConditioning(input.prompt, total, input.encoders, input.options);
  const composed = parts.length > 1 || parts[0].weight !== 1;
  if (input.embeddedGuidance && composed) {
    throw new PromptPlanError(`AND and sub-prompt weights (":0.5" at a prompt's end) combine with the unconditional prediction, `
      + `which this model does not make (it embeds the guidance scale, as LCM models do): write the prompt without them`);
  }
  const needsUncond = !input.embeddedGuidance && (input.cfgScale > 1 || composed);
  if (!needsUncond) return { parts };
  const negative = await scheduledConditioning(input.negativePrompt, total, input.encoders, input.options);
  return { parts, negative, zeroNegative: input.zeroNegative };
}
