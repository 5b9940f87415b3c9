/**
 * The mask editor: a canvas over the input image where the user paints what to repaint with the pointer (mouse, pen
 * or touch drag), with a brush size, an eraser, Clear and Invert; and A1111's settings for the mask (Mask blur, Mask
 * mode, Masked content, Inpaint area, Only masked padding). The mask is kept at the input image's pixel size
 * (webview/maskPaint.ts) and leaves as run lengths (src/common/maskRuns.ts). Self-contained: its canvas goes into
 * a box laid exactly over the shown input image (`attach`), its controls are `root`; the panel tells it the input
 * image's size and asks it for `value()` when it builds a generate message.
 */
import { encodeMaskRuns, type MaskRuns } from '../src/common/maskRuns';
import { el } from './dom';
import { MaskPaint, toImagePoint } from './maskPaint';

/** What the panel sends for inpainting (PanelParams.inpaint). */
export interface MaskEditorValue {
  readonly mask: MaskRuns;
  readonly maskBlur: number;
  readonly maskMode: 'masked' | 'unmasked';
  readonly maskedContent: 'fill' | 'original' | 'latent-noise' | 'latent-nothing';
  readonly inpaintArea: 'whole' | 'masked';
  readonly inpaintPadding: number;
}

interface ValueElement extends HTMLElement {
  value: string;
}

const MASK_MODES: ReadonlyArray<[MaskEditorValue['maskMode'], string]> = [['masked', 'Inpaint masked'], ['unmasked', 'Inpaint not masked']];
const CONTENTS: ReadonlyArray<[MaskEditorValue['maskedContent'], string]> = [
  ['original', 'original'], ['fill', 'fill'], ['latent-noise', 'latent noise'], ['latent-nothing', 'latent nothing'],
];
const AREAS: ReadonlyArray<[MaskEditorValue['inpaintArea'], string]> = [['whole', 'Whole picture'], ['masked', 'Only masked']];

/** The overlay colour of painted pixels (RGBA). */
const PAINT_RGBA = [255, 64, 64, 150] as const;

export class MaskEditor {
  readonly root: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  /** The input image the mask belongs to (a new one starts an empty mask). */
  private imageKey = '';
  private paint: MaskPaint | null = null;
  private readonly brush: HTMLInputElement;
  private readonly brushLabel: HTMLElement;
  private readonly eraser: HTMLInputElement;
  private readonly blur: HTMLInputElement;
  private readonly padding: HTMLInputElement;
  private readonly mode: ValueElement;
  private readonly content: ValueElement;
  private readonly area: ValueElement;
  private last: { x: number; y: number } | null = null;
  private pending = false;

  constructor(private readonly onChange: () => void = () => undefined) {
    this.canvas = el('canvas', { class: 'mask-canvas', 'aria-label': 'Mask: drag to paint the part to repaint', hidden: true }) as HTMLCanvasElement;
    this.brush = el('input', { type: 'range', min: '1', max: '256', value: '32', 'aria-label': 'Brush size' }) as HTMLInputElement;
    this.brushLabel = el('span', { class: 'mask-brush-size' }, '32 px');
    this.brush.addEventListener('input', () => { this.brushLabel.textContent = `${this.brush.value} px`; });
    this.eraser = el('input', { type: 'checkbox', 'aria-label': 'Eraser' }) as HTMLInputElement;
    const clearButton = el('button', { type: 'button', class: 'mask-clear' }, 'Clear');
    const invertButton = el('button', { type: 'button', class: 'mask-invert' }, 'Invert');
    clearButton.addEventListener('click', () => this.edit((p) => p.clear()));
    invertButton.addEventListener('click', () => this.edit((p) => p.invert()));
    const tools = el('div', { class: 'mask-tools' },
      el('label', {}, 'Brush ', this.brush, ' ', this.brushLabel), el('label', {}, this.eraser, ' Eraser'), clearButton, invertButton);
    this.blur = el('input', { type: 'number', min: '0', max: '64', step: '1', value: '4', 'aria-label': 'Mask blur' }) as HTMLInputElement;
    this.padding = el('input', { type: 'number', min: '0', max: '256', step: '1', value: '32', 'aria-label': 'Only masked padding, pixels' }) as HTMLInputElement;
    this.mode = select('Mask mode', MASK_MODES);
    this.content = select('Masked content', CONTENTS);
    this.area = select('Inpaint area', AREAS);
    for (const c of [this.blur, this.padding, this.mode, this.content, this.area]) c.addEventListener('change', () => this.onChange());
    const settings = el('div', { class: 'mask-settings' },
      el('label', {}, 'Mask blur ', this.blur), el('label', {}, 'Mask mode ', this.mode), el('label', {}, 'Masked content ', this.content),
      el('label', {}, 'Inpaint area ', this.area), el('label', {}, 'Only masked padding ', this.padding));
    const hint = el('div', { class: 'mask-hint' },
      'Inpainting: paint over the input image the part to repaint (drag with the mouse, pen or finger). Nothing painted: plain image to image.');
    this.root = el('section', { class: 'mask-editor', 'aria-label': 'Mask (inpainting)', hidden: true }, tools, settings, hint);
    this.canvas.addEventListener('pointerdown', (e) => this.pointerDown(e));
    this.canvas.addEventListener('pointermove', (e) => this.pointerMove(e));
    for (const type of ['pointerup', 'pointercancel', 'lostpointercapture'] as const) this.canvas.addEventListener(type, () => { this.last = null; });
  }

