/**
 * The LoRAs and textual-inversion embeddings of the settings' folders (PanelSetup.networks) as two pickers under
 * the prompt fields: "Add" puts `<lora:name:1>` (A1111's syntax; the weight can be edited in the prompt) at the end
 * of the prompt, and an embedding's name into the prompt or the negative prompt (where A1111 users put
 * EasyNegative-style embeddings). Hidden when no folder is set.
 */
import type { PanelSetup } from '../src/protocol/webviewMessages';
import { clear, el } from './dom';
import { loraTag } from './networkTags';

export { appendToPrompt } from './networkTags';

export type PromptField = 'prompt' | 'negativePrompt';

export class NetworksPicker {
  readonly root = el('div', { class: 'row networks', hidden: true });
  private readonly loras = el('select', { 'aria-label': 'LoRA' }) as HTMLSelectElement;
  private readonly embeddings = el('select', { 'aria-label': 'Embedding' }) as HTMLSelectElement;
  private readonly loraField = el('label', { class: 'field' }, 'LoRA', this.loras);
  private readonly embeddingField = el('label', { class: 'field' }, 'Embedding', this.embeddings);

  constructor(private readonly add: (field: PromptField, text: string) => void) {
    const button = (label: string, onClick: () => void): HTMLElement => {
      const b = el('vscode-button', { appearance: 'secondary' }, label);
      b.addEventListener('click', onClick);
      return b;
    };
    this.root.append(
      this.loraField, button('Add to prompt', () => { if (this.loras.value) this.add('prompt', loraTag(this.loras.value)); }),
      this.embeddingField,
      button('Add to prompt', () => { if (this.embeddings.value) this.add('prompt', this.embeddings.value); }),
      button('Add to negative', () => { if (this.embeddings.value) this.add('negativePrompt', this.embeddings.value); }),
    );
  }

  /** Shows the setup's lists (hidden when neither folder is set). */
  update(networks: PanelSetup['networks']): void {
    const fill = (select: HTMLSelectElement, names: readonly string[], none: string): void => {
      clear(select);
      if (names.length === 0) select.append(el('option', { value: '' }, none));
      for (const name of names) select.append(el('option', { value: name }, name));
    };
    fill(this.loras, networks?.loras ?? [], '(none in the LoRA folder)');
    fill(this.embeddings, networks?.embeddings ?? [], '(none in the embeddings folder)');
    this.root.hidden = networks === undefined;
  }
}
