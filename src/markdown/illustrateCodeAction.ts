/**
 * "Illustrate" as a Code Action (the lightbulb): offered where "Illustrate Alt Text" would act (the cursor in an
 * image's alt text, or text selected). "Illustrate Document" is not offered here: it is a command (the palette) and a
 * button in the markdown editor's title bar. The title logic has no `vscode` import (illustrateActionFor); the provider
 * (markdownProviders.ts) is the thin part.
 */
import { findIllustrateTarget } from './altText';

export interface IllustrateAction {
  readonly title: string;
  readonly command: 'inlineDiffusion.illustrateAltText';
}

/** The action for a selection [start, end) of a markdown text, or undefined when there is nothing to illustrate. */
export function illustrateActionFor(text: string, start: number, end: number): IllustrateAction | undefined {
  const target = findIllustrateTarget(text, start, end);
  if (!target) return undefined;
  const prompt = target.kind === 'image' ? target.image.prompt : target.prompt;
  if (!prompt) return undefined;
  const short = prompt.length > 40 ? `${prompt.slice(0, 40)}…` : prompt;
  return { title: `Illustrate “${short}”`, command: 'inlineDiffusion.illustrateAltText' };
}
