/**
 * The parameter form: Prompt, Negative prompt, Sampler, Steps, CFG scale, Seed (random toggle, reuse last),
 * Width/Height (presets), Batch count, Model; Generate (Ctrl+Enter) and Cancel. Checks every field before posting
 * (the host checks again) and shows problems beside the field.
 */
import type { PanelParams, PanelSetup } from '../src/protocol/webviewMessages';
import { clear, el } from './dom';
import { GuidanceView } from './guidance';
import { PromptHighlight } from './promptHighlight';
import { SeedExtraView } from './seedExtra';
import { HiresView } from './hires';

/** The toolkit's form controls, as far as this file uses them. */
interface ValueElement extends HTMLElement {
  value: string;
}
interface CheckElement extends HTMLElement {
  checked: boolean;
}

type Field = keyof PanelParams;

const TEXT_FIELDS: ReadonlyArray<{ id: Field; label: string; mode: string }> = [
  { id: 'steps', label: 'Steps', mode: 'numeric' },
  { id: 'cfgScale', label: 'CFG scale', mode: 'decimal' },
  { id: 'seed', label: 'Seed', mode: 'numeric' },
  { id: 'width', label: 'Width', mode: 'numeric' },
  { id: 'height', label: 'Height', mode: 'numeric' },
  { id: 'batchCount', label: 'Batch count', mode: 'numeric' },
  { id: 'clipSkip', label: 'Clip skip', mode: 'numeric' },
];

export interface FormCallbacks {
  readonly onGenerate: () => void;
  readonly onCancel: () => void;
  readonly onReuseSeed: () => void;
  readonly onChange: () => void;
}

export class ParamsForm {
  readonly root: HTMLElement;
  private readonly controls = new Map<Field, ValueElement>();
  private readonly errors = new Map<Field, HTMLElement>();
  private readonly randomSeed: CheckElement;
  /** A1111's "Use old prompt editing timelines": ticked by Reuse Parameters for images made with them. */
  private readonly oldTimelines: CheckElement;
  private readonly sizePreset: ValueElement;
  readonly generateButton: HTMLElement;
  readonly cancelButton: HTMLElement;
  private setup: PanelSetup | undefined;
  /** The picked model's family defaults, with a button that applies them. */
  private readonly modelHint: HTMLElement;
  private readonly modelHintText: HTMLElement;
  /** Words, completions and size hints for models that know only a grammar (the embedded one). */
  private readonly guidance: GuidanceView;
  /** The prompt fields' syntax colouring and token counters. */
  readonly promptExtras = { prompt: new PromptHighlight('Prompt'), negativePrompt: new PromptHighlight('Negative prompt') };
  /** True while the form sets dropdowns itself (their change events are not the user's). */
  private settingValues = false;
  /** The seed row's "Extra": variation seed and strength. */
  private readonly seedExtra: SeedExtraView;
  /** The collapsible "Hires. fix" section. */
  private readonly hires: HiresView;

