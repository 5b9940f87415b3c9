/**
 * A row's prompt box while the host's state arrives: what the user typed and has not sent with Regenerate yet is
 * kept (the box is marked on input, unmarked when Regenerate sends it); otherwise the box shows the host's prompt.
 */

/** The part of a textarea this needs (tests pass a plain object). */
export interface PromptField {
  value: string;
  readonly dataset: Record<string, string | undefined>;
}

/** The user typed in the box: its text is a draft until Regenerate sends it. */
export function markPromptEdited(field: PromptField): void {
  field.dataset.sent = 'dirty';
}

/** Regenerate sent the box's text: later states may show the host's prompt again. */
export function markPromptSent(field: PromptField): void {
  delete field.dataset.sent;
}

/** Shows the host's prompt unless the box has focus or holds an unsent draft. */
export function showHostPrompt(field: PromptField, prompt: string, focused: boolean): void {
  if (!focused && field.dataset.sent !== 'dirty') field.value = prompt;
}
