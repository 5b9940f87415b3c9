/**
 * Word completion for a prompt field (a toolkit `vscode-text-area`): a popup list under the word at the caret,
 * filtered as the user types, offering the words a grammar-only model knows (the embedded one). Arrow keys move the
 * active word, Enter or Tab takes it, Escape closes the list, a click takes a word, Ctrl+Space opens the list
 * without typing. The text area's inner `<textarea>` is the combobox (role, aria-expanded, aria-controls,
 * aria-activedescendant; the element references are set as properties too, because an id does not reach across the
 * toolkit's shadow root) and a polite status line says the active word for screen readers that miss it. Colours are
 * VS Code's suggest widget's. The pure half is webview/completionModel.ts.
 */
import getCaretCoordinates from 'textarea-caret';
import { moveActive, suggestionsFor, takeWord, wordAt } from './completionModel';
import { el } from './dom';

/** The toolkit's text area as far as this file uses it. */
interface TextAreaElement extends HTMLElement {
  value: string;
  /** The inner `<textarea>` (FAST's TextArea), there once the element is connected. */
  readonly control?: HTMLTextAreaElement;
}

/** The ARIA element references (Chromium 135+, Safari 16.4+), where ids cannot reach. */
interface AriaReflecting {
  ariaActiveDescendantElement?: Element | null;
  ariaControlsElements?: readonly Element[] | null;
}

const MAX_OPTIONS = 12;

export class PromptCompletion {
  /** The popup list (in the document's body, positioned under the caret's word). */
  readonly list: HTMLElement;
  private readonly status: HTMLElement;
  private words: readonly string[] = [];
  private options: string[] = [];
  private active = -1;
  private range: { start: number; end: number } | null = null;
  /** Set while a taken word is written into the field (its own input event must not reopen the list). */
  private taking = false;