  constructor(callbacks: FormCallbacks) {
    const prompt = this.control('prompt', el('vscode-text-area', { rows: '3', resize: 'vertical', 'aria-label': 'Prompt', placeholder: 'a red fox in snow' }, 'Prompt'));
    const negative = this.control('negativePrompt', el('vscode-text-area', { rows: '2', resize: 'vertical', 'aria-label': 'Negative prompt', placeholder: 'what the image should not show' }, 'Negative prompt'));
    const sampler = this.control('sampler', el('vscode-dropdown', { 'aria-label': 'Sampler' }));
    const model = this.control('model', el('vscode-dropdown', { 'aria-label': 'Model' }));
    this.guidance = new GuidanceView(prompt as HTMLElement & { value: string }, negative as HTMLElement & { value: string }, () => { this.updateGuidance(); callbacks.onChange(); });
    const text = new Map<Field, HTMLElement>();
    for (const f of TEXT_FIELDS) {
      text.set(f.id, this.control(f.id, el('vscode-text-field', { inputmode: f.mode, 'aria-label': f.label, size: '8' }, f.label)));
    }
    this.randomSeed = el('vscode-checkbox', { id: 'randomSeed', 'aria-label': 'Random seed' }, 'Random seed') as CheckElement;
    this.randomSeed.addEventListener('change', () => { this.syncSeed(); callbacks.onChange(); });
    this.oldTimelines = el('vscode-checkbox', {
      id: 'oldPromptEditingTimelines', 'aria-label': 'Old prompt editing timelines',
      title: 'AUTOMATIC1111 before 1.6: [a:b:N] switches at a fraction of the steps for N below 1 and at step N otherwise '
        + '(now a decimal point means a fraction). Reuse Parameters ticks it for images made that way.',
    }, 'Old prompt editing timelines') as CheckElement;
    this.oldTimelines.addEventListener('change', () => callbacks.onChange());
    const reuse = el('vscode-button', { id: 'reuseSeed', appearance: 'secondary', 'aria-label': 'Reuse last seed' }, 'Reuse last seed');
    reuse.addEventListener('click', () => callbacks.onReuseSeed());
    this.sizePreset = el('vscode-dropdown', { id: 'sizePreset', 'aria-label': 'Size preset' }) as ValueElement;
    this.sizePreset.addEventListener('change', () => {
      const n = Number(this.sizePreset.value);
      if (n > 0) {
        this.controls.get('width')!.value = String(n);
        this.controls.get('height')!.value = String(n);
        callbacks.onChange();
      }
    });
    this.generateButton = el('vscode-button', { id: 'generate', 'aria-label': 'Generate', 'aria-keyshortcuts': 'Control+Enter', title: 'Generate (Ctrl+Enter)' }, 'Generate');
    this.generateButton.addEventListener('click', () => callbacks.onGenerate());
    this.cancelButton = el('vscode-button', { id: 'cancel', appearance: 'secondary', 'aria-label': 'Cancel', 'aria-keyshortcuts': 'Escape', hidden: true }, 'Cancel');
    this.cancelButton.addEventListener('click', () => callbacks.onCancel());
    this.modelHintText = el('span', { id: 'modelHintText' });
    const applyRecommended = el('vscode-button', { id: 'applyRecommended', appearance: 'secondary', 'aria-label': 'Use recommended settings' }, 'Use recommended settings');
    applyRecommended.addEventListener('click', () => { this.applyRecommended(); callbacks.onChange(); });
    this.modelHint = el('div', { class: 'model-hint', id: 'modelHint', 'aria-live': 'polite', hidden: true }, this.modelHintText, applyRecommended);
    model.addEventListener('change', () => {
      if (this.settingValues) return;
      this.applyRecommended(); // a model picked by the user: its family's defaults (SD-Turbo 1 step without CFG, LCM, …)
      callbacks.onChange();
    });
    this.seedExtra = new SeedExtraView(() => callbacks.onChange());
    this.hires = new HiresView(() => callbacks.onChange(),
      () => ({ width: Number(this.controls.get('width')!.value), height: Number(this.controls.get('height')!.value) }));
    const labelled = (label: string, id: string, control: HTMLElement): HTMLElement =>
      el('div', { class: 'field' }, el('label', { for: id }, label), control, this.errorFor(id as Field));
    const withError = (id: Field, control: HTMLElement): HTMLElement => el('div', { class: 'field' }, control, this.errorFor(id));
    this.root = el('section', { class: 'form', 'aria-label': 'Generation parameters' },
      el('div', { class: 'field' }, prompt, this.guidance.hint, this.errorFor('prompt')),
      this.promptExtras.prompt.root,
      withError('negativePrompt', negative),
      this.promptExtras.negativePrompt.root,
      el('div', { class: 'row' }, labelled('Sampler', 'sampler', sampler), withError('steps', text.get('steps')!), withError('cfgScale', text.get('cfgScale')!)),
      el('div', { class: 'row' }, withError('seed', text.get('seed')!), el('div', { class: 'field inline' }, this.randomSeed, reuse, this.seedExtra.toggle)),
      this.seedExtra.root,
      el('div', { class: 'row' }, withError('width', text.get('width')!), withError('height', text.get('height')!),
        labelled('Size preset', 'sizePreset', this.sizePreset), withError('batchCount', text.get('batchCount')!)),
      el('div', { class: 'row' }, labelled('Model', 'model', model), withError('clipSkip', text.get('clipSkip')!),
        el('div', { class: 'field inline' }, this.oldTimelines)),
      this.modelHint,
      this.hires.root,
      el('div', { class: 'actions' }, this.generateButton, this.cancelButton),
    );
    this.errors.set('variationSeed', this.seedExtra.errors.variationSeed);
    this.errors.set('variationStrength', this.seedExtra.errors.variationStrength);
    this.errors.set('hires', this.hires.error);
    for (const field of ['prompt', 'negativePrompt'] as const) {
      this.controls.get(field)!.addEventListener('input', () => this.promptExtras[field].show(this.controls.get(field)!.value));
    }
    for (const control of this.controls.values()) {
      control.addEventListener('input', () => { this.clearError(control.id as Field); this.updateGuidance(); this.hires.showSize(); callbacks.onChange(); });
      control.addEventListener('change', () => callbacks.onChange());
    }
  }

