import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appendToPrompt, loraTag } from '../../webview/networkTags';

test('a LoRA goes in as A1111\'s tag, weight 1, after the prompt', () => {
  assert.equal(loraTag('detail_tweaker'), '<lora:detail_tweaker:1>');
  assert.equal(appendToPrompt('a castle', loraTag('x')), 'a castle <lora:x:1>');
  assert.equal(appendToPrompt('', loraTag('x')), '<lora:x:1>');
});

test('an embedding name joins the prompt as a comma-separated word', () => {
  assert.equal(appendToPrompt('blurry, low quality', 'EasyNegative'), 'blurry, low quality, EasyNegative');
  assert.equal(appendToPrompt('blurry,  ', 'EasyNegative'), 'blurry, EasyNegative');
  assert.equal(appendToPrompt('   ', 'EasyNegative'), 'EasyNegative');
});
