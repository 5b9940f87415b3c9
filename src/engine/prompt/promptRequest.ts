/**
 * What a generation's prompts need before any model loads: AUTOMATIC1111's extra-network tags cut out of the prompt
 * (each kind handed to its handler; kinds without one are warned about), the 20-chunk limit checked (nothing is
 * loaded or written for a prompt past it), and the infotext's extra keys where A1111 writes them: "Old prompt editing
 * timelines: True" (its use_old_scheduling option on, and a prompt or negative prompt whose schedule it changes —
 * processing.py's get_conds_with_caching), then "Emphasis" (a setting other than Original, and a text with "(" or "["
 * among those encoded).
 */
import type { ClipTokenizer } from '../tokenizer';
import { splitAndPrompts } from './andSplit';
import { CHUNK_LENGTH, type EmphasisMode } from './chunks';
import { MAX_CHUNKS, PromptTooLongError, scheduleSteps } from './conditioning';
import { extractExtraNetworks, handleExtraNetworks, type ExtraNetworkHandler } from './extraNetworks';
import { promptSchedules } from './schedules';
import { countPromptTokens } from './tokenCounter';

/** A1111's names of the emphasis settings, as its infotext writes them. */
export const EMPHASIS_NAMES: Readonly<Record<EmphasisMode, string>> = { 'original': 'Original', 'no-norm': 'No norm', 'none': 'None' };

export interface PromptRequest {
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly steps: number;
  readonly schedulerOrder: number;
  readonly emphasis: EmphasisMode;
  readonly tokenizer: ClipTokenizer;
  /** A1111's "Use old prompt editing timelines". */
  readonly useOldScheduling?: boolean;
  readonly extraNetworks?: Readonly<Record<string, ExtraNetworkHandler>>;
}

export interface PreparedPrompts {
  /** The prompt without its extra-network tags (A1111 leaves the negative prompt as it is). */
  readonly prompt: string;
  readonly warnings: string[];
  /** A1111's token counts (the longest scheduled text of each). */
  readonly promptTokens: number;
  readonly negativeTokens: number;
  /** The infotext's extra generation params ("Old prompt editing timelines", "Emphasis"), in A1111's order. */
  readonly infotextExtra: Array<[string, string]>;
}

/** Prepares a request's prompts; throws PromptTooLongError past MAX_CHUNKS chunks. */
export function preparePrompts(r: PromptRequest): PreparedPrompts {
  const { prompt, networks } = extractExtraNetworks(r.prompt);
  const warnings = handleExtraNetworks(networks, r.extraNetworks ?? {});
  const steps = scheduleSteps(r.steps, r.schedulerOrder);
  const scheduling = { useOldScheduling: r.useOldScheduling === true };
  const counts = [
    ['prompt', countPromptTokens(prompt, r.tokenizer, steps, true, r.emphasis, scheduling)],
    // the negative prompt is encoded with its tags (A1111 hands only the prompt's to the networks): counted so
    ['negative prompt', countPromptTokens(r.negativePrompt, r.tokenizer, steps, false, r.emphasis, scheduling, false)],
  ] as const;
  for (const [what, count] of counts) {
    const chunks = count.limit / CHUNK_LENGTH;
    if (chunks > MAX_CHUNKS) {
      throw new PromptTooLongError(`${what}: ${count.tokens} tokens make ${chunks} chunks of ${CHUNK_LENGTH}; at most ${MAX_CHUNKS} `
        + `(${MAX_CHUNKS * CHUNK_LENGTH} tokens) are encoded — shorten it`);
    }
  }
  const texts = [
    ...splitAndPrompts(prompt).flatMap(([text]) => promptSchedules(text, steps, scheduling).map(([, t]) => t)),
    ...promptSchedules(r.negativePrompt, steps, scheduling).map(([, t]) => t),
  ];
  const bracketed = texts.some((t) => t.includes('(') || t.includes('['));
  const infotextExtra: Array<[string, string]> = [];
  // A1111 compares the schedules of the whole texts (AND included) under both timelines, negative prompt first.
  const timelinesDiffer = (text: string): boolean =>
    JSON.stringify(promptSchedules(text, steps)) !== JSON.stringify(promptSchedules(text, steps, { useOldScheduling: true }));
  if (r.useOldScheduling === true && (timelinesDiffer(r.negativePrompt) || timelinesDiffer(prompt))) {
    infotextExtra.push(['Old prompt editing timelines', 'True']);
  }
  if (r.emphasis !== 'original' && bracketed) infotextExtra.push(['Emphasis', EMPHASIS_NAMES[r.emphasis]]);
  return { prompt, warnings, promptTokens: counts[0][1].tokens, negativeTokens: counts[1][1].tokens, infotextExtra };
}
