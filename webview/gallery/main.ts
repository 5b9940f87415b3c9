/**
 * The image gallery's webview: a grid of thumbnails, newest first, a filter (prompt words, model, sampler) and per
 * image the actions Reuse Parameters, Use as Input, Insert into Markdown, Reveal, Copy Path and Delete. Cards are added a page at a
 * time as the grid scrolls, and thumbnails are asked for only for the cards on screen (IntersectionObserver).
 */
import type { FromGallery, GalleryAction, GalleryItem, ToGallery } from '../../src/protocol/galleryMessages';
import { clear, el } from '../dom';
import { distinct, filterItems, indexPrompts } from './filter';

interface VsCodeApi { postMessage(message: unknown): void; getState(): unknown; setState(state: unknown): void }
declare function acquireVsCodeApi(): VsCodeApi;
const api = acquireVsCodeApi();
const post = (message: FromGallery): void => api.postMessage(message);

/** Cards added per page while scrolling. */
const PAGE = 120;
const TYPES = new Set(['items', 'thumb', 'notice']);

const ACTIONS: ReadonlyArray<[GalleryAction, string, string]> = [
  ['reuse', 'Reuse', 'Reuse Parameters: load this image\'s parameters into the Generate Image panel'],
  ['useAsInput', 'Use as Input', 'Use as Input: make this image the Generate Image panel\'s input image (image to image)'],
  ['insert', 'Insert', 'Insert into Markdown: at the cursor of the last markdown editor'],
  ['reveal', 'Reveal', 'Reveal in the Explorer'],
  ['copyPath', 'Copy Path', 'Copy the file\'s path'],
  ['delete', 'Delete', 'Delete: move the file to the trash (asks first)'],
];

