/**
 * The live preview: the engine's RGB preview of the predicted image after every denoising step, drawn into a canvas
 * through ImageData, with a progress bar and "step k/N · it/s · ETA" beneath. The step line is not a live region
 * (a screen reader would read every step); the bar carries the numbers, and `announce` gets start, quarters and end. The canvas keeps the last draw's cost in
 * `data-render-ms` (and the largest in `data-render-max-ms`) and counts draws in `data-draws`.
 */
import { el } from './dom';
import { toBytes } from './messages';
import { formatProgress, type ProgressText } from './progressText';

export class PreviewView {
  readonly root: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly status: HTMLElement;
  private readonly bar: HTMLProgressElement;
  /** Which job the preview shows ("Generating “a red fox”"): with a queue, the step line alone does not say. */
  private readonly title: HTMLElement;
  private lastQuarter = -1;
  private draws = 0;
  private maxMs = 0;

  constructor(private readonly announce: (text: string) => void = () => undefined) {
    this.canvas = el('canvas', { id: 'preview-canvas', width: '64', height: '64', role: 'img', 'aria-label': 'Preview of the image being generated' }) as HTMLCanvasElement;
    this.status = el('div', { id: 'preview-status', class: 'status', 'aria-live': 'off' });
    this.bar = el('progress', { id: 'preview-busy', 'aria-label': 'Generation progress', hidden: true }) as HTMLProgressElement;
    this.title = el('div', { class: 'preview-title', id: 'preview-title' });
    this.root = el('section', { class: 'preview', id: 'preview', 'aria-label': 'Preview', hidden: true }, this.title, this.canvas, el('div', { class: 'status-line' }, this.bar, this.status));
  }

  /** Names the job being shown. */
  setTitle(text: string): void {
    this.title.textContent = text;
  }

  /** Shows a job starting or waiting for the engine. */
  start(text: string): void {
    this.root.hidden = false;
    this.bar.hidden = false;
    this.bar.removeAttribute('value'); // indeterminate until the first step
    this.bar.removeAttribute('aria-valuetext');
    this.status.textContent = text;
    this.lastQuarter = -1;
    this.announce(text);
  }

  /** Draws one preview (RGB, 3 bytes a pixel) and the progress line. */
  update(progress: ProgressText, preview: { width: number; height: number; rgb: unknown } | undefined): void {
    this.root.hidden = false;
    this.canvas.hidden = false;
    this.bar.hidden = false;
    const text = formatProgress(progress);
    this.status.textContent = text;
    const done = progress.imageIndex * progress.totalSteps + progress.step;
    const total = Math.max(1, progress.imageCount * progress.totalSteps);
    this.bar.max = total;
    this.bar.value = done;
    this.bar.setAttribute('aria-valuetext', text);
    const quarter = Math.floor((4 * done) / total);
    if (quarter !== this.lastQuarter && quarter < 4) {
      if (this.lastQuarter !== -1 || quarter > 0) this.announce(`${quarter * 25}% done`);
      this.lastQuarter = quarter;
    }
    if (!preview) return;
    const t0 = performance.now();
    const rgb = toBytes(preview.rgb);
    const { width, height } = preview;
    if (!rgb || rgb.length !== width * height * 3 || width < 1 || height < 1) return;
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    const context = this.canvas.getContext('2d');
    if (!context) return;
    const image = context.createImageData(width, height);
    const rgba = image.data;
    for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
      rgba[j] = rgb[i];
      rgba[j + 1] = rgb[i + 1];
      rgba[j + 2] = rgb[i + 2];
      rgba[j + 3] = 255;
    }
    context.putImageData(image, 0, 0);
    const ms = performance.now() - t0;
    this.draws++;
    this.maxMs = Math.max(this.maxMs, ms);
    this.canvas.dataset.renderMs = ms.toFixed(3);
    this.canvas.dataset.renderMaxMs = this.maxMs.toFixed(3);
    this.canvas.dataset.draws = String(this.draws);
    this.canvas.dataset.step = String(progress.step);
  }

  /** A final image arrived: it replaces the preview until the next image's steps. */
  hideCanvas(): void {
    this.canvas.hidden = true;
  }

  /** The job ended: keep the last preview, say how. */
  finish(text: string): void {
    this.bar.hidden = true;
    this.status.textContent = text;
    this.announce(text);
  }
}
