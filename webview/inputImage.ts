/**
 * Image to image in the panel: the input image (a preview with its size, Choose…, Remove), its denoising strength
 * (a slider and a number kept in step) and A1111's resize mode. The pixels stay in the host: a file is named by
 * path or URI, a pasted or dropped picture goes to the host as bytes, and the host answers with `inputImage`
 * (InputImageInfo: an id, a preview, notes). A self-contained piece: a mask editor puts its canvas into
 * `overlayHost`, a box exactly over the shown preview.
 */
import type { FromWebview, InputImageInfo, PanelParams, ResizeModeChoice } from '../src/protocol/webviewMessages';
import { clear, el } from './dom';
import { parseStrength, RESIZE_MODE_LABELS } from './inputImageValues';

/** The largest picture posted to the host (src/generation/inputImage.ts INPUT_IMAGE_MAX_BYTES, checked there again). */
const MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_STRENGTH = 0.75;

/** What survives hiding and reloading (the preview included; the host may have forgotten the pixels by then). */
export interface InputImageState {
  readonly image: InputImageInfo | null;
  readonly strength: number;
  readonly resizeMode: ResizeModeChoice;
}

export interface InputImageCallbacks {
  readonly send: (message: FromWebview) => void;
  readonly onChange: () => void;
  /** A one-line message for the panel's notice (e.g. a dropped file that is too large). */
  readonly onNotice: (level: 'error' | 'info', message: string) => void;
}

interface ValueElement extends HTMLElement {
  value: string;
}

export class InputImageView {
  readonly root: HTMLElement;
  /** A positioned box over the preview picture, for an overlay (a mask editor's canvas). Empty until one is added. */
  readonly overlayHost: HTMLElement;
  private readonly picture: HTMLImageElement;
  private readonly frame: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly settings: HTMLElement;
  private readonly slider: HTMLInputElement;
  private readonly number: ValueElement;
  private readonly resize: ValueElement;
  private readonly error: HTMLElement;
  private readonly removeButton: HTMLElement;
  private image: InputImageInfo | null = null;

  constructor(private readonly callbacks: InputImageCallbacks) {
    this.picture = el('img', { id: 'inputImagePreview', alt: '' }) as HTMLImageElement;
    this.overlayHost = el('div', { class: 'input-overlay', id: 'inputImageOverlay' });
    this.frame = el('div', { class: 'input-frame', hidden: true }, this.picture, this.overlayHost);
    this.caption = el('div', { class: 'input-caption', id: 'inputImageCaption', 'aria-live': 'polite' });
    const choose = el('vscode-button', { id: 'chooseInputImage', appearance: 'secondary', 'aria-label': 'Choose an input image' }, 'Choose…');
    choose.addEventListener('click', () => this.callbacks.send({ type: 'pickInputImage' }));
    this.removeButton = el('vscode-button', { id: 'removeInputImage', appearance: 'secondary', 'aria-label': 'Remove the input image', hidden: true }, 'Remove');
    this.removeButton.addEventListener('click', () => { this.set(null); this.callbacks.onChange(); });

    this.slider = el('input', { type: 'range', id: 'strengthSlider', min: '0', max: '1', step: '0.01', 'aria-label': 'Denoising strength (slider)' }) as HTMLInputElement;
    this.number = el('vscode-text-field', { id: 'strength', inputmode: 'decimal', size: '5', 'aria-label': 'Denoising strength', 'aria-describedby': 'strength-error' }, 'Denoising strength') as ValueElement;
    this.error = el('div', { class: 'field-error', id: 'strength-error', role: 'alert' });
    this.slider.addEventListener('input', () => { this.number.value = this.slider.value; this.showError(''); this.callbacks.onChange(); });
    this.number.addEventListener('input', () => {
      const parsed = parseStrength(this.number.value);
      if (typeof parsed === 'number') { this.slider.value = String(parsed); this.showError(''); }
      this.callbacks.onChange();
    });
    this.resize = el('vscode-dropdown', { id: 'resizeMode', 'aria-label': 'Resize mode', title: 'How the input image meets the width and height when its size differs (A1111\'s "Resize mode")' }) as ValueElement;
    for (const [value, label] of RESIZE_MODE_LABELS) this.resize.append(el('vscode-option', { value }, label));
    this.resize.addEventListener('change', () => this.callbacks.onChange());
    this.settings = el('div', { class: 'row input-settings', hidden: true },
      el('div', { class: 'field' }, this.number, this.slider, this.error),
      el('div', { class: 'field' }, el('label', { for: 'resizeMode' }, 'Resize mode'), this.resize));
    const hint = el('div', { class: 'input-hint' },
      'Image to image: choose a PNG or JPEG, paste one (Ctrl+V), drop one here (Shift while dragging from VS Code), or use “Use as Input” on a result. '
      + 'The input image is not stored in the PNG it makes: its parameters bring back the strength only.');
    this.root = el('section', { class: 'input-image', id: 'inputImage', 'aria-label': 'Input image (image to image)' },
      el('div', { class: 'input-head' }, el('h2', {}, 'Input image'), choose, this.removeButton),
      this.frame, this.caption, this.settings, hint);
    this.setStrength(DEFAULT_STRENGTH);
    this.resize.value = 'just';
    this.render();
  }