function main(): void {
  const app = document.getElementById('app');
  if (!app) return;
  const saved = (api.getState() ?? {}) as { text?: string; model?: string; sampler?: string };
  let items: GalleryItem[] = [];
  let prompts: string[] = [];
  let shown: number[] = [];
  let rendered = 0;
  const thumbs = new Map<string, string | null>();
  const asked = new Set<string>();

  const text = el('input', { id: 'filter', type: 'search', placeholder: 'Filter by prompt', 'aria-label': 'Filter by prompt' }) as HTMLInputElement;
  const model = el('select', { id: 'model', 'aria-label': 'Model' }) as HTMLSelectElement;
  const sampler = el('select', { id: 'sampler', 'aria-label': 'Sampler' }) as HTMLSelectElement;
  const count = el('div', { id: 'count', class: 'count', role: 'status', 'aria-live': 'polite' });
  const notice = el('div', { id: 'notice', class: 'notice', role: 'status', 'aria-live': 'polite' });
  const grid = el('ul', { id: 'grid', class: 'grid', 'aria-label': 'Images, newest first' });
  const sentinel = el('div', { class: 'sentinel', 'aria-hidden': 'true' });
  text.value = saved.text ?? '';
  app.replaceChildren(el('header', { class: 'toolbar' }, text, model, sampler, count), notice, grid, sentinel);
  app.setAttribute('aria-busy', 'false');

  let pending: string[] = [];
  let flush: number | undefined;
  const scheduleFlush = (): void => {
    flush ??= window.setTimeout(() => {
      flush = undefined;
      post({ type: 'thumbs', paths: pending.slice(0, 200) });
      pending = pending.slice(200);
      if (pending.length) scheduleFlush();
    }, 30);
  };
  const wantThumb = (path: string): void => {
    if (asked.has(path)) return;
    asked.add(path);
    pending.push(path);
    scheduleFlush();
  };
  const onScreen = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const path = (entry.target as HTMLElement).dataset.path;
      if (path) wantThumb(path);
      onScreen.unobserve(entry.target);
    }
  }, { rootMargin: '200px' });
  const more = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) renderMore();
  }, { rootMargin: '400px' });
  more.observe(sentinel);

  const card = (item: GalleryItem): HTMLElement => {
    const src = thumbs.get(item.path);
    const img = el('img', { alt: item.prompt || item.label, width: '160', height: '160', loading: 'lazy', decoding: 'async' }) as HTMLImageElement;
    if (src) img.src = src;
    const details = [item.model, item.sampler, item.seed && `seed ${item.seed}`, item.width && `${item.width}×${item.height}`].filter(Boolean).join(' · ');
    const buttons = el('div', { class: 'actions' }, ...ACTIONS.map(([action, label, title]) => {
      const b = el('button', { type: 'button', title, 'aria-label': `${label}: ${item.label}` }, label);
      b.addEventListener('click', () => post({ type: 'action', action, path: item.path }));
      return b;
    }));
    const li = el('li', { class: 'card', 'data-path': item.path, tabindex: '-1' },
      el('div', { class: 'thumb' }, img),
      el('div', { class: 'prompt', title: item.prompt }, item.prompt || '(no parameters)'),
      el('div', { class: 'details', title: item.label }, details || item.label),
      buttons);
    if (src === undefined) onScreen.observe(li);
    return li;
  };

  const renderMore = (): void => {
    const end = Math.min(shown.length, rendered + PAGE);
    const fragment = document.createDocumentFragment();
    for (let i = rendered; i < end; i++) fragment.append(card(items[shown[i]]));
    grid.append(fragment);
    rendered = end;
  };

  const applyFilter = (): void => {
    const t0 = performance.now();
    shown = filterItems(items, prompts, { text: text.value, model: model.value, sampler: sampler.value });
    clear(grid);
    rendered = 0;
    renderMore();
    count.textContent = shown.length === items.length ? `${items.length} image${items.length === 1 ? '' : 's'}` : `${shown.length} of ${items.length} images`;
    app.dataset.filterMs = (performance.now() - t0).toFixed(1);
    api.setState({ text: text.value, model: model.value, sampler: sampler.value });
  };

  const fillSelect = (select: HTMLSelectElement, any: string, values: string[], keep: string | undefined): void => {
    const current = keep ?? select.value;
    clear(select);
    select.append(el('option', { value: '' }, any));
    for (const v of values) select.append(el('option', { value: v }, v));
    select.value = values.includes(current) ? current : '';
  };

  let firstItems = true;
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const message = event.data;
    if (typeof message !== 'object' || message === null || !TYPES.has(String((message as { type?: unknown }).type))) return;
    const m = message as ToGallery;
    switch (m.type) {
      case 'items':
        items = [...m.items];
        prompts = indexPrompts(items);
        fillSelect(model, 'Any model', distinct(items, 'model'), firstItems ? saved.model : undefined);
        fillSelect(sampler, 'Any sampler', distinct(items, 'sampler'), firstItems ? saved.sampler : undefined);
        firstItems = false;
        if (items.length === 0) notice.textContent = `No images yet in ${m.folders.join(', ') || 'the output folder'}: generate some, and they appear here.`;
        applyFilter();
        if (!m.complete) count.textContent = `newest ${items.length} shown; listing the rest…`;
        break;
      case 'thumb': {
        thumbs.set(m.path, m.src);
        const li = grid.querySelector(`li[data-path="${CSS.escape(m.path)}"]`);
        const img = li?.querySelector('img');
        if (img && m.src) img.src = m.src;
        else if (li && !m.src) li.classList.add('broken');
        break;
      }
      case 'notice':
        notice.textContent = m.message;
        notice.className = `notice ${m.level}`;
        break;
      default:
        break;
    }
  });
  let typing: number | undefined;
  text.addEventListener('input', () => {
    if (typing !== undefined) window.clearTimeout(typing);
    typing = window.setTimeout(applyFilter, 60);
  });
  model.addEventListener('change', applyFilter);
  sampler.addEventListener('change', applyFilter);
  post({ type: 'ready' });
}

main();
