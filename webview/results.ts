/**
 * The final images of the latest job, each with Save (when auto-save is off and it is not saved yet),
 * Insert into Markdown, Copy seed and Open file.
 */
import type { FromWebview, ImageResult } from '../src/protocol/webviewMessages';
import { clear, el } from './dom';

export class ResultsView {
  readonly root: HTMLElement;
  private readonly list: HTMLElement;
  private results: ImageResult[] = [];
  private autoSave = true;

  constructor(private readonly send: (message: FromWebview) => void) {
    this.list = el('div', { class: 'results-list' });
    this.root = el('section', { class: 'results', id: 'results', 'aria-label': 'Generated images', hidden: true }, this.list);
  }

  get images(): readonly ImageResult[] {
    return this.results;
  }

  setAutoSave(autoSave: boolean): void {
    this.autoSave = autoSave;
    this.render();
  }

  /** Replaces the shown images (a new job starts, or state is restored). */
  reset(results: readonly ImageResult[] = []): void {
    this.results = [...results];
    this.render();
  }

  add(result: ImageResult): void {
    this.results.push(result);
    this.render();
  }

  markSaved(imageId: string, savedPath: string): void {
    this.results = this.results.map((r) => (r.imageId === imageId ? { ...r, savedPath } : r));
    this.render();
  }

  private render(): void {
    clear(this.list);
    this.root.hidden = this.results.length === 0;
    for (const r of this.results) {
      const button = (label: string, aria: string, message: FromWebview): HTMLElement => {
        const b = el('vscode-button', { appearance: 'secondary', 'aria-label': aria }, label);
        b.addEventListener('click', () => this.send(message));
        return b;
      };
      const description = `${r.params.prompt || 'image'}, seed ${r.seed}`;
      this.list.append(el('figure', { class: 'result', 'data-image-id': r.imageId },
        el('img', { src: r.src, width: String(r.width), height: String(r.height), alt: description, title: r.infotext }),
        el('figcaption', {},
          el('span', { class: 'saved-path' }, r.savedPath ? `Saved: ${r.savedPath}` : this.autoSave ? 'Not saved yet' : 'Not saved (auto-save is off)'),
          el('div', { class: 'buttons' },
            r.savedPath === null ? button('Save', `Save image (seed ${r.seed})`, { type: 'save', imageId: r.imageId }) : null,
            button('Insert into Markdown', `Insert image (seed ${r.seed}) into Markdown`, { type: 'insert', imageId: r.imageId }),
            button('Copy seed', `Copy seed ${r.seed}`, { type: 'copySeed', seed: r.seed }),
            button('Open file', `Open image file (seed ${r.seed})`, { type: 'open', imageId: r.imageId })))));
    }
  }
}
