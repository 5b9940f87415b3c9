/**
 * Guidance for models that know only a small grammar (the embedded one): its words as the prompt's placeholder and
 * completions (Tab or a click takes the first / chosen one), a quiet hint naming the prompt's words it does not know,
 * and a hint when the size is not the model's native size.
 */
import { completionsFor, placeholderFor, unknownWords } from './guidanceWords';

/** What the guidance needs of the picked model. */
export interface GuidedModel {
  readonly words?: readonly string[] | null;
  readonly nativeSize: number | null;
}

const DEFAULT_PLACEHOLDER = 'a red fox in snow';

/** The guidance under the prompt field: completions, the unknown-words hint, the size hint. */
export class GuidanceView {
  readonly completions: HTMLElement;
  readonly hint: HTMLElement;
  private words: readonly string[] = [];
  private known = new Set<string>();
  private matches: string[] = [];
  private partial = '';

  constructor(private readonly prompt: HTMLElement & { value: string }, private readonly onChange: () => void) {
    this.completions = document.createElement('div');
    this.completions.className = 'completions';
    this.completions.id = 'promptCompletions';
    this.completions.setAttribute('role', 'listbox');
    this.completions.setAttribute('aria-label', 'Words this model knows');
    this.completions.hidden = true;
    this.hint = document.createElement('div');
    this.hint.className = 'prompt-hint';
    this.hint.id = 'promptHint';
    this.hint.setAttribute('aria-live', 'polite');
    this.hint.hidden = true;
    prompt.addEventListener('keydown', (event: KeyboardEvent) => {
      if (event.key === 'Tab' && !event.shiftKey && this.matches.length > 0) {
        event.preventDefault();
        this.take(this.matches[0]);
      }
    });
  }

  /** Shows what fits the picked model, the prompt as it is and the size. */
  update(model: GuidedModel | undefined, width: number, height: number): void {
    this.words = model?.words ?? [];
    this.known = new Set(this.words);
    this.prompt.setAttribute('placeholder', this.words.length ? placeholderFor(this.words) : DEFAULT_PLACEHOLDER);
    const value = this.prompt.value;
    ({ partial: this.partial, matches: this.matches } = this.words.length ? completionsFor(value, this.words) : { partial: '', matches: [] });
    this.completions.replaceChildren(...this.matches.map((w, i) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'completion';
      b.setAttribute('role', 'option');
      b.setAttribute('aria-selected', String(i === 0));
      b.textContent = w;
      b.title = i === 0 ? `${w} (Tab)` : w;
      b.addEventListener('click', () => this.take(w));
      return b;
    }));
    this.completions.hidden = this.matches.length === 0;
    const lines: string[] = [];
    if (this.words.length) {
      // a word still being typed that a completion would finish is not unknown yet
      const settled = this.matches.length ? value.slice(0, value.length - this.partial.length) : value;
      const unknown = unknownWords(settled, this.known);
      if (unknown.length) lines.push(`This model does not know ${unknown.map((w) => `“${w}”`).join(', ')}; it draws only its own words: ${this.words.join(', ')}.`);
    }
    const native = model?.nativeSize ?? null;
    if (native !== null && (width !== native || height !== native) && width > 0 && height > 0) {
      lines.push(`This model was trained at ${native}×${native}; other sizes run but may come out worse.`);
    }
    this.hint.textContent = lines.join(' ');
    this.hint.hidden = lines.length === 0;
  }

  private take(word: string): void {
    const value = this.prompt.value;
    this.prompt.value = `${value.slice(0, value.length - this.partial.length)}${word} `;
    this.prompt.focus();
    this.onChange();
  }
}
