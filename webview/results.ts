/**
 * The final images of the latest job, each with Save and Discard (while it is not saved), Insert into Markdown,
 * Use as Input (image to image), Variations (its seed with new variation seeds), Copy seed and Open file. The host keeps every image it has not saved, so after a window reload the restored
 * results still work by id; Discard tells it to forget one.
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
    this.root = el('section', { class: 'results', id: 'results', 'aria-labelledby': 'results-heading', hidden: true },
      el('h2', { id: 'results-heading' }, 'Latest images'), this.list);
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

  /** Adds an image; the first image of another job replaces the shown ones. */
  add(result: ImageResult): void {
    if (this.results.some((r) => r.imageId === result.imageId)) return;
    if (this.results.length > 0 && jobKey(this.results[0].imageId) !== jobKey(result.imageId)) this.results = [];
    this.results.push(result);
    this.render();
  }

  /** Removes an image (after Discard). */
  remove(imageId: string): void {
    this.results = this.results.filter((r) => r.imageId !== imageId);
    this.render();
  }

  markSaved(imageId: string, savedPath: string): void {
    this.results = this.results.map((r) => (r.imageId === imageId ? { ...r, savedPath } : r));
    this.render();
  }

  private discardButton(r: ImageResult): HTMLElement {
    const b = el('vscode-button', { appearance: 'secondary', 'aria-label': `Discard image (seed ${r.seed}) without saving`, title: 'Discard without saving' }, 'Discard');
    b.addEventListener('click', () => {
      this.send({ type: 'discard', imageId: r.imageId });
      this.remove(r.imageId);
    });
    return b;
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
          el('span', { class: 'saved-path' }, r.savedPath ? `Saved: ${r.savedPath}` : this.autoSave ? 'Not saved yet' : 'Not saved (auto-save is off): kept until you save or discard it'),
          el('div', { class: 'buttons' },
            r.savedPath === null ? button('Save', `Save image (seed ${r.seed})`, { type: 'save', imageId: r.imageId }) : null,
            button('Insert into Markdown', `Insert image (seed ${r.seed}) into Markdown`, { type: 'insert', imageId: r.imageId }),
            button('Use as Input', `Use image (seed ${r.seed}) as the input image`, { type: 'useAsInput', imageId: r.imageId }),
            button('Variations', `Make variations of image (seed ${r.seed})`, { type: 'variations', imageId: r.imageId }),
            button('Copy seed', `Copy seed ${r.seed}`, { type: 'copySeed', seed: r.seed }),
            button('Open file', `Open image file (seed ${r.seed})`, { type: 'open', imageId: r.imageId }),
            r.savedPath === null ? this.discardButton(r) : null))));
    }
  }
}

/** The job part of a host image id (`<host session>-<job>-<n>`): ids of one job share it, across reloads too. */
function jobKey(imageId: string): string {
  return imageId.slice(0, imageId.lastIndexOf('-'));
}
