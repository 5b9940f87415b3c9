/** What the panel's LoRA / embedding pickers add to a prompt (no DOM: tested in node). */

/** The text to add for a LoRA. */
export function loraTag(name: string, weight = 1): string {
  return `<lora:${name}:${weight}>`;
}

/** `text` with `addition` appended, separated as prompts are ("a, b"), none where the text is empty. */
export function appendToPrompt(text: string, addition: string): string {
  const trimmed = text.replace(/\s+$/, '');
  if (trimmed === '') return addition;
  return addition.startsWith('<') ? `${trimmed} ${addition}` : `${trimmed.replace(/,$/, '')}, ${addition}`;
}
