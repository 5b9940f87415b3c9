/**
 * Under each prompt field: the prompt as A1111 reads it, coloured by promptSyntax (emphasis, editing, alternation,
 * BREAK, AND, extra-network tags; an unbalanced bracket marked), and the token counter A1111 shows ("23/75") once
 * the host has counted. Text nodes only, never HTML.
 */
import { clear, el } from './dom';
import { promptSyntax } from './promptSyntax';

export class PromptHighlight {
  readonly root: HTMLElement;
  private readonly syntax: HTMLElement;
  private readonly counter: HTMLElement;

  constructor(label: string) {
    this.syntax = el('div', { class: 'prompt-syntax', 'aria-hidden': 'true' });
    this.counter = el('span', { class: 'token-counter', 'aria-label': `${label} tokens`, title: 'Tokens / the next 75-token chunk boundary, as AUTOMATIC1111 counts them' });
    this.root = el('div', { class: 'prompt-extras' }, this.syntax, this.counter);
  }

  /** Shows the prompt's syntax; an empty prompt shows nothing. */
  show(prompt: string): void {
    clear(this.syntax);
    let unbalanced = 0;
    for (const run of promptSyntax(prompt)) {
      if (run.kind === 'unbalanced') unbalanced++;
      this.syntax.append(run.kind === 'text' ? document.createTextNode(run.text)
        : el('span', { class: `syntax-${run.kind}`, title: run.kind === 'unbalanced' ? 'unbalanced bracket: A1111 closes it at the end or reads it as text' : undefined }, run.text));
    }
    this.syntax.hidden = !/[()[\]|:<\\]|BREAK|AND/.test(prompt);
    this.root.classList.toggle('has-unbalanced', unbalanced > 0);
  }

  /** "23/75", or nothing while unknown. */
  showCount(text: string | undefined): void {
    this.counter.textContent = text ?? '';
  }
}
