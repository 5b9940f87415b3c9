import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markPromptEdited, markPromptSent, showHostPrompt } from '../../webview/review/promptDraft';

test('a prompt typed in the review survives the states that arrive until Regenerate sends it', () => {
  const field = { value: 'a red circle', dataset: {} as Record<string, string | undefined> };
  showHostPrompt(field, 'a red circle', false);
  field.value = 'a big red circle';
  markPromptEdited(field);
  showHostPrompt(field, 'a red circle', false); // a state arrives after the box lost focus
  assert.equal(field.value, 'a big red circle', 'the draft is kept');
  markPromptSent(field);
  showHostPrompt(field, 'a big red circle', false);
  assert.equal(field.value, 'a big red circle');
  showHostPrompt(field, 'a blue square', true);
  assert.equal(field.value, 'a big red circle', 'never replaced while focused');
  showHostPrompt(field, 'a blue square', false);
  assert.equal(field.value, 'a blue square', 'sent: the host\'s prompt shows again');
});
