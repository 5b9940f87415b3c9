/**
 * The "Illustrate Document" review panel's webview: one row per image (alt text, editable prompt, N candidates to
 * pick from, Regenerate, Skip), the document's style and negative prompt, Apply and Cancel. The host holds the
 * state and sends it whole; what the user is typing (a prompt, the style) is kept while it arrives. The last state is
 * kept (setState) for VS Code to hand back to the host after a window reload.
 */
import type { FromReview, ReviewRow, ReviewState, ToReview } from '../../src/protocol/reviewMessages';
import { clear, el } from '../dom';
import { toBytes } from '../messages';
import { markPromptEdited, markPromptSent, showHostPrompt } from './promptDraft';

interface VsCodeApi { postMessage(message: unknown): void; setState(state: unknown): void }
declare function acquireVsCodeApi(): VsCodeApi;
const api = acquireVsCodeApi();
const post = (message: FromReview): void => api.postMessage(message);

const TYPES = new Set(['state', 'candidate', 'progress', 'notice']);
function isToReview(value: unknown): value is ToReview {
  return typeof value === 'object' && value !== null && TYPES.has(String((value as { type?: unknown }).type));
}

const STATUS_TEXT: Record<ReviewRow['status'], string> = {
  waiting: 'Waiting…', generating: 'Generating…', done: 'Done.', failed: 'Failed', cancelled: 'Cancelled.', skipped: 'Skipped: Apply leaves this link as it is.',
};

interface RowView {
  readonly root: HTMLElement;
  readonly prompt: HTMLTextAreaElement;
  readonly status: HTMLElement;
  readonly candidates: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  readonly skip: HTMLButtonElement;
  readonly regenerate: HTMLButtonElement;
}

