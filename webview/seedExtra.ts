/**
 * The seed row's "Extra" (A1111's name): ticking it reveals the variation seed (with its own "Random") and the
 * variation strength (slider + number). Unticked, no variation is sent. Checks its fields as the form does.
 */
import type { PanelParams } from '../src/protocol/webviewMessages';
import { el } from './dom';

interface ValueElement extends HTMLElement { value: string }
interface CheckElement extends HTMLElement { checked: boolean }

type ExtraField = 'variationSeed' | 'variationStrength';
export type SeedExtraParams = Pick<PanelParams, 'variationSeed' | 'randomVariationSeed' | 'variationStrength'>;

const DEFAULT_STRENGTH = 0.2;

export class SeedExtraView {
  /** The "Extra" checkbox, for the seed row. */
  readonly toggle: CheckElement;
  /** The revealed fields, for the row below the seed. */
  readonly root: HTMLElement;
  readonly seed: ValueElement;
  readonly strength: ValueElement;
  readonly errors: Record<ExtraField, HTMLElement>;
  private readonly randomVariation: CheckElement;
  private readonly slider: HTMLInputElement;

  constructor(onChange: () => void) {
    this.toggle = el('vscode-checkbox', { id: 'seedExtra', 'aria-label': 'Extra seed options', 'aria-controls': 'seedExtraFields', 'aria-expanded': 'false',
      title: 'Variation seed and strength (AUTOMATIC1111\'s "Extra")' }, 'Extra') as CheckElement;
    this.seed = el('vscode-text-field', { id: 'variationSeed', inputmode: 'numeric', 'aria-label': 'Variation seed', size: '10' }, 'Variation seed') as ValueElement;
    this.randomVariation = el('vscode-checkbox', { id: 'randomVariationSeed', 'aria-label': 'Random variation seed', checked: true }, 'Random') as CheckElement;
    this.randomVariation.checked = true;
    this.strength = el('vscode-text-field', { id: 'variationStrength', inputmode: 'decimal', 'aria-label': 'Variation strength', size: '5' }, 'Variation strength') as ValueElement;
    this.strength.value = String(DEFAULT_STRENGTH);
    this.slider = el('input', { type: 'range', min: '0', max: '1', step: '0.01', value: String(DEFAULT_STRENGTH),
      'aria-label': 'Variation strength slider', id: 'variationStrengthSlider' }) as HTMLInputElement;
    this.errors = {
      variationSeed: el('div', { class: 'field-error', id: 'variationSeed-error', role: 'alert' }),
      variationStrength: el('div', { class: 'field-error', id: 'variationStrength-error', role: 'alert' }),
    };
    this.root = el('div', { class: 'row seed-extra', id: 'seedExtraFields', hidden: true },
      el('div', { class: 'field' }, this.seed, this.errors.variationSeed),
      el('div', { class: 'field inline' }, this.randomVariation),
      el('div', { class: 'field' }, this.strength, this.slider, this.errors.variationStrength));
    this.toggle.addEventListener('change', () => { this.sync(); onChange(); });
    this.randomVariation.addEventListener('change', () => { this.sync(); onChange(); });
    this.slider.addEventListener('input', () => { this.strength.value = this.slider.value; onChange(); });
    this.strength.addEventListener('input', () => {
      const n = Number(this.strength.value);
      if (Number.isFinite(n) && n >= 0 && n <= 1) this.slider.value = String(n);
    });
  }

  get isOn(): boolean {
    return this.toggle.checked;
  }

  /** The variation fields, or the problems per field; nothing when "Extra" is unticked. */
  read(seedMax: number): { params: SeedExtraParams } | { problems: Partial<Record<ExtraField, string>> } {
    if (!this.toggle.checked) return { params: {} };
    const problems: Partial<Record<ExtraField, string>> = {};
    const random = this.randomVariation.checked;
    const seedText = this.seed.value.trim();
    const seed = Number(seedText);
    if (!random && (!/^\d+$/.test(seedText) || seed > seedMax)) problems.variationSeed = `Expected a whole number from 0 to ${seedMax}, got “${seedText}”.`;
    const strengthText = this.strength.value.trim();
    const strength = Number(strengthText);
    if (strengthText === '' || !Number.isFinite(strength) || strength < 0 || strength > 1) {
      problems.variationStrength = `Expected a number from 0 to 1, got “${strengthText}”.`;
    }
    if (Object.keys(problems).length > 0) return { problems };
    return {
      params: {
        ...(random ? { randomVariationSeed: true } : { variationSeed: seed }),
        ...(random && /^\d+$/.test(seedText) && seed <= seedMax ? { variationSeed: seed } : {}),
        variationStrength: strength,
      },
    };
  }

  /** The fields as they stand, unchecked (the webview's saved state). */
  snapshot(): SeedExtraParams {
    const read = this.read(Number.MAX_SAFE_INTEGER);
    return 'params' in read ? read.params : {};
  }

  setParams(p: SeedExtraParams): void {
    const on = (p.variationStrength ?? 0) > 0 || p.randomVariationSeed === true;
    this.toggle.checked = on;
    this.randomVariation.checked = p.randomVariationSeed === true || p.variationSeed === undefined;
    this.seed.value = p.variationSeed === undefined ? '' : String(p.variationSeed);
    const strength = p.variationStrength ?? DEFAULT_STRENGTH;
    this.strength.value = String(strength);
    this.slider.value = String(strength);
    this.sync();
  }

  private sync(): void {
    this.root.hidden = !this.toggle.checked;
    this.toggle.setAttribute('aria-expanded', String(this.toggle.checked));
    if (this.randomVariation.checked) this.seed.setAttribute('disabled', '');
    else this.seed.removeAttribute('disabled');
  }
}