  get current(): InputImageInfo | null {
    return this.image;
  }

  /** Shows the host's input image (null: none). */
  set(image: InputImageInfo | null): void {
    this.image = image;
    this.render();
  }

  /** The strength and resize mode, checked; a problem is shown beside the field. */
  read(): { strength: number; resizeMode: ResizeModeChoice } | { problem: string } {
    const parsed = parseStrength(this.number.value);
    if (typeof parsed === 'string') {
      this.showError(parsed);
      return { problem: parsed };
    }
    this.showError('');
    return { strength: parsed, resizeMode: this.resizeMode() };
  }

  /** Takes the strength and resize mode of parameters (Reuse Parameters, a history entry), when they have them. */
  setParams(params: PanelParams): void {
    if (params.strength !== undefined) this.setStrength(params.strength);
    if (params.resizeMode !== undefined) this.resize.value = params.resizeMode;
  }

  snapshot(): InputImageState {
    const parsed = parseStrength(this.number.value);
    return { image: this.image, strength: typeof parsed === 'number' ? parsed : DEFAULT_STRENGTH, resizeMode: this.resizeMode() };
  }

  restore(state: InputImageState | undefined): void {
    if (!state) return;
    this.setStrength(state.strength);
    this.resize.value = state.resizeMode;
    this.set(state.image);
  }

  focus(): void {
    this.number.focus();
  }

  showError(message: string): void {
    this.error.textContent = message;
    if (message) this.number.setAttribute('aria-invalid', 'true');
    else this.number.removeAttribute('aria-invalid');
  }

  /** Pasted pictures (a file in the clipboard) become the input image; pasting text into a field is left alone. */
  handlePaste(event: ClipboardEvent): void {
    const file = Array.from(event.clipboardData?.files ?? []).find((f) => f.type.startsWith('image/'));
    if (!file) return;
    event.preventDefault();
    void this.sendFile(file, file.name || 'pasted image');
  }

  /** Lets pictures be dropped onto the panel: files as bytes, VS Code's Explorer entries as URIs for the host to read. */
  attachDrop(target: HTMLElement): void {
    target.addEventListener('dragover', (event) => {
      if (event.dataTransfer) { event.preventDefault(); event.dataTransfer.dropEffect = 'copy'; }
    });
    target.addEventListener('drop', (event) => {
      const transfer = event.dataTransfer;
      if (!transfer) return;
      event.preventDefault();
      const file = transfer.files[0];
      if (file) { void this.sendFile(file, file.name || 'dropped image'); return; }
      const uri = (transfer.getData('text/uri-list') || transfer.getData('text/plain')).split(/\r?\n/).find((l) => l && !l.startsWith('#'));
      if (uri && /^(file|vscode-remote):/i.test(uri.trim())) this.callbacks.send({ type: 'inputImageUri', uri: uri.trim() });
      else this.callbacks.onNotice('error', 'Drop a PNG or JPEG file to use it as the input image.');
    });
  }

  private async sendFile(file: File, name: string): Promise<void> {
    if (file.size > MAX_BYTES) {
      this.callbacks.onNotice('error', `${name}: ${Math.round(file.size / 1024 / 1024)} MB is over the ${MAX_BYTES / 1024 / 1024} MB limit for input images.`);
      return;
    }
    const data = new Uint8Array(await file.arrayBuffer());
    this.callbacks.send({ type: 'inputImageData', name: name.slice(0, 255), data });
  }

  private setStrength(value: number): void {
    this.number.value = String(value);
    this.slider.value = String(value);
    this.showError('');
  }

  private resizeMode(): ResizeModeChoice {
    const v = this.resize.value;
    return v === 'crop' || v === 'fill' ? v : 'just';
  }

  private render(): void {
    const image = this.image;
    this.frame.hidden = image === null;
    this.settings.hidden = image === null;
    this.removeButton.hidden = image === null;
    clear(this.caption);
    if (image === null) {
      this.picture.removeAttribute('src');
      this.caption.textContent = 'None: Generate makes an image from the prompt alone.';
      return;
    }
    this.picture.src = image.preview;
    this.picture.alt = `Input image ${image.name}, ${image.width}×${image.height}`;
    this.caption.append(el('span', { class: 'input-name' }, image.name), ` — ${image.width}×${image.height}`);
    if (image.notes.length) this.caption.append(el('span', { class: 'input-notes' }, ` (${image.notes.join('; ')})`));
  }
}
