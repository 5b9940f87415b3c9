/**
 * The prompt fields' token counters (A1111's "23/75"): asked of the host a moment after the form stops changing,
 * never twice for the same text, and without the engine for empty fields.
 */
import type { PanelParams, PanelSetup } from '../src/protocol/webviewMessages';
import type { ParamsForm } from './form';
import { post } from './vscodeApi';

const DEBOUNCE_MS = 250;

export class TokenCounter {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastCounted = '';

  constructor(private readonly form: ParamsForm, private readonly setup: () => PanelSetup | null) {}

  /** Counts again even if the text is unchanged (a new setup: the model's tokenizer may differ). */
  recountSoon(): void {
    this.lastCounted = '';
    this.countSoon();
  }

  countSoon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.count(this.form.snapshot()), DEBOUNCE_MS);
  }

  private count(p: PanelParams): void {
    const limits = this.setup()?.limits;
    const steps = Number.isInteger(p.steps) && p.steps >= 1 && p.steps <= (limits?.stepsMax ?? 1000) ? p.steps : 20;
    const key = JSON.stringify([p.prompt, p.negativePrompt, p.model, steps]);
    const maxChars = limits?.promptMaxChars ?? 10000;
    if (key === this.lastCounted || p.model === '' || p.prompt.length > maxChars || p.negativePrompt.length > maxChars) return;
    this.lastCounted = key;
    if (p.prompt === '' && p.negativePrompt === '') {
      // Nothing to count: no need to start the engine for it.
      this.form.promptExtras.prompt.showCount('0/75');
      this.form.promptExtras.negativePrompt.showCount('0/75');
      return;
    }
    post({ type: 'countTokens', prompt: p.prompt, negativePrompt: p.negativePrompt, model: p.model, steps });
  }

  /** The host's answer. */
  show(prompt: string, negativePrompt: string): void {
    this.form.promptExtras.prompt.showCount(prompt || undefined);
    this.form.promptExtras.negativePrompt.showCount(negativePrompt || undefined);
  }
}
