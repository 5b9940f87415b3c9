/**
 * The Generate Image panel's webview: builds the UI from its pieces, talks to the host through typed messages and
 * keeps what must survive hiding and reloading in getState/setState.
 */
import {
  provideVSCodeDesignSystem, vsCodeButton, vsCodeCheckbox, vsCodeDropdown, vsCodeOption, vsCodeProgressRing,
  vsCodeTextArea, vsCodeTextField,
} from '@vscode/webview-ui-toolkit';
import { assertNever } from '../src/common/assertNever';
import { firstLine } from '../src/common/firstLine';
import type { ImageResult, PanelSetup, ToWebview } from '../src/protocol/webviewMessages';
import { el } from './dom';
import { ParamsForm } from './form';
import { HistoryView } from './history';
import { isToWebview } from './messages';
import { PreviewView } from './preview';
import { QueueView } from './queue';
import { ResultsView } from './results';
import { loadState, post, postRaw, saveState } from './vscodeApi';

provideVSCodeDesignSystem().register(
  vsCodeButton(), vsCodeCheckbox(), vsCodeDropdown(), vsCodeOption(), vsCodeProgressRing(), vsCodeTextArea(), vsCodeTextField(),
);

const QUEUED_NOTICE = 'Queued after the running generation.';

/** Results kept in the webview state (data: URLs; the files themselves are saved by the host). */
const KEPT_RESULTS = 4;

function readInitialSetup(app: HTMLElement): PanelSetup | null {
  try {
    const value: unknown = JSON.parse(app.dataset.initial ?? 'null');
    return typeof value === 'object' && value !== null && 'defaults' in value ? value as PanelSetup : null;
  } catch {
    return null;
  }
}

