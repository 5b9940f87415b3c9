import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appendToPrompt, formatWeight, loraTag, loraTagAt, parseWeightInput, setLoraWeight, startWeight } from '../../webview/networkTags';

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

test('weights are written without float noise', () => {
  assert.equal(loraTag('x', 0.1 + 0.2), '<lora:x:0.3>');
  assert.equal(loraTag('x', -0.5), '<lora:x:-0.5>');
  assert.equal(formatWeight(0.12345), '0.123');
});

test('the tag at the caret: after its "<" up to just past its ">"; its weight (te= wins; none = 1)', () => {
  const text = 'a cat <lora:film:0.8> and <lora:grain> <hypernet:x:1> <lora:mix:0.5:te=0.3:dyn=8>';
  assert.equal(loraTagAt(text, 6), undefined, 'before the "<"');
  assert.deepEqual(loraTagAt(text, 7), { start: 6, end: 21, name: 'film', weight: 0.8 });
  assert.deepEqual(loraTagAt(text, 21), { start: 6, end: 21, name: 'film', weight: 0.8 });
  assert.equal(loraTagAt(text, 22), undefined);
  assert.equal(loraTagAt(text, text.indexOf('grain'))?.weight, 1);
  assert.equal(loraTagAt(text, text.indexOf('hypernet')), undefined, 'another kind of tag');
  assert.deepEqual(loraTagAt(text, text.indexOf('mix')), { start: text.indexOf('<lora:mix'), end: text.length, name: 'mix', weight: 0.3 });
  assert.equal(loraTagAt('<lora:x:abc>', 3)?.weight, undefined);
});

test('setting a tag\'s weight keeps everything else of it and of the prompt', () => {
  const set = (text: string, caret: number, w: number): string => setLoraWeight(text, loraTagAt(text, caret)!, w).text;
  assert.equal(set('a <lora:film:0.8>, b', 4, 0.55), 'a <lora:film:0.55>, b');
  assert.equal(set('<lora:grain>', 3, 0.7), '<lora:grain:0.7>');
  assert.equal(set('<lora:x:1:0.2:4>', 3, 0.5), '<lora:x:0.5:0.2:4>', 'the UNet weight and dyn stay');
  assert.equal(set('<lora:x:te=1:unet=0.3>', 3, 0.6), '<lora:x:0.6:te=0.6:unet=0.3>', 'te= is set too (it wins over the first number)');
  assert.equal(set('<lora:x:dyn=4>', 3, 2), '<lora:x:2:dyn=4>');
  const out = setLoraWeight('p <lora:x:1> q', loraTagAt('p <lora:x:1> q', 4)!, 0.25);
  assert.deepEqual(out, { text: 'p <lora:x:0.25> q', end: 15 });
});

test('a LoRA\'s start weight is its preferred weight (A1111\'s user metadata; 0 = default) or 1; the field must hold a number', () => {
  assert.equal(startWeight('a', { a: 0.6 }), 0.6);
  assert.equal(startWeight('a', { a: 0 }), 1);
  assert.equal(startWeight('b', { a: 0.6 }), 1);
  assert.equal(startWeight('a', undefined), 1);
  assert.equal(parseWeightInput(' 0.75 '), 0.75);
  assert.equal(parseWeightInput(''), undefined);
  assert.equal(parseWeightInput('x'), undefined);
});
