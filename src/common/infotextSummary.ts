/**
 * How an image's parameters are summed up wherever they are shown (the hover, the gallery's list and filter): one
 * helper, so the same image reads the same everywhere. Takes what parseInfotext (src/engine/infotext.ts) returned.
 */

/** A prompt on one line: runs of whitespace (newlines included) become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** "Euler a", or "DPM++ 2M (Karras)" with a schedule type other than Automatic; '' without a sampler. */
export function samplerLabel(params: Readonly<Record<string, string | undefined>>): string {
  const sampler = params.Sampler;
  if (!sampler) return '';
  const schedule = params['Schedule type'];
  return schedule && schedule !== 'Automatic' ? `${sampler} (${schedule})` : sampler;
}
