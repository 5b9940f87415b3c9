/**
 * The gallery's filter: words of the prompt text (every word must appear, case-insensitive), a model and a sampler
 * (exact, empty = any). A pure function over the items, so the benchmark runs it in Node.
 */
import type { GalleryItem } from '../../src/protocol/galleryMessages';

export interface GalleryFilter {
  readonly text: string;
  readonly model: string;
  readonly sampler: string;
}

/** Lower-cased prompts, made once per list of items (filtering then compares strings only). */
export function indexPrompts(items: readonly GalleryItem[]): string[] {
  return items.map((item) => `${item.prompt} ${item.label}`.toLowerCase());
}

/** Indexes of the items that pass, in their order. */
export function filterItems(items: readonly GalleryItem[], prompts: readonly string[], filter: GalleryFilter): number[] {
  const words = filter.text.toLowerCase().split(/\s+/).filter((w) => w !== '');
  const out: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (filter.model && item.model !== filter.model) continue;
    if (filter.sampler && item.sampler !== filter.sampler) continue;
    const prompt = prompts[i];
    let ok = true;
    for (const w of words) {
      if (!prompt.includes(w)) { ok = false; break; }
    }
    if (ok) out.push(i);
  }
  return out;
}

/** The distinct non-empty values of a field, sorted (the model and sampler choices). */
export function distinct(items: readonly GalleryItem[], field: 'model' | 'sampler'): string[] {
  return [...new Set(items.map((i) => i[field]).filter((v) => v !== ''))].sort();
}