  constructor(private readonly field: TextAreaElement, label: string, private readonly onTaken: () => void) {
    const id = `${field.id || 'prompt'}-completions`;
    this.list = el('div', { id, class: 'completion-list', role: 'listbox', 'aria-label': `Words for the ${label.toLowerCase()}`, hidden: true });
    this.status = el('div', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
    document.body.append(this.list, this.status);
    // a click on a word must not take the focus from the text area (its blur would close the list first)
    this.list.addEventListener('mousedown', (event) => event.preventDefault());
    this.list.addEventListener('click', (event) => {
      const option = (event.target as Element | null)?.closest('[role="option"]');
      const index = option ? Number((option as HTMLElement).dataset.index) : -1;
      if (index >= 0) this.take(index);
    });
    field.addEventListener('input', () => { if (!this.taking) this.refresh(false); });
    field.addEventListener('keydown', (event) => this.onKeyDown(event), true);
    field.addEventListener('keyup', (event) => {
      if (this.isOpen && ['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) this.refresh(false);
    });
    field.addEventListener('click', () => { if (this.isOpen) this.refresh(false); });
    field.addEventListener('focusout', () => this.close());
    window.addEventListener('resize', () => this.close());
    document.addEventListener('scroll', () => { if (this.isOpen) this.position(); }, true);
  }

  get isOpen(): boolean {
    return !this.list.hidden;
  }

  /** The words to offer (the picked model's), or none: the list is then never shown. */
  setWords(words: readonly string[] | null | undefined): void {
    this.words = words ?? [];
    const control = this.control();
    if (this.words.length === 0) {
      this.close();
      for (const name of ['role', 'aria-autocomplete', 'aria-haspopup', 'aria-expanded', 'aria-controls']) control?.removeAttribute(name);
      return;
    }
    if (control) {
      control.setAttribute('role', 'combobox');
      control.setAttribute('aria-autocomplete', 'list');
      control.setAttribute('aria-haspopup', 'listbox');
      control.setAttribute('aria-expanded', String(this.isOpen));
      control.setAttribute('aria-controls', this.list.id);
      (control as AriaReflecting).ariaControlsElements = [this.list];
    }
    if (this.isOpen) this.refresh(false);
  }

  private control(): HTMLTextAreaElement | undefined {
    return this.field.control ?? this.field.shadowRoot?.querySelector('textarea') ?? undefined;
  }

  private onKeyDown(event: KeyboardEvent): void {
    if (event.isComposing) return; // an input method's Enter or arrows belong to it
    if (!this.isOpen) {
      if (event.key === ' ' && event.ctrlKey && !event.altKey && !event.metaKey && this.words.length) {
        event.preventDefault();
        this.refresh(true);
      }
      return;
    }
    const plain = !event.ctrlKey && !event.altKey && !event.metaKey;
    let handled = true;
    if (event.key === 'ArrowDown' && plain) this.setActive(moveActive(this.active, this.options.length, 'next'));
    else if (event.key === 'ArrowUp' && plain) this.setActive(moveActive(this.active, this.options.length, 'previous'));
    else if (event.key === 'PageDown' && plain) this.setActive(moveActive(this.active, this.options.length, 'last'));
    else if (event.key === 'PageUp' && plain) this.setActive(moveActive(this.active, this.options.length, 'first'));
    else if ((event.key === 'Enter' && plain && !event.shiftKey) || (event.key === 'Tab' && plain && !event.shiftKey)) this.take(this.active);
    else if (event.key === 'Escape') this.close(); // handled: it does not also cancel a running generation
    else handled = false;
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }

  /** Shows the words for the word at the caret (any word with `explicit`, from Ctrl+Space), or closes the list. */
  private refresh(explicit: boolean): void {
    const control = this.control();
    if (!control || this.words.length === 0 || control.selectionStart !== control.selectionEnd) {
      this.close();
      return;
    }
    const caret = control.selectionStart;
    const word = wordAt(control.value, caret);
    this.range = word ?? { start: caret, end: caret };
    this.options = suggestionsFor(this.words, word?.prefix ?? '', MAX_OPTIONS, explicit);
    if (this.options.length === 0) {
      this.close();
      return;
    }
    this.list.replaceChildren(...this.options.map((w, i) => el('div', {
      id: `${this.list.id}-${i}`, class: 'completion-option', role: 'option', 'aria-selected': 'false', 'data-index': String(i),
    }, w)));
    this.list.hidden = false;
    control.setAttribute('aria-expanded', 'true');
    this.setActive(0);
    this.position();
  }

  private setActive(index: number): void {
    this.active = index;
    const control = this.control();
    this.list.querySelectorAll<HTMLElement>('[role="option"]').forEach((option, i) => {
      option.setAttribute('aria-selected', String(i === index));
      if (i === index) option.scrollIntoView({ block: 'nearest' });
    });
    const option = index >= 0 ? document.getElementById(`${this.list.id}-${index}`) : null;
    if (control) {
      if (option) control.setAttribute('aria-activedescendant', option.id);
      else control.removeAttribute('aria-activedescendant');
      (control as AriaReflecting).ariaActiveDescendantElement = option;
    }
    this.status.textContent = option ? `${this.options[index]}, ${index + 1} of ${this.options.length}` : '';
  }

  /** Puts the list under the first letter of the caret's word (above it when there is no room below). */
  private position(): void {
    const control = this.control();
    if (!control || !this.range) return;
    const caret = getCaretCoordinates(control, this.range.start);
    const box = control.getBoundingClientRect();
    const left = box.left + caret.left - control.scrollLeft;
    const lineTop = box.top + caret.top - control.scrollTop;
    const height = this.list.offsetHeight;
    const below = lineTop + lineHeight(control, caret.height);
    const top = below + height > window.innerHeight && lineTop - height >= 0 ? lineTop - height : below;
    this.list.style.left = `${Math.max(0, Math.min(left, window.innerWidth - this.list.offsetWidth))}px`;
    this.list.style.top = `${Math.max(0, top)}px`;
  }

  private take(index: number): void {
    const control = this.control();
    const word = this.options[index];
    if (!control || word === undefined || !this.range) {
      this.close();
      return;
    }
    const next = takeWord(control.value, this.range, word);
    this.close();
    this.taking = true;
    try {
      control.value = next.text;
      this.field.value = next.text;
      control.setSelectionRange(next.caret, next.caret);
      this.field.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
    } finally {
      this.taking = false;
    }
    this.status.textContent = `${word} inserted`;
    this.onTaken();
  }

  close(): void {
    if (this.list.hidden) return;
    this.list.hidden = true;
    this.options = [];
    this.active = -1;
    this.range = null;
    const control = this.control();
    control?.setAttribute('aria-expanded', 'false');
    control?.removeAttribute('aria-activedescendant');
    if (control) (control as AriaReflecting).ariaActiveDescendantElement = null;
  }
}

/** The caret's line height: textarea-caret reads it with parseInt, which gives NaN for `line-height: normal`. */
function lineHeight(control: HTMLTextAreaElement, measured: number): number {
  if (Number.isFinite(measured) && measured > 0) return measured;
  const fontSize = parseFloat(getComputedStyle(control).fontSize);
  return Number.isFinite(fontSize) && fontSize > 0 ? Math.round(fontSize * 1.2) : 16;
}
