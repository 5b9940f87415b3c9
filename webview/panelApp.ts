/**
 * The Generate Image panel's webview as one object: its views, the running job, what survives hiding and reloading
 * (getState/setState), and one handler per host message.
 */
import { assertNever } from '../src/common/assertNever';
import { firstLine } from '../src/common/firstLine';
import type { ImageResult, PanelSetup, ToWebview } from '../src/protocol/webviewMessages';
import { el } from './dom';
import { ParamsForm } from './form';
import { HistoryView } from './history';
import { InputImageView } from './inputImage';
import { appendToPrompt, NetworksPicker } from './networksPicker';
import { MaskEditor } from './maskEditor';
import { NoticeView } from './notice';
import { PreviewView } from './preview';
import { QueueView } from './queue';
import { ResultsView } from './results';
import { TokenCounter } from './tokenCounter';
import { post, saveState, type PanelState } from './vscodeApi';

const QUEUED_NOTICE = 'Queued after the running generation.';

/** Results kept in the webview state (data: URLs; the files themselves are saved by the host). */
const KEPT_RESULTS = 4;

export class PanelApp {
  private setup: PanelSetup | null;
  private lastSeed: number | null;
  private runningJobId: number | null = null;
  /** The job whose cancel was asked for: its late progress messages (already on their way) no longer move the preview. */
  private cancellingJobId: number | null = null;
  /** The job whose drawn seed the form shows (a batch's first image carries the run's seed; image i: seed + i). */
  private seedShownForJob: number | null = null;