  /** Fills the dropdowns from the host's setup. */
  applySetup(setup: PanelSetup): void {
    this.setup = setup;
    const keep = this.setupDependentValues();
    fillOptions(this.controls.get('sampler')!, setup.samplers.map((s) => [s.id, s.label]));
    fillOptions(this.controls.get('model')!, setup.models.map((m) => [m.id, m.problem ? `${m.label} — ${m.problem}` : m.label]));
    fillOptions(this.sizePreset, [['', 'Choose…'], ...setup.sizePresets.map((n): [string, string] => [String(n), `${n}×${n}`])]);
    this.setDropdown('sampler', keep.sampler, setup.defaults.sampler);
    this.setDropdown('model', keep.model, setup.defaults.model);
    this.showModelHint();
  }

  /** Puts the picked model's recommended sampler, steps, CFG and size into the form. */
  applyRecommended(): void {
    const r = this.recommended();
    this.showModelHint();
    if (!r) return;
    this.setDropdown('sampler', r.sampler, this.controls.get('sampler')!.value);
    this.controls.get('steps')!.value = String(r.steps);
    this.controls.get('cfgScale')!.value = String(r.cfgScale);
    this.controls.get('width')!.value = String(r.width);
    this.controls.get('height')!.value = String(r.height);
    for (const f of ['sampler', 'steps', 'cfgScale', 'width', 'height'] as const) this.clearError(f);
  }

  private recommended(): NonNullable<PanelSetup['models'][number]['recommended']> | undefined {
    const id = this.controls.get('model')!.value;
    return this.setup?.models.find((m) => m.id === id)?.recommended ?? undefined;
  }

  /** The guidance for the picked model, the prompt and the size as they are now. */
  private updateGuidance(): void {
    const id = this.controls.get('model')!.value;
    this.guidance.update(this.setup?.models.find((m) => m.id === id), Number(this.controls.get('width')!.value), Number(this.controls.get('height')!.value));
  }

  private showModelHint(): void {
    this.updateGuidance();
    const r = this.recommended();
    this.modelHint.hidden = r === undefined;
    this.modelHintText.textContent = r === undefined ? '' : `${r.note} `;
  }

  /** Puts parameters into the form. */
  setParams(p: PanelParams): void {
    this.controls.get('prompt')!.value = p.prompt;
    this.controls.get('negativePrompt')!.value = p.negativePrompt;
    this.promptExtras.prompt.show(p.prompt);
    this.promptExtras.negativePrompt.show(p.negativePrompt);
    for (const f of TEXT_FIELDS) this.controls.get(f.id)!.value = String(p[f.id] ?? 1);
    this.setDropdown('sampler', p.sampler, this.setup?.defaults.sampler ?? p.sampler);
    this.setDropdown('model', p.model, this.setup?.defaults.model ?? p.model);
    this.showModelHint();
    this.randomSeed.checked = p.randomSeed;
    this.oldTimelines.checked = p.oldPromptEditingTimelines === true;
    this.seedExtra.setParams(p);
    this.hires.setParams(p.hires);
    this.syncSeed();
    for (const f of this.errors.keys()) this.clearError(f);
  }

