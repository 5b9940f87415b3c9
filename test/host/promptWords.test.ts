import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GRAMMAR_VOCAB_MAX, PROMPT_WORDS_MAX_BYTES, promptWordsFromVocab, readPromptWords, VOCAB_MAX_BYTES } from '../../src/models/promptWords';
import { completionsFor, placeholderFor, unknownWords } from '../../webview/guidanceWords';

const EMBEDDED = path.resolve(__dirname, '../../models/shapes-64');

test('the embedded model\'s words come from its tokenizer, fragments of longer words left out', () => {
  assert.deepEqual(readPromptWords(EMBEDDED), [
    'a', 'background', 'black', 'blue', 'bottom', 'center', 'centre', 'circle', 'green', 'in', 'large', 'left', 'middle', 'on',
    'orange', 'purple', 'red', 'right', 'small', 'square', 'star', 'the', 'top', 'triangle', 'white', 'yellow',
  ]);
});

test('a full vocabulary gives no list; a shipped prompt-words.json wins', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'words-'));
  fs.mkdirSync(path.join(dir, 'tokenizer'));
  const big = Object.fromEntries(Array.from({ length: GRAMMAR_VOCAB_MAX + 1 }, (_, i) => [`w${i}</w>`, i]));
  fs.writeFileSync(path.join(dir, 'tokenizer', 'vocab.json'), JSON.stringify(big));
  assert.equal(readPromptWords(dir), null);
  fs.writeFileSync(path.join(dir, 'prompt-words.json'), JSON.stringify(['Owl', 'fox', 'owl']));
  assert.deepEqual(readPromptWords(dir), ['fox', 'owl']);
  assert.equal(readPromptWords(path.join(dir, 'missing')), null);
  assert.deepEqual(promptWordsFromVocab({ 'cat</w>': 1, 'at</w>': 2, 'c': 3, 'x1</w>': 4 }), ['cat']);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the guidance names unknown words, completes the word being typed, and shows the grammar as placeholder', () => {
  const words = readPromptWords(EMBEDDED) ?? [];
  const known = new Set(words);
  assert.deepEqual(unknownWords('A red Fox on a blue background, fox again', known), ['fox', 'again']);
  assert.deepEqual(completionsFor('a small re', words), { partial: 're', matches: ['red'] });
  assert.deepEqual(completionsFor('a small red ', words), { partial: '', matches: [] });
  assert.deepEqual(completionsFor('a b', words).matches, ['background', 'black', 'blue', 'bottom']);
  assert.equal(placeholderFor(words), 'a small red circle in the top left on a blue background');
});

test('vocabularies are stat\'ed first: a big vocab.json or prompt-words.json is not read; the answer is cached until a file changes', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'words-'));
  fs.mkdirSync(path.join(dir, 'tokenizer'));
  const vocab = path.join(dir, 'tokenizer', 'vocab.json');
  // a grammar-sized vocabulary padded past VOCAB_MAX_BYTES: a file that size is a language's, not worth parsing
  fs.writeFileSync(vocab, JSON.stringify({ 'owl</w>': 1 }) + ' '.repeat(VOCAB_MAX_BYTES));
  assert.equal(readPromptWords(dir), null);
  fs.writeFileSync(vocab, JSON.stringify({ 'owl</w>': 1, 'fox</w>': 2 }));
  const reads = t.mock.method(require('node:fs') as typeof fs, 'readFileSync');
  assert.deepEqual(readPromptWords(dir), ['fox', 'owl']);
  assert.deepEqual(readPromptWords(dir), ['fox', 'owl']);
  assert.equal(reads.mock.callCount(), 1, 'the second call comes from the cache');
  fs.writeFileSync(path.join(dir, 'prompt-words.json'), JSON.stringify(['cat', 'x'.repeat(PROMPT_WORDS_MAX_BYTES)]));
  assert.deepEqual(readPromptWords(dir), ['fox', 'owl'], 'an oversized word list is ignored');
  fs.writeFileSync(path.join(dir, 'prompt-words.json'), JSON.stringify(['cat']));
  assert.deepEqual(readPromptWords(dir), ['cat'], 'a changed file is read again');
  fs.rmSync(dir, { recursive: true, force: true });
});