function main(): void {
  const app = document.getElementById('app');
  if (!app) return;
  const saved = loadState();
  let setup = readInitialSetup(app) ?? saved.setup;
  let lastSeed = saved.lastSeed;
  let runningJobId: number | null = null;

  const notice = el('div', { id: 'notice', class: 'notice', role: 'status', 'aria-live': 'polite' });
  const showNotice = (level: 'error' | 'info', message: string): void => {
    notice.textContent = firstLine(message);
    notice.className = `notice ${level}`;
    notice.setAttribute('role', level === 'error' ? 'alert' : 'status');
  };
  const persist = (): void => saveState({
    params: form.snapshot(), setup, lastSeed, results: results.images.slice(-KEPT_RESULTS), history: history.all,
  });
  const generate = (): void => {
    const read = form.read();
    if ('problems' in read) {
      showNotice('error', 'Fix the marked fields first.');
      const first = Object.keys(read.problems)[0] as keyof typeof read.problems | undefined;
      if (first) form.focus(first);
      return;
    }
    showNotice('info', runningJobId === null ? '' : QUEUED_NOTICE);
    post({ type: 'generate', params: read.params });
    persist();
  };
  const form = new ParamsForm({
    onGenerate: generate,
    onCancel: () => cancelRunning(),
    onReuseSeed: () => {
      if (lastSeed === null) showNotice('info', 'No image yet: generate one first, then its seed can be reused.');
      else { form.setSeed(lastSeed); persist(); }
    },
    onChange: () => { persist(); countTokensSoon(); },
  });
  /** The prompt fields' token counters: asked of the host a moment after the form stops changing. */
  let countTimer: ReturnType<typeof setTimeout> | undefined;
  let lastCounted = '';
  const countTokensSoon = (): void => {
    clearTimeout(countTimer);
    countTimer = setTimeout(() => {
      const p = form.snapshot();
      const steps = Number.isInteger(p.steps) && p.steps >= 1 && p.steps <= (setup?.limits.stepsMax ?? 1000) ? p.steps : 20;
      const key = JSON.stringify([p.prompt, p.negativePrompt, p.model, steps]);
      if (key === lastCounted || p.model === '' || p.prompt.length > (setup?.limits.promptMaxChars ?? 10000)
          || p.negativePrompt.length > (setup?.limits.promptMaxChars ?? 10000)) return;
      lastCounted = key;
      if (p.prompt === '' && p.negativePrompt === '') {
        // Nothing to count: no need to start the engine for it.
        form.promptExtras.prompt.showCount('0/75');
        form.promptExtras.negativePrompt.showCount('0/75');
        return;
      }
      post({ type: 'countTokens', prompt: p.prompt, negativePrompt: p.negativePrompt, model: p.model, steps });
    }, 250);
  };
  // start, quarters and end of a generation for screen readers (the step line itself is not live)
  const announcer = el('div', { id: 'announcer', class: 'visually-hidden', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const preview = new PreviewView((text) => { announcer.textContent = text; });
  /** The job whose cancel was asked for: its late progress messages (already on their way) no longer move the preview. */
  let cancellingJobId: number | null = null;
  const cancelRunning = (): void => {
    if (runningJobId === null) return;
    cancellingJobId = runningJobId;
    post({ type: 'cancel', jobId: runningJobId });
    form.setCancelling();
    preview.start('Cancelling…');
  };
  const results = new ResultsView((message) => post(message));
  const queue = new QueueView((message) => post(message));
  const history = new HistoryView((params, imageId) => {
    form.setParams(params);
    persist();
    showNotice('info', `Restored the parameters of seed ${params.seed}.`);
    post({ type: 'show', imageId });
  }, () => persist());

  app.replaceChildren(form.root, notice, preview.root, queue.root, results.root, history.root, announcer);
  app.setAttribute('aria-busy', 'false');
  if (setup) {
    form.applySetup(setup);
    results.setAutoSave(setup.autoSave);
  }
  const initialParams = saved.params ?? setup?.defaults;
  if (initialParams) form.setParams(initialParams);
  results.reset(saved.results);
  history.restore(saved.history);
  history.fillThumbs(saved.results);

  const handle = (message: ToWebview): void => {
    switch (message.type) {
      case 'setup':
        setup = message.setup;
        form.applySetup(message.setup);
        results.setAutoSave(message.setup.autoSave);
        persist();
        lastCounted = '';
        countTokensSoon();
        break;
      case 'loadParams':
        form.setParams(message.params);
        countTokensSoon();
        if (message.note) showNotice('info', message.note);
        persist();
        break;
      case 'queue': {
        if (message.runningJobId !== null && message.runningJobId !== runningJobId) {
          // the shown results stay until this job's first image replaces them (they may be this job's, after hiding)
          const job = message.jobs.find((j) => j.jobId === message.runningJobId);
          const what = `“${job?.prompt || 'image'}”${job && job.imageCount > 1 ? ` ×${job.imageCount}` : ''}`;
          preview.setTitle(`${job?.source === 'altText' ? 'Illustrating alt text' : job?.source === 'document' ? 'Illustrating a document' : 'Generating'} ${what}`);
          preview.start(`Starting ${what}…`);
          if (job?.source === 'panel') form.showDrawnSeed(job.seed); // the seed this run drew, even if it is cancelled
        }
        runningJobId = message.runningJobId;
        form.setRunning(runningJobId !== null);
        queue.show(message.jobs, runningJobId);
        if (notice.textContent === QUEUED_NOTICE && message.jobs.every((j) => j.jobId === runningJobId)) showNotice('info', '');
        break;
      }
      case 'progress':
        if (message.jobId !== cancellingJobId) preview.update(message, message.previews[0]);
        break;
      case 'image':
        addImage(message.image);
        break;
      case 'jobEnded':
        preview.finish(message.outcome === 'finished' ? 'Done.' : message.outcome === 'cancelled' ? 'Cancelled.'
          : `Failed: ${firstLine(message.message ?? 'the engine gave no reason')}`);
        if (message.outcome === 'failed' && message.message) showNotice('error', message.message);
        break;
      case 'saved':
        results.markSaved(message.imageId, message.savedPath);
        persist();
        break;
      case 'tokenCounts':
        form.promptExtras.prompt.showCount(message.prompt || undefined);
        form.promptExtras.negativePrompt.showCount(message.negativePrompt || undefined);
        break;
      case 'notice':
        showNotice(message.level, message.message);
        if (message.field) {
          form.showError(message.field, message.message);
          form.focus(message.field);
        }
        break;
      default:
        assertNever(message, 'host message');
    }
  };
  let seedShownForJob: number | null = null;
  const addImage = (image: ImageResult): void => {
    preview.hideCanvas();
    results.add(image);
    history.add(image);
    lastSeed = image.seed;
    if (image.jobId !== seedShownForJob) { // a batch's first image carries the run's seed (image i: seed + i)
      seedShownForJob = image.jobId;
      form.showDrawnSeed(image.seed);
    }
    persist();
  };

  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (isToWebview(event.data)) handle(event.data);
  });
  document.addEventListener('keydown', (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') {
      event.preventDefault();
      generate();
    } else if (event.key === 'Escape' && !event.defaultPrevented && runningJobId !== null && !isInOpenDropdown(event)) {
      event.preventDefault();
      cancelRunning();
    }
  });
  // a test hook: end-to-end tests post malformed messages through it
  (window as unknown as { inlineDiffusionTest: unknown }).inlineDiffusionTest = { postRaw };
  post({ type: 'ready' });
}

/** Escape in an open dropdown closes the dropdown; it does not cancel the generation. */
function isInOpenDropdown(event: KeyboardEvent): boolean {
  return event.composedPath().some((n) => n instanceof HTMLElement && n.tagName === 'VSCODE-DROPDOWN' && n.hasAttribute('open'));
}

main();