function main(): void {
  const app = document.getElementById('app');
  if (!app) return;
  let state: ReviewState | null = null;
  try {
    state = JSON.parse(app.dataset.initial ?? 'null') as ReviewState | null;
  } catch {
    state = null;
  }
  const title = el('h1', {});
  const notes = el('ul', { class: 'notes' });
  const style = el('input', { id: 'style', type: 'text', 'aria-label': 'Style for every image' }) as HTMLInputElement;
  const negative = el('input', { id: 'negative', type: 'text', 'aria-label': 'Negative prompt for every image' }) as HTMLInputElement;
  const apply = el('button', { id: 'apply', class: 'primary' }, 'Apply') as HTMLButtonElement;
  const cancel = el('button', { id: 'cancel', class: 'secondary' }, 'Cancel') as HTMLButtonElement;
  const notice = el('div', { id: 'notice', class: 'notice', role: 'status', 'aria-live': 'polite' });
  const list = el('div', { class: 'rows' });
  const sendStyle = (): void => post({ type: 'setStyle', style: style.value, negative: negative.value });
  style.addEventListener('change', sendStyle);
  negative.addEventListener('change', sendStyle);
  apply.addEventListener('click', () => {
    apply.disabled = true; // until the next state: a double click must not start a second Apply
    post({ type: 'apply' });
  });
  cancel.addEventListener('click', () => post({ type: 'cancel' }));
  app.replaceChildren(
    el('header', {}, title, notes,
      el('div', { class: 'options' },
        el('label', { class: 'field' }, el('span', {}, 'Style (appended to every prompt)'), style),
        el('label', { class: 'field' }, el('span', {}, 'Negative prompt'), negative)),
      el('div', { class: 'actions' }, apply, cancel)),
    notice, list,
  );
  app.setAttribute('aria-busy', 'false');
  const views = new Map<number, RowView>();
  /** Candidates' pictures by image id (the host sends each once). */
  const pictures = new Map<string, string>();

  const rowView = (row: ReviewRow): RowView => {
    const existing = views.get(row.rowId);
    if (existing) return existing;
    const n = row.rowId + 1;
    const prompt = el('textarea', { class: 'prompt', rows: '2', 'aria-label': `Prompt for image ${n}` }) as HTMLTextAreaElement;
    const regenerate = el('button', { class: 'secondary' }, 'Regenerate') as HTMLButtonElement;
    const skip = el('button', { class: 'secondary' }, 'Skip') as HTMLButtonElement;
    const status = el('div', { class: 'status', 'aria-live': 'off' });
    const candidates = el('div', { class: 'candidates', role: 'radiogroup', 'aria-label': `Candidates for image ${n}` });
    const canvas = el('canvas', { class: 'live', width: '64', height: '64', role: 'img', 'aria-label': `Preview of image ${n}`, hidden: true }) as HTMLCanvasElement;
    const root = el('section', { class: 'row', 'data-row': String(row.rowId) },
      el('div', { class: 'row-head' }, el('h2', {}, `${n}. ${row.alt}`), el('div', { class: 'row-actions' }, regenerate, skip)),
      prompt, status, el('div', { class: 'pictures' }, candidates, canvas));
    prompt.addEventListener('input', () => { markPromptEdited(prompt); keepState(); });
    regenerate.addEventListener('click', () => {
      markPromptSent(prompt);
      post({ type: 'regenerate', rowId: row.rowId, prompt: prompt.value.trim() || row.alt });
    });
    skip.addEventListener('click', () => post({ type: 'skip', rowId: row.rowId, skipped: skip.getAttribute('aria-pressed') !== 'true' }));
    prompt.value = row.prompt;
    const view = { root, prompt, status, candidates, canvas, skip, regenerate };
    views.set(row.rowId, view);
    list.append(root);
    return view;
  };

  const renderRow = (row: ReviewRow): void => {
    const v = rowView(row);
    showHostPrompt(v.prompt, row.prompt, document.activeElement === v.prompt);
    v.root.classList.toggle('skipped', row.skipped);
    v.skip.textContent = row.skipped ? 'Include' : 'Skip';
    v.skip.setAttribute('aria-pressed', String(row.skipped));
    v.status.textContent = row.status === 'failed' ? `Failed: ${row.detail}` : row.detail && row.status !== 'done' ? row.detail
      : `${STATUS_TEXT[row.status]}${row.detail && row.status === 'done' ? ` (${row.detail})` : ''}`;
    v.canvas.hidden = row.status !== 'generating';
    const shown = [...v.candidates.querySelectorAll('button')].map((b) => b.dataset.imageId).join(',');
    if (shown !== row.candidates.map((c) => c.imageId).join(',')) {
      clear(v.candidates);
      row.candidates.forEach((c, i) => {
        const b = el('button', { class: 'candidate', role: 'radio', 'data-image-id': c.imageId, title: `Seed ${c.seed}`,
          'aria-label': `Candidate ${i + 1} of image ${row.rowId + 1} (seed ${c.seed})` },
          el('img', { src: pictures.get(c.imageId) ?? '', alt: '', 'data-image-id': c.imageId })) as HTMLButtonElement;
        b.addEventListener('click', () => post({ type: 'pick', rowId: row.rowId, imageId: c.imageId }));
        v.candidates.append(b);
      });
    }
    for (const b of v.candidates.querySelectorAll('button')) {
      const picked = b.dataset.imageId === row.picked;
      b.setAttribute('aria-checked', String(picked));
      b.classList.toggle('picked', picked);
    }
  };

  /**
   * Keeps the last state, with the prompts being edited and not yet sent, for VS Code to hand back to the host after
   * a window reload (ids and text only: the host restores the review from it).
   */
  const keepState = (): void => {
    if (!state) return;
    api.setState({ ...state, rows: state.rows.map((r) => {
      const box = views.get(r.rowId)?.prompt;
      return box?.dataset.sent === 'dirty' ? { ...r, prompt: box.value } : r;
    }) });
  };

  const render = (s: ReviewState): void => {
    state = s;
    title.textContent = s.applied ? `Applied to ${s.document}` : `Illustrate ${s.document}: ${s.rows.length} image${s.rows.length === 1 ? '' : 's'}, ${s.candidates} candidate${s.candidates === 1 ? '' : 's'} each`;
    clear(notes);
    for (const line of s.notes) notes.append(el('li', {}, line));
    if (document.activeElement !== style) style.value = s.style;
    if (document.activeElement !== negative) negative.value = s.negative;
    cancel.hidden = !s.busy;
    const picked = s.rows.filter((r) => !r.skipped && r.picked !== null).length;
    apply.textContent = `Apply (${picked} image${picked === 1 ? '' : 's'})`;
    apply.disabled = s.applied;
    for (const row of s.rows) renderRow(row);
    keepState();
  };

  const drawPreview = (canvas: HTMLCanvasElement, width: number, height: number, raw: unknown): void => {
    const rgb = toBytes(raw);
    const ctx = canvas.getContext('2d');
    if (!rgb || !ctx || rgb.length < width * height * 3) return;
    canvas.width = width;
    canvas.height = height;
    const data = ctx.createImageData(width, height);
    for (let i = 0, j = 0; i < width * height; i++, j += 3) {
      data.data[i * 4] = rgb[j];
      data.data[i * 4 + 1] = rgb[j + 1];
      data.data[i * 4 + 2] = rgb[j + 2];
      data.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(data, 0, 0);
  };

  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const message = event.data;
    if (!isToReview(message)) return;
    switch (message.type) {
      case 'state':
        render(message.state);
        break;
      case 'candidate':
        pictures.set(message.imageId, message.src);
        for (const img of list.querySelectorAll('img')) if (img.dataset.imageId === message.imageId) img.src = message.src;
        break;
      case 'progress': {
        const v = views.get(message.rowId);
        if (!v) break;
        v.status.textContent = message.detail;
        v.canvas.hidden = false;
        if (message.preview) drawPreview(v.canvas, message.preview.width, message.preview.height, message.preview.rgb);
        break;
      }
      case 'notice':
        notice.textContent = message.message;
        notice.className = `notice ${message.level}`;
        break;
      default:
        break;
    }
  });
  if (state) render(state);
  post({ type: 'ready' });
}

main();
