/**
 * The LoRAs and textual-inversion embeddings of the settings' folders (PanelSetup.networks, refreshed by `networks`
 * messages while the folders change) as two pickers under the prompt fields. A LoRA goes in as `<lora:name:w>`
 * (A1111's syntax) with the weight of the picker's Weight field: 1, or the LoRA's "preferred weight" from the `.json`
 * beside it (A1111's user metadata). With the prompt's caret in a `<lora:…>` tag of a listed LoRA, the picker shows
 * that LoRA and its weight, and its button sets the tag's weight instead of adding another tag. An embedding's name
 * goes into the prompt or the negative prompt (where A1111 users put EasyNegative-style embeddings). Everything is a
 * native control or a toolkit button: Tab reaches it, Enter in the Weight field does what the button does, and the
 * outcome is announced. Hidden when no folder is set. The pure half is webview/networkTags.ts.
 */
import type { PanelNetworks } from '../src/protocol/webviewMessages';
import { clear, el } from './dom';
import { loraTag, loraTagAt, parseWeightInput, setLoraWeight, startWeight, type LoraTagSpan } from './networkTags';

export { appendToPrompt } from './networkTags';

export type PromptField = 'prompt' | 'negativePrompt';

/** The prompt's toolkit text area as far as the picker uses it. */
export interface PromptElement extends HTMLElement {
  value: string;
  /** The inner `<textarea>`, there once the element is connected. */
  readonly control?: HTMLTextAreaElement;
}

export interface PickerActions {
  /** Appends text to a prompt field. */
  add(field: PromptField, text: string): void;
  /** Replaces the prompt's text (a tag's weight set) and puts the caret at `caret`. */
  replacePrompt(text: string, caret: number): void;
}

export class NetworksPicker {
  readonly root = el('div', { class: 'row networks', hidden: true });
  private readonly loras = el('select', { 'aria-label': 'LoRA' }) as HTMLSelectElement;
  private readonly weight = el('input', {
    type: 'number', step: '0.05', value: '1', 'aria-label': 'LoRA weight', title: 'The weight written into <lora:name:weight>',
  }) as HTMLInputElement;
  private readonly loraButton: HTMLElement;
  private readonly embeddings = el('select', { 'aria-label': 'Embedding' }) as HTMLSelectElement;
  private readonly status = el('span', { class: 'networks-status', role: 'status', 'aria-live': 'polite' });
  private preferred: Readonly<Record<string, number>> | undefined;
  /** The `<lora:…>` tag the prompt's caret was last in, when its LoRA is listed. */
  private caretTag: LoraTagSpan | undefined;
  private field: PromptElement | undefined;

  constructor(private readonly actions: PickerActions) {
    const button = (label: string, onClick: () => void): HTMLElement => {
      const b = el('vscode-button', { appearance: 'secondary' }, label);
      b.addEventListener('click', onClick);
      return b;
    };
    this.loraButton = button('Add to prompt', () => this.applyLora());
    this.loras.addEventListener('change', () => {
      this.weight.value = String(this.caretTag?.name === this.loras.value && this.caretTag.weight !== undefined
        ? this.caretTag.weight : startWeight(this.loras.value, this.preferred));
      this.showMode();
    });
    this.weight.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter') return;
      event.preventDefault();
      this.applyLora();
    });
    this.root.append(
      el('label', { class: 'field' }, 'LoRA', this.loras), el('label', { class: 'field weight' }, 'Weight', this.weight), this.loraButton,
      el('label', { class: 'field' }, 'Embedding', this.embeddings),
      button('Add to prompt', () => { if (this.embeddings.value) this.actions.add('prompt', this.embeddings.value); }),
      button('Add to negative', () => { if (this.embeddings.value) this.actions.add('negativePrompt', this.embeddings.value); }),
      this.status,
    );
  }

  /** Follows the prompt field's caret (a click, a key, typing) to offer the weight of the tag it is in. */
  attach(field: PromptElement): void {
    this.field = field;
    for (const type of ['keyup', 'click', 'input', 'focus']) field.addEventListener(type, () => this.followCaret());
  }

  /** Shows the folders' lists (hidden when neither folder is set); the chosen LoRA and embedding stay when still listed. */
  update(networks: PanelNetworks | undefined): void {
    this.preferred = networks?.loraWeights;
    const fill = (select: HTMLSelectElement, names: readonly string[], none: string): void => {
      const before = select.value;
      clear(select);
      if (names.length === 0) select.append(el('option', { value: '' }, none));
      for (const name of names) select.append(el('option', { value: name }, name));
      if (names.includes(before)) select.value = before;
    };
    const lorasBefore = this.loras.value;
    fill(this.loras, networks?.loras ?? [], '(none in the LoRA folder)');
    fill(this.embeddings, networks?.embeddings ?? [], '(none in the embeddings folder)');
    if (this.loras.value !== lorasBefore || this.caretTag === undefined) this.weight.value = String(startWeight(this.loras.value, this.preferred));
    this.root.hidden = networks === undefined;
    this.followCaret();
  }

  private followCaret(): void {
    const control = this.field?.control;
    const listed = (name: string): boolean => [...this.loras.options].some((o) => o.value === name && name !== '');
    const tag = control && control.selectionStart === control.selectionEnd ? loraTagAt(control.value, control.selectionStart) : undefined;
    const was = this.caretTag;
    this.caretTag = tag !== undefined && listed(tag.name) ? tag : undefined;
    if (this.caretTag !== undefined && (was?.start !== this.caretTag.start || was.name !== this.caretTag.name || was.weight !== this.caretTag.weight)) {
      this.loras.value = this.caretTag.name;
      if (this.caretTag.weight !== undefined) this.weight.value = String(this.caretTag.weight);
    }
    this.showMode();
  }

  /** "Set weight" while the chosen LoRA is the tag at the caret, else "Add to prompt". */
  private showMode(): void {
    const setting = this.caretTag !== undefined && this.caretTag.name === this.loras.value;
    this.loraButton.textContent = setting ? 'Set weight' : 'Add to prompt';
    this.loraButton.setAttribute('aria-label', setting ? `Set the weight of <lora:${this.loras.value}> at the caret` : 'Add the LoRA to the prompt');
  }

  private applyLora(): void {
    const name = this.loras.value;
    if (name === '') return;
    const weight = parseWeightInput(this.weight.value);
    if (weight === undefined) {
      this.status.textContent = 'The LoRA weight must be a number, such as 0.8.';
      this.weight.focus();
      return;
    }
    const text = this.field?.value;
    const tag = this.caretTag;
    // the tag must still be where the caret left it (the prompt may have been replaced since)
    const current = tag !== undefined && text !== undefined ? loraTagAt(text, tag.start + 1) : undefined;
    if (tag !== undefined && tag.name === name && current?.name === name && text !== undefined) {
      const out = setLoraWeight(text, current, weight);
      this.actions.replacePrompt(out.text, out.end);
      this.caretTag = loraTagAt(out.text, out.end);
      this.status.textContent = `Set ${out.text.slice(current.start, out.end)}.`;
    } else {
      const tagText = loraTag(name, weight);
      this.actions.add('prompt', tagText);
      this.status.textContent = `Added ${tagText} to the prompt.`;
    }
  }
}