  /** With "Random seed" ticked, the (disabled) seed field shows the seed the last run drew instead of a stale one. */
  showDrawnSeed(seed: number): void {
    if (this.randomSeed.checked) this.controls.get('seed')!.value = String(seed);
  }

  setSeed(seed: number): void {
    this.controls.get('seed')!.value = String(seed);
    this.randomSeed.checked = false;
    this.syncSeed();
  }

  /** A prompt field's toolkit text area (the LoRA picker follows its caret). */
  promptElement(field: 'prompt' | 'negativePrompt'): HTMLElement & { value: string; readonly control?: HTMLTextAreaElement } {
    return this.controls.get(field)! as unknown as HTMLElement & { value: string; readonly control?: HTMLTextAreaElement };
  }

  /** Puts a prompt field's caret at `offset` (after the picker rewrote a tag in it). */
  placeCaret(field: 'prompt' | 'negativePrompt', offset: number): void {
    const control = this.promptElement(field).control;
    control?.setSelectionRange(offset, offset);
  }

  /** The form's parameters, or the problems per field (also shown beside the fields). */
  read(): { params: PanelParams } | { problems: Partial<Record<Field, string>> } {
    const L = this.setup?.limits;
    const v = (f: Field): string => this.controls.get(f)!.value.trim();
    const problems: Partial<Record<Field, string>> = {};
    const int = (f: Field, min: number, max: number, what = `a whole number from ${min} to ${max}`): number => {
      const n = Number(v(f));
      if (!/^\d+$/.test(v(f)) || n < min || n > max) problems[f] = `Expected ${what}, got “${v(f)}”.`;
      return n;
    };
    const steps = int('steps', 1, L?.stepsMax ?? 1000);
    const cfgScale = Number(v('cfgScale'));
    if (v('cfgScale') === '' || !Number.isFinite(cfgScale) || cfgScale < 0 || cfgScale > (L?.cfgMax ?? 50)) {
      problems.cfgScale = `Expected a number from 0 to ${L?.cfgMax ?? 50}, got “${v('cfgScale')}”.`;
    }
    const randomSeed = this.randomSeed.checked;
    const seed = randomSeed && !/^\d+$/.test(v('seed')) ? 0 : int('seed', 0, L?.seedMax ?? 4294967295);
    const sizeWhat = `a multiple of ${L?.sizeMultiple ?? 8} from ${L?.sizeMin ?? 64} to ${L?.sizeMax ?? 2048}`;
    const width = int('width', L?.sizeMin ?? 64, L?.sizeMax ?? 2048, sizeWhat);
    const height = int('height', L?.sizeMin ?? 64, L?.sizeMax ?? 2048, sizeWhat);
    for (const [f, n] of [['width', width], ['height', height]] as const) {
      if (!problems[f] && n % (L?.sizeMultiple ?? 8) !== 0) problems[f] = `Expected ${sizeWhat}, got “${n}”.`;
    }
    const batchCount = int('batchCount', 1, L?.batchCountMax ?? 64);
    const clipSkip = int('clipSkip', 1, L?.clipSkipMax ?? 12);
    const prompt = this.controls.get('prompt')!.value;
    if (prompt.length > (L?.promptMaxChars ?? 10000)) problems.prompt = `Expected at most ${L?.promptMaxChars ?? 10000} characters, got ${prompt.length}.`;
    const extra = this.seedExtra.read(L?.seedMax ?? 4294967295);
    if ('problems' in extra) Object.assign(problems, extra.problems);
    const hires = this.hires.read();
    if ('problem' in hires) problems.hires = hires.problem;
    for (const f of this.errors.keys()) this.clearError(f);
    if (Object.keys(problems).length || !('params' in extra) || !('hires' in hires)) {
      for (const [f, message] of Object.entries(problems)) this.showError(f as Field, message);
      return { problems };
    }
    return {
      params: {
        prompt, negativePrompt: this.controls.get('negativePrompt')!.value, sampler: this.controls.get('sampler')!.value,
        steps, cfgScale, seed, randomSeed, width, height, batchCount, model: this.controls.get('model')!.value, clipSkip,
        ...(this.oldTimelines.checked ? { oldPromptEditingTimelines: true } : {}),
        ...extra.params,
        ...(hires.hires === null ? {} : { hires: hires.hires }),
      },
    };
  }

