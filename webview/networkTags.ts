/** What the panel's LoRA / embedding pickers add to a prompt, and the `<lora:…>` tag at the caret (no DOM: tested in node). */

/** A weight as the tag writes it: at most three decimals, no float noise (0.7, not 0.7000000000000001). */
export function formatWeight(weight: number): string {
  return String(Math.round(weight * 1000) / 1000);
}

/** The text to add for a LoRA. */
export function loraTag(name: string, weight = 1): string {
  return `<lora:${name}:${formatWeight(weight)}>`;
}

/** `text` with `addition` appended, separated as prompts are ("a, b"), none where the text is empty. */
export function appendToPrompt(text: string, addition: string): string {
  const trimmed = text.replace(/\s+$/, '');
  if (trimmed === '') return addition;
  return addition.startsWith('<') ? `${trimmed} ${addition}` : `${trimmed.replace(/,$/, '')}, ${addition}`;
}

/** A `<lora:…>` tag in a prompt: where it is, its LoRA and the weight the picker shows for it. */
export interface LoraTagSpan {
  readonly start: number;
  /** Just past its `>`. */
  readonly end: number;
  readonly name: string;
  /**
   * Its text-encoder weight (A1111: the first number, or `te=`, which wins; the UNet's too unless the tag gives
   * one); 1 when it has none, undefined when it is no number.
   */
  readonly weight: number | undefined;
}

/** A1111's extra-network tag (modules/extra_networks.py re_extra_net). */
const TAG = /<(\w+):([^>]+)>/g;

function splitItems(args: string): { items: string[]; weightAt: number; teAt: number } {
  const items = args.split(':');
  const weightAt = items.length > 1 && items[1].split('=').length !== 2 ? 1 : -1;
  const teAt = items.findIndex((item, i) => i > 0 && item.split('=').length === 2 && item.split('=')[0] === 'te');
  return { items, weightAt, teAt };
}

/** The `<lora:…>` tag the caret is in (after its `<`, up to just past its `>`), if any. */
export function loraTagAt(text: string, caret: number): LoraTagSpan | undefined {
  for (const m of text.matchAll(TAG)) {
    const start = m.index;
    const end = start + m[0].length;
    if (start >= caret) break;
    if (caret > end || m[1] !== 'lora') continue;
    const { items, weightAt, teAt } = splitItems(m[2]);
    const raw = teAt >= 0 ? items[teAt].split('=')[1] : weightAt >= 0 ? items[weightAt] : undefined;
    const weight = raw === undefined || raw.trim() === '' ? 1 : Number(raw);
    return { start, end, name: items[0], weight: Number.isFinite(weight) ? weight : undefined };
  }
  return undefined;
}

/**
 * `text` with the tag's weight set: its first number replaced (or put after the name), and a `te=` too, which A1111
 * reads before it; other parameters (a separate UNet weight, `dyn=`) kept. Returns the text and the tag's new end.
 */
export function setLoraWeight(text: string, tag: LoraTagSpan, weight: number): { text: string; end: number } {
  const inner = text.slice(tag.start + '<lora:'.length, tag.end - 1);
  const { items, weightAt, teAt } = splitItems(inner);
  const w = formatWeight(weight);
  if (weightAt >= 0) items[weightAt] = w;
  else items.splice(1, 0, w);
  if (teAt >= 0) items[teAt + (weightAt >= 0 ? 0 : 1)] = `te=${w}`;
  const replaced = `<lora:${items.join(':')}>`;
  return { text: text.slice(0, tag.start) + replaced + text.slice(tag.end), end: tag.start + replaced.length };
}

/** The weight a LoRA starts with in the picker: its "preferred weight" (A1111's user metadata) or 1. */
export function startWeight(name: string, preferred: Readonly<Record<string, number>> | undefined): number {
  const w = preferred?.[name];
  return w !== undefined && Number.isFinite(w) && w !== 0 ? w : 1;
}

/** A weight field's text as a weight: a finite number, else undefined (the picker then says so). */
export function parseWeightInput(text: string): number | undefined {
  if (text.trim() === '') return undefined;
  const w = Number(text);
  return Number.isFinite(w) ? w : undefined;
}
