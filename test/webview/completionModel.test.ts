import { test } from 'node:test';
import assert from 'node:assert/strict';
import { moveActive, suggestionsFor, takeWord, wordAt } from '../../webview/completionModel';

const WORDS = ['a', 'background', 'black', 'blue', 'bottom', 'circle', 'red', 'right', 'small', 'square', 'star'];

test('the caret\'s word: the letters around it, the typed part before the caret as the prefix', () => {
  assert.deepEqual(wordAt('a small re', 10), { start: 8, end: 10, prefix: 're' });
  assert.deepEqual(wordAt('a Small red', 4), { start: 2, end: 7, prefix: 'sm' }, 'inside a word: the whole word is replaced');
  assert.equal(wordAt('a small ', 8), null, 'after a space there is no word');
  assert.equal(wordAt('(red:1.2)', 9), null, 'after punctuation there is no word');
  assert.deepEqual(wordAt('(red:1.2)', 4), { start: 1, end: 4, prefix: 'red' });
  assert.deepEqual(wordAt('red', 99), { start: 0, end: 3, prefix: 'red' }, 'a caret past the end is clamped');
  assert.equal(wordAt('', 0), null);
});

test('the words offered start with the prefix, in the list\'s order, the complete word left out, at most max', () => {
  assert.deepEqual(suggestionsFor(WORDS, 'b'), ['background', 'black', 'blue', 'bottom']);
  assert.deepEqual(suggestionsFor(WORDS, 'BL'), ['black', 'blue'], 'case-insensitive');
  assert.deepEqual(suggestionsFor(WORDS, 'red'), [], 'a word typed in full offers nothing');
  assert.deepEqual(suggestionsFor(WORDS, 's', 2), ['small', 'square']);
  assert.deepEqual(suggestionsFor(WORDS, 'x'), []);
  assert.deepEqual(suggestionsFor(WORDS, ''), [], 'no prefix: nothing while typing');
  assert.deepEqual(suggestionsFor(WORDS, '', 3, true), ['a', 'background', 'black'], 'no prefix, Ctrl+Space: the first words');
});

test('the arrow keys move the active word round the list; Page keys go to its ends', () => {
  assert.equal(moveActive(0, 3, 'next'), 1);
  assert.equal(moveActive(2, 3, 'next'), 0);
  assert.equal(moveActive(0, 3, 'previous'), 2);
  assert.equal(moveActive(-1, 3, 'next'), 0);
  assert.equal(moveActive(1, 3, 'first'), 0);
  assert.equal(moveActive(1, 3, 'last'), 2);
  assert.equal(moveActive(0, 0, 'next'), -1);
});

test('taking a word replaces the caret\'s word and puts the caret after it, with a space unless one follows', () => {
  assert.deepEqual(takeWord('a small re', { start: 8, end: 10 }, 'red'), { text: 'a small red ', caret: 12 });
  assert.deepEqual(takeWord('a sm red', { start: 2, end: 4 }, 'small'), { text: 'a small red', caret: 7 }, 'a space follows already');
  assert.deepEqual(takeWord('(ci:1.2)', { start: 1, end: 3 }, 'circle'), { text: '(circle:1.2)', caret: 7 }, 'punctuation follows');
  assert.deepEqual(takeWord('a smred', { start: 2, end: 4 }, 'small'), { text: 'a small red', caret: 8 }, 'a letter follows: a space between');
  assert.deepEqual(takeWord('a ', { start: 2, end: 2 }, 'red'), { text: 'a red ', caret: 6 }, 'Ctrl+Space on no word inserts');
});
