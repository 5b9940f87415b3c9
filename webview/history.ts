/** The history strip: this session's images as thumbnails; clicking one restores its parameters. */
import type { ImageResult, PanelParams } from '../src/protocol/webviewMessages';
import { clear, el } from './dom';
import type { HistoryEntry } from './vscodeApi';

const MAX_ENTRIES = 60;
const THUMB_SIDE = 96;

export class HistoryView {
  readonly root: HTMLElement;
  private readonly strip: HTMLElement;
  private entries: HistoryEntry[] = [];

  /** onPick: an entry was clicked (its parameters, and its image id for the host to show the image again). */
  constructor(private readonly onPick: (params: PanelParams, imageId: string) => void, private readonly onChange: () => void) {
    this.strip = el('div', { class: 'history-strip', role: 'list' });
    this.root = el('section', { class: 'history', id: 'history', 'aria-label': 'History', hidden: true }, el('h2', {}, 'History'), this.strip);
  }

  get all(): readonly HistoryEntry[] {
    return this.entries;
  }

  restore(entries: readonly HistoryEntry[]): void {
    this.entries = entries.slice(-MAX_ENTRIES);
    this.render();
  }

  /**
   * Adds an image at once (so a reload right after it arrives keeps the entry) and draws its thumbnail once the
   * image has loaded; until then, and when a restored entry has none, the entry shows its seed.
   */
  add(result: ImageResult): void {
    if (this.entries.some((e) => e.imageId === result.imageId)) return;
    this.entries = [...this.entries, { imageId: result.imageId, thumb: '', seed: result.seed, params: result.params }].slice(-MAX_ENTRIES);
    this.render();
    this.onChange();
    this.drawThumb(result);
  }

  /** Draws missing thumbnails from the images still at hand (restored results). */
  fillThumbs(results: readonly ImageResult[]): void {
    for (const r of results) if (this.entries.some((e) => e.imageId === r.imageId && !e.thumb)) this.drawThumb(r);
  }

  private drawThumb(result: ImageResult): void {
    const img = new Image();
    img.onload = () => {
      const scale = Math.min(1, THUMB_SIDE / Math.max(img.width, img.height));
      const canvas = document.createElement('canvas');
      canvas.width = Math.max(1, Math.round(img.width * scale));
      canvas.height = Math.max(1, Math.round(img.height * scale));
      canvas.getContext('2d')?.drawImage(img, 0, 0, canvas.width, canvas.height);
      const thumb = canvas.toDataURL('image/png');
      this.entries = this.entries.map((e) => (e.imageId === result.imageId ? { ...e, thumb } : e));
      this.render();
      this.onChange();
    };
    img.src = result.src;
  }

  private render(): void {
    clear(this.strip);
    this.root.hidden = this.entries.length === 0;
    for (const entry of [...this.entries].reverse()) {
      const label = `Restore the parameters of “${entry.params.prompt || 'image'}”, seed ${entry.seed}, and show the image`;
      const button = el('button', { class: 'history-item', type: 'button', 'aria-label': label, title: label },
        entry.thumb ? el('img', { src: entry.thumb, alt: '' }) : el('span', { class: 'history-placeholder' }, String(entry.seed)));
      button.addEventListener('click', () => this.onPick(entry.params, entry.imageId));
      this.strip.append(el('div', { role: 'listitem' }, button));
    }
  }
}