  /** Puts the canvas into `host`, a positioned box exactly over the shown input image. */
  attach(host: HTMLElement): void {
    host.append(this.canvas);
  }

  /** Shows the editor for an input image of width×height named by `key`; another image starts an empty mask. */
  setImage(key: string, width: number, height: number): void {
    if (this.paint === null || this.imageKey !== key || this.paint.width !== width || this.paint.height !== height) {
      this.paint = new MaskPaint(width, height);
      this.imageKey = key;
    }
    this.canvas.width = width;
    this.canvas.height = height;
    this.canvas.hidden = false;
    this.root.hidden = false;
    this.redraw();
  }

  /** No input image: hidden, no mask. */
  removeImage(): void {
    this.paint = null;
    this.imageKey = '';
    this.canvas.hidden = true;
    this.root.hidden = true;
  }

  /** Whether anything is painted. */
  painted(): boolean {
    return this.paint?.painted() ?? false;
  }

  /** The inpainting settings with the mask, or undefined when nothing is painted (plain image to image). */
  value(): MaskEditorValue | undefined {
    if (this.paint === null || !this.paint.painted()) return undefined;
    return {
      mask: encodeMaskRuns(this.paint.data, this.paint.width, this.paint.height),
      maskBlur: clampInt(this.blur.value, 0, 64, 4),
      maskMode: this.mode.value as MaskEditorValue['maskMode'],
      maskedContent: this.content.value as MaskEditorValue['maskedContent'],
      inpaintArea: this.area.value as MaskEditorValue['inpaintArea'],
      inpaintPadding: clampInt(this.padding.value, 0, 256, 32),
    };
  }

  /** Sets the settings (Reuse Parameters of an inpainted picture); the mask itself is not in an infotext. */
  setSettings(s: Omit<MaskEditorValue, 'mask'>): void {
    this.blur.value = String(s.maskBlur);
    this.mode.value = s.maskMode;
    this.content.value = s.maskedContent;
    this.area.value = s.inpaintArea;
    this.padding.value = String(s.inpaintPadding);
  }

  private edit(fn: (p: MaskPaint) => void): void {
    if (this.paint === null) return;
    fn(this.paint);
    this.redraw();
    this.onChange();
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const rect = this.canvas.getBoundingClientRect();
    return toImagePoint(e.clientX - rect.left, e.clientY - rect.top, rect.width, rect.height, this.canvas.width, this.canvas.height);
  }

  /** The brush diameter in image pixels (the slider is in displayed pixels). */
  private diameter(): number {
    const rect = this.canvas.getBoundingClientRect();
    return Number(this.brush.value) * (this.canvas.width / Math.max(1, rect.width));
  }

  private pointerDown(e: PointerEvent): void {
    if (this.paint === null || e.button !== 0) return;
    e.preventDefault();
    this.canvas.setPointerCapture?.(e.pointerId);
    this.last = this.point(e);
    this.paint.stroke(this.last.x, this.last.y, this.last.x, this.last.y, this.diameter(), this.eraser.checked);
    this.scheduleRedraw();
  }

  private pointerMove(e: PointerEvent): void {
    if (this.paint === null || this.last === null) return;
    const p = this.point(e);
    this.paint.stroke(this.last.x, this.last.y, p.x, p.y, this.diameter(), this.eraser.checked);
    this.last = p;
    this.scheduleRedraw();
  }

  private scheduleRedraw(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.redraw();
      this.onChange();
    });
  }

  /** The painted pixels in the overlay colour, the rest transparent. */
  private redraw(): void {
    const ctx = this.canvas.getContext('2d');
    if (ctx === null || this.paint === null) return;
    const { width, height, data } = this.paint;
    const pixels = ctx.createImageData(width, height);
    for (let i = 0; i < data.length; i++) {
      if (data[i] === 0) continue;
      pixels.data.set(PAINT_RGBA, i * 4);
    }
    ctx.putImageData(pixels, 0, 0);
  }
}

function select(label: string, options: ReadonlyArray<readonly [string, string]>): ValueElement {
  const s = el('select', { 'aria-label': label }, ...options.map(([value, text]) => el('option', { value }, text))) as ValueElement;
  s.value = options[0][0];
  return s;
}

function clampInt(raw: string, min: number, max: number, fallback: number): number {
  const n = Math.round(Number(raw));
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
}