  /** The form as it stands, unchecked (for getState/setState); unreadable numbers become 0. */
  snapshot(): PanelParams {
    const num = (f: Field): number => {
      const n = Number(this.controls.get(f)!.value.trim());
      return Number.isFinite(n) ? n : 0;
    };
    return {
      prompt: this.controls.get('prompt')!.value, negativePrompt: this.controls.get('negativePrompt')!.value,
      sampler: this.controls.get('sampler')!.value, steps: num('steps'), cfgScale: num('cfgScale'), seed: num('seed'),
      randomSeed: this.randomSeed.checked, width: num('width'), height: num('height'), batchCount: num('batchCount'),
      model: this.controls.get('model')!.value, clipSkip: num('clipSkip'),
      ...(this.oldTimelines.checked ? { oldPromptEditingTimelines: true } : {}),
      ...this.seedExtra.snapshot(),
      ...(() => { const h = this.hires.read(); return 'hires' in h && h.hires !== null ? { hires: h.hires } : {}; })(),
    };
  }

  /** Shows a problem beside a field (from the host or from read()). */
  showError(field: Field, message: string): void {
    const error = this.errors.get(field);
    const control = this.controls.get(field) ?? (field === 'randomSeed' ? this.randomSeed : undefined);
    if (field === 'hires') this.hires.showError(message);
    if (error) error.textContent = message;
    control?.setAttribute('aria-invalid', 'true');
    control?.setAttribute('aria-describedby', `${field}-error`);
  }

  focus(field: Field): void {
    if (field === 'variationSeed' || field === 'variationStrength') (field === 'variationSeed' ? this.seedExtra.seed : this.seedExtra.strength).focus();
    else if (field === 'hires') this.hires.scale.focus();
    else (this.controls.get(field) ?? this.randomSeed).focus();
  }

  setRunning(running: boolean): void {
    this.cancelButton.hidden = !running;
    this.cancelButton.removeAttribute('disabled');
    this.cancelButton.title = 'Cancel the running generation (Escape)';
    // the label stays "Generate" (tests and muscle memory rely on it); the title says it queues
    this.generateButton.title = running ? 'Generate (Ctrl+Enter): queued after the running generation' : 'Generate (Ctrl+Enter)';
  }

  /** Cancel was pressed: it stays visible, disabled, until the host says the job ended. */
  setCancelling(): void {
    this.cancelButton.setAttribute('disabled', '');
  }

  private clearError(field: Field): void {
    const error = this.errors.get(field);
    if (error) error.textContent = '';
    this.controls.get(field)?.removeAttribute('aria-invalid');
  }

  private syncSeed(): void {
    const seed = this.controls.get('seed')!;
    if (this.randomSeed.checked) seed.setAttribute('disabled', '');
    else seed.removeAttribute('disabled');
  }

  private control(field: Field, element: HTMLElement): HTMLElement {
    element.id = field;
    this.controls.set(field, element as ValueElement);
    return element;
  }

  private errorFor(field: Field): HTMLElement {
    const error = el('div', { class: 'field-error', id: `${field}-error`, role: 'alert' });
    this.errors.set(field, error);
    return error;
  }

  private setupDependentValues(): { sampler: string; model: string } {
    return { sampler: this.controls.get('sampler')!.value, model: this.controls.get('model')!.value };
  }

  private setDropdown(field: 'sampler' | 'model', wanted: string, fallback: string): void {
    const control = this.controls.get(field)!;
    const has = (value: string): boolean => Array.from(control.children).some((o) => (o as ValueElement).value === value);
    this.settingValues = true;
    try {
      control.value = has(wanted) ? wanted : fallback;
    } finally {
      this.settingValues = false;
    }
  }
}

function fillOptions(dropdown: HTMLElement, options: ReadonlyArray<readonly [string, string]>): void {
  clear(dropdown);
  for (const [value, label] of options) dropdown.append(el('vscode-option', { value }, label));
}
