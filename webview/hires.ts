/**
 * The form's collapsible "Hires. fix" section (A1111's): Enable, Upscaler (the latent modes and Lanczos), Upscale
 * by, Hires steps (0 = the first pass's), Denoising strength (slider + number), and the size it will make.
 */
import type { HiresParams } from '../src/protocol/webviewMessages';
import { HIRES_DEFAULTS, HIRES_LIMITS, HIRES_UPSCALERS, hiresSize, isHiresUpscaler } from '../src/common/hires';
import { el } from './dom';

interface ValueElement extends HTMLElement { value: string }
interface CheckElement extends HTMLElement { checked: boolean }

export class HiresView {
  readonly root: HTMLElement;
  readonly enable: CheckElement;
  readonly upscaler: ValueElement;
  readonly scale: ValueElement;
  readonly steps: ValueElement;
  readonly strength: ValueElement;
  readonly error: HTMLElement;
  private readonly slider: HTMLInputElement;
  private readonly sizeNote: HTMLElement;
  private readonly details: HTMLDetailsElement;

  constructor(onChange: () => void, private readonly baseSize: () => { width: number; height: number }) {
    this.enable = el('vscode-checkbox', { id: 'hiresEnable', 'aria-label': 'Enable hires. fix' }, 'Enable') as CheckElement;
    this.upscaler = el('vscode-dropdown', { id: 'hiresUpscaler', 'aria-label': 'Hires upscaler' }) as ValueElement;
    for (const name of HIRES_UPSCALERS) this.upscaler.append(el('vscode-option', { value: name }, name));
    this.scale = el('vscode-text-field', { id: 'hiresScale', inputmode: 'decimal', 'aria-label': 'Upscale by', size: '5' }, 'Upscale by') as ValueElement;
    this.steps = el('vscode-text-field', { id: 'hiresSteps', inputmode: 'numeric', 'aria-label': 'Hires steps', size: '5',
      title: '0: as many as the first pass' }, 'Hires steps') as ValueElement;
    this.strength = el('vscode-text-field', { id: 'hiresStrength', inputmode: 'decimal', 'aria-label': 'Hires denoising strength', size: '5' }, 'Denoising strength') as ValueElement;
    this.slider = el('input', { type: 'range', min: '0.01', max: '1', step: '0.01', id: 'hiresStrengthSlider', 'aria-label': 'Hires denoising strength slider' }) as HTMLInputElement;
    this.error = el('div', { class: 'field-error', id: 'hires-error', role: 'alert' });
    this.sizeNote = el('span', { class: 'hires-size', id: 'hiresSize', 'aria-live': 'polite' });
    this.details = el('details', { class: 'hires', id: 'hires' },
      el('summary', {}, 'Hires. fix'),
      el('div', { class: 'row' }, el('div', { class: 'field inline' }, this.enable), el('div', { class: 'field' }, el('label', { for: 'hiresUpscaler' }, 'Upscaler'), this.upscaler)),
      el('div', { class: 'row' }, el('div', { class: 'field' }, this.scale), el('div', { class: 'field' }, this.steps),
        el('div', { class: 'field' }, this.strength, this.slider)),
      el('div', { class: 'row' }, this.sizeNote),
      this.error) as HTMLDetailsElement;
    this.root = this.details;
    this.setParams(null);
    const changed = (): void => { this.error.textContent = ''; this.showSize(); onChange(); };
    for (const control of [this.enable, this.upscaler, this.scale, this.steps, this.strength]) {
      control.addEventListener('change', changed);
      control.addEventListener('input', changed);
    }
    this.slider.addEventListener('input', () => { this.strength.value = this.slider.value; changed(); });
  }

  /** The hires. fix settings (null when not enabled), or the problem with them. */
  read(): { hires: HiresParams | null } | { problem: string } {
    if (!this.enable.checked) return { hires: null };
    const scale = Number(this.scale.value.trim());
    const steps = Number(this.steps.value.trim());
    const strength = Number(this.strength.value.trim());
    const upscaler = this.upscaler.value;
    if (!Number.isFinite(scale) || scale <= 1 || scale > HIRES_LIMITS.scaleMax) {
      return { problem: `Upscale by: expected a number above 1 and at most ${HIRES_LIMITS.scaleMax}, got “${this.scale.value.trim()}”.` };
    }
    if (!/^\d+$/.test(this.steps.value.trim()) || steps > HIRES_LIMITS.stepsMax) {
      return { problem: `Hires steps: expected a whole number from 0 to ${HIRES_LIMITS.stepsMax}, got “${this.steps.value.trim()}”.` };
    }
    if (!Number.isFinite(strength) || strength <= 0 || strength > 1 || this.strength.value.trim() === '') {
      return { problem: `Denoising strength: expected a number above 0 and at most 1, got “${this.strength.value.trim()}”.` };
    }
    if (!isHiresUpscaler(upscaler)) return { problem: `Upscaler: expected one of ${HIRES_UPSCALERS.join(', ')}.` };
    return { hires: { scale, steps, strength, upscaler } };
  }

  setParams(hires: HiresParams | null | undefined): void {
    const h = hires ?? HIRES_DEFAULTS;
    this.enable.checked = hires !== null && hires !== undefined;
    this.upscaler.value = h.upscaler;
    this.scale.value = String(h.scale);
    this.steps.value = String(h.steps);
    this.strength.value = String(h.strength);
    this.slider.value = String(h.strength);
    if (this.enable.checked) this.details.open = true;
    this.showSize();
  }

  showError(message: string): void {
    this.error.textContent = message;
    this.details.open = true;
  }

  /** "512×512 → 1024×1024" for the form's size and the upscale, or why it cannot be made. */
  showSize(): void {
    const scale = Number(this.scale.value.trim());
    const { width, height } = this.baseSize();
    if (!this.enable.checked || !Number.isFinite(scale) || scale <= 1 || !(width > 0) || !(height > 0)) {
      this.sizeNote.textContent = this.enable.checked ? '' : 'Off: images are made at the form\'s size.';
      return;
    }
    const size = hiresSize(width, height, scale);
    this.sizeNote.textContent = `${width}×${height} → ${size.width}×${size.height}`;
  }
}
