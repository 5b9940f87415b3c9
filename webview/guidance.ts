/**
 * Guidance for models that know only a small grammar (the embedded one): its words as the prompt's placeholder and
 * as completions in both prompt fields (a popup under the caret's word, webview/promptCompletion.ts), a quiet hint
 * naming the prompt's words it does not know, and a hint when the size is not the model's native size.
 */
import { completionsFor, placeholderFor, unknownWords } from './guidanceWords';
import { PromptCompletion } from './promptCompletion';

/** What the guidance needs of the picked model. */
export interface GuidedModel {
  readonly words?: readonly string[] | null;
  readonly nativeSize: number | null;
}

const DEFAULT_PLACEHOLDER = 'a red fox in snow';

type TextArea = HTMLElement & { value: string };

/** The guidance of the prompt fields: completions, the unknown-words hint, the size hint. */
export class GuidanceView {
  readonly hint: HTMLElement;
  private readonly completions: readonly PromptCompletion[];
  private words: readonly string[] = [];
  private known = new Set<string>();

  constructor(private readonly prompt: TextArea, negative: TextArea, onChange: () => void) {
    this.completions = [new PromptCompletion(prompt, 'Prompt', onChange), new PromptCompletion(negative, 'Negative prompt', onChange)];
    this.hint = document.createElement('div');
    this.hint.className = 'prompt-hint';
    this.hint.id = 'promptHint';
    this.hint.setAttribute('aria-live', 'polite');
    this.hint.hidden = true;
  }

  /** Shows what fits the picked model, the prompt as it is and the size. */
  update(model: GuidedModel | undefined, width: number, height: number): void {
    const words = model?.words ?? [];
    if (words !== this.words) {
      this.words = words;
      this.known = new Set(words);
      this.prompt.setAttribute('placeholder', words.length ? placeholderFor(words) : DEFAULT_PLACEHOLDER);
    }
    for (const c of this.completions) c.setWords(words);
    const value = this.prompt.value;
    const lines: string[] = [];
    if (words.length) {
      // a word still being typed that a completion would finish is not unknown yet
      const { partial, matches } = completionsFor(value, words);
      const settled = matches.length ? value.slice(0, value.length - partial.length) : value;
      const unknown = unknownWords(settled, this.known);
      if (unknown.length) lines.push(`This model does not know ${unknown.map((w) => `“${w}”`).join(', ')}; it draws only its own words: ${words.join(', ')}.`);
    }
    const native = model?.nativeSize ?? null;
    if (native !== null && (width !== native || height !== native) && width > 0 && height > 0) {
      lines.push(`This model was trained at ${native}×${native}; other sizes run but may come out worse.`);
    }
    this.hint.textContent = lines.join(' ');
    this.hint.hidden = lines.length === 0;
  }
}