  private readonly notice = new NoticeView();
  // start, quarters and end of a generation for screen readers (the step line itself is not live)
  private readonly announcer = el('div', { id: 'announcer', class: 'visually-hidden', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
  private readonly preview = new PreviewView((text) => { this.announcer.textContent = text; });
  private readonly form: ParamsForm;
  private readonly tokens: TokenCounter;
  private readonly results = new ResultsView((message) => post(message));
  private readonly queue = new QueueView((message) => post(message));
  private readonly history: HistoryView;
  /** Image to image: the input image, its strength and resize mode (webview/inputImage.ts). */
  readonly input = new InputImageView({
    send: (message) => post(message), onChange: () => { this.syncMask(); this.persist(); }, onNotice: (level, message) => this.notice.show(level, message),
  });
  private readonly networks = new NetworksPicker({
    add: (field, text) => {
      const params = this.form.snapshot();
      this.form.setParams({ ...params, [field]: appendToPrompt(params[field], text) });
      this.persist();
      this.tokens.countSoon();
    },
    replacePrompt: (text, caret) => {
      this.form.setParams({ ...this.form.snapshot(), prompt: text });
      this.form.placeCaret('prompt', caret);
      this.persist();
      this.tokens.countSoon();
    },
  });
  /** Inpainting: the mask painted over the input image and A1111's settings for it (webview/maskEditor.ts). */
  readonly mask = new MaskEditor();

  constructor(app: HTMLElement, initialSetup: PanelSetup | null, saved: PanelState) {
    this.setup = initialSetup ?? saved.setup;
    this.lastSeed = saved.lastSeed;
    this.form = new ParamsForm({
      onGenerate: () => this.generate(),
      onCancel: () => this.cancelRunning(),
      onReuseSeed: () => this.reuseSeed(),
      onChange: () => { this.persist(); this.tokens.countSoon(); },
    });
    this.tokens = new TokenCounter(this.form, () => this.setup);
    this.networks.attach(this.form.promptElement('prompt'));
    this.history = new HistoryView((params, imageId) => {
      this.form.setParams(params);
      this.input.setParams(params);
      this.persist();
      this.notice.show('info', `Restored the parameters of seed ${params.seed}.`);
      post({ type: 'show', imageId });
    }, () => this.persist());

    this.mask.attach(this.input.overlayHost);
    app.replaceChildren(this.input.root, this.mask.root, this.form.root, this.networks.root, this.notice.root, this.preview.root, this.queue.root, this.results.root, this.history.root, this.announcer);
    app.setAttribute('aria-busy', 'false');
    if (this.setup) {
      this.form.applySetup(this.setup);
      this.networks.update(this.setup.networks);
      this.results.setAutoSave(this.setup.autoSave);
    }
    const initialParams = saved.params ?? this.setup?.defaults;
    if (initialParams) this.form.setParams(initialParams);
    this.input.restore(saved.input);
    this.syncMask();
    this.results.reset(saved.results);
    this.history.restore(saved.history);
    this.history.fillThumbs(saved.results);
  }

  get isRunning(): boolean {
    return this.runningJobId !== null;
  }

  generate(): void {
    const read = this.form.read();
    if ('problems' in read) {
      this.notice.show('error', 'Fix the marked fields first.');
      const first = Object.keys(read.problems)[0] as keyof typeof read.problems | undefined;
      if (first) this.form.focus(first);
      return;
    }
    const input = this.input.current;
    let params = read.params;
    let hiresNote = '';
    if (input !== null) {
      const extra = this.input.read();
      if ('problem' in extra) {
        this.notice.show('error', 'Fix the marked fields first.');
        this.input.focus();
        return;
      }
      params = { ...params, strength: extra.strength, ...(extra.resizeMode === 'just' ? {} : { resizeMode: extra.resizeMode }) };
      // hires. fix follows text to image (A1111 has none on its img2img tab): with an input image it is left off
      if (params.hires) {
        params = { ...params, hires: null };
        hiresNote = 'Hires. fix is for text to image (as in A1111): this run from the input image has none.';
      }
      const inpaint = this.mask.value();
      if (inpaint !== undefined) params = { ...params, inpaint };
    }
    this.notice.show('info', [this.runningJobId === null ? '' : QUEUED_NOTICE, hiresNote].filter((t) => t !== '').join(' '));
    post(input === null ? { type: 'generate', params } : { type: 'generate', params, inputImageId: input.id });
    this.persist();
  }

  cancelRunning(): void {
    if (this.runningJobId === null) return;
    this.cancellingJobId = this.runningJobId;
    post({ type: 'cancel', jobId: this.runningJobId });
    this.form.setCancelling();
    this.preview.start('Cancelling…');
  }

  handle(message: ToWebview): void {
    switch (message.type) {
      case 'setup':
        this.setup = message.setup;
        this.form.applySetup(message.setup);
        this.networks.update(message.setup.networks);
        this.results.setAutoSave(message.setup.autoSave);
        this.persist();
        this.tokens.recountSoon();
        break;
      case 'networks':
        // the LoRA / embedding folders changed while the panel is open
        if (this.setup) this.setup = { ...this.setup, ...(message.networks === undefined ? { networks: undefined } : { networks: message.networks }) };
        this.networks.update(message.networks);
        this.persist();
        this.tokens.recountSoon(); // an embedding's vector count may have changed
        break;
      case 'loadParams':
        this.form.setParams(message.params);
        this.input.setParams(message.params);
        if (message.params.maskSettings) this.mask.setSettings(message.params.maskSettings);
        this.tokens.countSoon();
        if (message.note) this.notice.show('info', message.note);
        this.persist();
        break;
      case 'queue':
        this.showQueue(message);
        break;
      case 'progress':
        if (message.jobId !== this.cancellingJobId) this.preview.update(message, message.previews[0]);
        break;
      case 'image':
        this.addImage(message.image);
        break;
      case 'jobEnded':
        this.preview.finish(message.outcome === 'finished' ? 'Done.' : message.outcome === 'cancelled' ? 'Cancelled.'
          : `Failed: ${firstLine(message.message ?? 'the engine gave no reason')}`);
        if (message.outcome === 'failed' && message.message) this.notice.show('error', message.message);
        break;
      case 'saved':
        this.results.markSaved(message.imageId, message.savedPath);
        this.persist();
        break;
      case 'tokenCounts':
        this.tokens.show(message.prompt, message.negativePrompt);
        break;
      case 'inputImage':
        this.input.set(message.image);
        this.syncMask();
        if (message.note) this.notice.show('info', message.note);
        else if (message.image) this.notice.show('info', `Input image: ${message.image.name} (${message.image.width}×${message.image.height}).`);
        this.persist();
        break;
      case 'notice':
        this.notice.show(message.level, message.message);
        if (message.field) {
          this.form.showError(message.field, message.message);
          this.form.focus(message.field);
        }
        break;
      default:
        assertNever(message, 'host message');
    }
  }

  /** The mask editor follows the input image: shown over it (a new image starts an empty mask), hidden without one. */
  private syncMask(): void {
    const image = this.input.current;
    if (image === null) this.mask.removeImage();
    else this.mask.setImage(image.id, image.width, image.height);
  }

  private reuseSeed(): void {
    if (this.lastSeed === null) this.notice.show('info', 'No image yet: generate one first, then its seed can be reused.');
    else { this.form.setSeed(this.lastSeed); this.persist(); }
  }

  private showQueue(message: Extract<ToWebview, { type: 'queue' }>): void {
    if (message.runningJobId !== null && message.runningJobId !== this.runningJobId) {
      // the shown results stay until this job's first image replaces them (they may be this job's, after hiding)
      const job = message.jobs.find((j) => j.jobId === message.runningJobId);
      const what = `“${job?.prompt || 'image'}”${job && job.imageCount > 1 ? ` ×${job.imageCount}` : ''}`;
      this.preview.setTitle(`${job?.source === 'altText' ? 'Illustrating alt text' : job?.source === 'document' ? 'Illustrating a document' : 'Generating'} ${what}`);
      this.preview.start(`Starting ${what}…`);
      if (job?.source === 'panel') this.form.showDrawnSeed(job.seed); // the seed this run drew, even if it is cancelled
    }
    this.runningJobId = message.runningJobId;
    this.form.setRunning(this.runningJobId !== null);
    this.queue.show(message.jobs, this.runningJobId);
    if (this.notice.text === QUEUED_NOTICE && message.jobs.every((j) => j.jobId === this.runningJobId)) this.notice.show('info', '');
  }

  private addImage(image: ImageResult): void {
    this.preview.hideCanvas();
    this.results.add(image);
    this.history.add(image);
    this.lastSeed = image.seed;
    if (image.jobId !== this.seedShownForJob) {
      this.seedShownForJob = image.jobId;
      this.form.showDrawnSeed(image.seed);
    }
    this.persist();
  }

  private persist(): void {
    saveState({
      params: this.form.snapshot(), setup: this.setup, lastSeed: this.lastSeed,
      results: this.results.images.slice(-KEPT_RESULTS), history: this.history.all, input: this.input.snapshot(),
    });
  }
}
