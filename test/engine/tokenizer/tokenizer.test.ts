import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ClipTokenizer, cleanPrompt, splitWords } from '../../../src/engine/tokenizer/clipTokenizer';
import { fixText, fixTextLines } from '../../../src/engine/tokenizer/textFix';
import { lcg } from '../../fixtures/lcg';

const CLIP_DIR = path.resolve(__dirname, '../../../../shared/data/clip');
const REFERENCE = path.resolve(__dirname, '../../../../shared/data/reference/clip_tokens.json');

interface ReferenceCase {
  text: string;
  note: string;
  ids_no_special: number[];
  n_content_tokens: number;
  bpe_tokens: string[];
  truncated: boolean;
  input_ids_77_pad_eos: number[];
  input_ids_77_pad_zero: number[];
}

/**
 * Content ids (no BOS/EOS) recorded with OpenAI CLIP's simple_tokenizer.py, ftfy 6.3.1 and the `regex`
 * module, on ../shared/data/clip/: the ftfy fixes and edge cases the shared reference file does not cover.
 */
const RECORDED: Array<[text: string, ids: number[]]> = [
  ['a cat <|endoftext|> a dog', [320, 2368, 49407, 320, 1929]],
  ['<|startoftext|>x', [49406, 343]],
  ['Broken text&hellip; it&#x2019;s \ufb02ubberi\ufb01c!', [5107, 4160, 959, 585, 568, 3698, 65, 867, 72, 2059, 256]],
  ['\uff2c\uff2f\uff35\uff24\u3000\uff2e\uff2f\uff29\uff33\uff25\uff33', [7464, 31575]],
  ['\u201csmart\u201d \u2018quotes\u2019', [257, 4115, 257, 262, 5808, 262]],
  ['&amp;amp; &lt;3 &eacute; &#233;', [261, 283, 274, 4166, 4166]],
  ['<b>&ldquo;hi&rdquo;</b>', [283, 321, 29, 728, 506, 1883, 728, 251, 34308, 321, 285]],
  ['P&EACUTE;REZ', [43167, 15192]],
  ['caf\u00c3\u00a9 \u00e2\u20ac\u0153quoted\u00e2\u20ac\u009d', [15304, 257, 27706, 257]],
  ['\u00c3\u0192\u00c2\u00a9clair', [3459, 14039]],
  ['tab\there\u0000\u0007\u200bzero\ufeffwidth', [14724, 763, 9844, 14867, 23571]],
  ['\u001b[31mred\u001b[0m rose', [736, 3568]],
  ['x\u0303y e\u0301', [343, 136, 481, 344, 4166]],
  ['emoji \ud83d\udc31\ud83d\udc4d\ud83c\udffd', [16327, 35710, 43722]],
  ['\u65e5\u672c\u8a9e \u30c6\u30ad\u30b9\u30c8', [39121, 44353, 34002, 508, 2429, 228, 47121, 32421, 486]],
  ['\u216b \u00bd \u00b2 \u2460', [158, 227, 375, 33613, 41175, 158, 239, 510]],
  ['masterpiece, (best quality:1.2), [cat|dog], 8k',
    [12066, 267, 263, 949, 3027, 281, 272, 269, 273, 2361, 314, 2368, 347, 1929, 34067, 279, 330]],
  ['\ud800 lone', [39802, 13576]],
  ['\u017f \'\u017f', [129, 379, 6, 129, 379]],
  ['a\u0345b', [320, 321]],
];

const CAT_IDS = [49406, 320, 1125, 539, 320, 2368, 49407];

let sd1: Promise<ClipTokenizer> | undefined;
function loadSd1(): Promise<ClipTokenizer> {
  sd1 ??= ClipTokenizer.fromFolder(CLIP_DIR);
  return sd1;
}

async function loadCases(): Promise<ReferenceCase[]> {
  return (JSON.parse(await readFile(REFERENCE, 'utf8')) as { cases: ReferenceCase[] }).cases;
}

/** A temporary tokenizer folder: the SD 1.x vocabulary and merges with the given config files. */
async function withFolder<T>(files: Record<string, string>, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'clip-tok-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function sd1Files(): Promise<Record<string, string>> {
  return {
    'vocab.json': await readFile(path.join(CLIP_DIR, 'vocab.json'), 'utf8'),
    'merges.txt': await readFile(path.join(CLIP_DIR, 'merges.txt'), 'utf8'),
  };
}

test('reads the SD 1.x special ids and length from the folder', async () => {
  const tok = await loadSd1();
  assert.deepEqual([tok.bosId, tok.eosId, tok.padId, tok.maxLength], [49406, 49407, 49407, 77]);
});

test('encodes "a photo of a cat" to its known ids', async () => {
  assert.deepEqual((await loadSd1()).encode('a photo of a cat'), CAT_IDS);
});

test('matches the reference BPE pieces and content ids for every recorded prompt', async () => {
  const tok = await loadSd1();
  for (const c of await loadCases()) {
    assert.deepEqual({ pieces: tok.tokenize(c.text), ids: tok.encodeContent(c.text) },
      { pieces: c.bpe_tokens, ids: c.ids_no_special }, `${c.note}: ${JSON.stringify(c.text)}`);
  }
});

test('pads to 77 ids with the end token for SD 1.x, and reports length and truncation', async () => {
  const tok = await loadSd1();
  for (const c of await loadCases()) {
    const info = tok.encodeWithInfo(c.text);
    assert.deepEqual({ padded: Array.from(tok.encodePadded(c.text)), truncated: info.truncated, n: info.contentTokens },
      { padded: c.input_ids_77_pad_eos, truncated: c.truncated, n: c.n_content_tokens }, c.note);
  }
});

test('pads with id 0 when an SD 2.x folder names "!" as pad token (string or AddedToken)', async () => {
  const cases = await loadCases();
  const padAsObject = JSON.stringify({ model_max_length: 77, pad_token: { content: '!', lstrip: false } });
  const padAsString = JSON.stringify({ pad_token: '!', bos_token: '<|startoftext|>', eos_token: '<|endoftext|>' });
  const configs: Array<Record<string, string>> = [
    { 'tokenizer_config.json': padAsObject }, { 'special_tokens_map.json': padAsString }];
  for (const files of configs) {
    await withFolder({ ...(await sd1Files()), ...files }, async (dir) => {
      const tok = await ClipTokenizer.fromFolder(dir);
      assert.equal(tok.padId, 0);
      for (const c of cases) assert.deepEqual(Array.from(tok.encodePadded(c.text)), c.input_ids_77_pad_zero, c.note);
    });
  }
});

test('matches ids recorded from OpenAI CLIP with ftfy for entities, widths, ligatures, quotes, mojibake', async () => {
  const tok = await loadSd1();
  const got = RECORDED.map(([text]) => [text, tok.encodeContent(text)]);
  assert.deepEqual(got, RECORDED);
});

test('truncates to BOS + 75 tokens + EOS and says so', async () => {
  const tok = await loadSd1();
  const content = CAT_IDS.slice(1, -1);
  const prompt = Array(20).fill('a photo of a cat').join(' ');
  const expected = [49406, ...Array<number[]>(20).fill(content).flat().slice(0, 75), 49407];
  const info = tok.encodeWithInfo(prompt);
  assert.deepEqual({ ...info, padded: Array.from(tok.encodePadded(prompt)) },
    { ids: expected, truncated: true, contentTokens: 100, padded: expected });
});

test('keeps a prompt of exactly 75 tokens whole', async () => {
  const tok = await loadSd1();
  const prompt = Array(15).fill('a photo of a cat').join(' ');
  const info = tok.encodeWithInfo(prompt);
  assert.deepEqual({ truncated: info.truncated, n: info.contentTokens, length: info.ids.length },
    { truncated: false, n: 75, length: 77 });
});

test('treats transformers\' "no limit" model_max_length (1e30) as 77', async () => {
  await withFolder({ ...(await sd1Files()), 'tokenizer_config.json': '{"model_max_length": 1e30}' }, async (dir) => {
    const tok = await ClipTokenizer.fromFolder(dir);
    assert.deepEqual([tok.maxLength, tok.encodePadded('a photo of a cat').length], [77, 77]);
  });
});

test('uses a small vocabulary\'s own ids, specials and length', async () => {
  const vocab = { '<|startoftext|>': 0, '<|endoftext|>': 1, '<pad>': 2, c: 3, a: 4, 't</w>': 5, ca: 6, 'cat</w>': 7, 'a</w>': 8 };
  await withFolder({
    'vocab.json': JSON.stringify(vocab),
    'merges.txt': '#version: 0.2\nc a\nca t</w>\n',
    'tokenizer_config.json': JSON.stringify({ model_max_length: 6, pad_token: '<pad>' }),
  }, async (dir) => {
    const tok = await ClipTokenizer.fromFolder(dir);
    assert.deepEqual({ padded: Array.from(tok.encodePadded('Cat a')), long: tok.encodeWithInfo('cat cat cat cat cat') },
      { padded: [0, 7, 8, 1, 2, 2], long: { ids: [0, 7, 7, 7, 7, 1], truncated: true, contentTokens: 5 } });
  });
});

test('names the file when vocab.json or merges.txt is missing or garbage', async () => {
  const files = await sd1Files();
  const expectations: Array<[Record<string, string>, RegExp]> = [
    [{ 'merges.txt': files['merges.txt'] }, /vocab\.json/],
    [{ 'vocab.json': files['vocab.json'] }, /merges\.txt/],
    [{ ...files, 'vocab.json': '\x00\x01 not json' }, /vocab\.json.*not valid JSON/],
    [{ ...files, 'vocab.json': '["a", "b"]' }, /vocab\.json.*object/],
    [{ ...files, 'merges.txt': '#version: 0.2\n{"a": 1}\n' }, /merges\.txt.*line 2/],
    [{ ...files, 'merges.txt': '#version: 0.2\nthree parts here\n' }, /merges\.txt.*line 2/],
    [{ ...files, 'tokenizer_config.json': '{"pad_token": "<nope>"}' }, /pad_token "<nope>" is not in vocab\.json/],
  ];
  for (const [folder, message] of expectations) {
    await withFolder(folder, async (dir) => {
      await assert.rejects(ClipTokenizer.fromFolder(dir), message);
    });
  }
});

test('loads the 49k vocabulary in well under a second and encodes a prompt in under a millisecond', async () => {
  // The fastest of three loads and of three encoding rounds: complexity guards that a machine busy with other
  // work cannot trip, as it could a single timing.
  let loadMs = Infinity;
  let encodeMs = Infinity;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    const tok = await ClipTokenizer.fromFolder(CLIP_DIR);
    loadMs = Math.min(loadMs, performance.now() - start);
    const prompts = Array.from({ length: 500 }, (_, i) => `a photo of cat number ${i} (round ${round}), highly detailed, trending on artstation`);
    const encodeStart = performance.now();
    for (const prompt of prompts) tok.encodePadded(prompt);
    encodeMs = Math.min(encodeMs, (performance.now() - encodeStart) / prompts.length);
  }
  assert.ok(loadMs < 1000 && encodeMs < 1, `load ${loadMs.toFixed(0)} ms, encode ${encodeMs.toFixed(3)} ms per prompt (fastest of 3)`);
});

/** Deterministic random strings over `alphabet`. */
function randomStrings(alphabet: string, count: number, seed: number): string[] {
  const next = lcg(seed);
  return Array.from({ length: count }, () => Array.from({ length: 1 + (next() % 40) }, () => alphabet[next() % alphabet.length]).join(''));
}

test('plain-ASCII prompts skip ftfy\'s fixes, which would not have changed them (the shortcut is exact)', () => {
  const untouched = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('').replace('&', '') + '\t\n';
  const samples = [...randomStrings(untouched, 5000, 7), '<b>bold</b>', 'a\tb\nc', "it's 're 've", '<|startoftext|>x<|endoftext|>', ''];
  for (const s of samples) {
    assert.equal(fixText(s), s);
    assert.equal(fixTextLines(s), s, JSON.stringify(s));
  }
  // Anything else takes the full path: entities, CR, controls, non-ASCII.
  assert.equal(fixText('fish &amp; chips'), 'fish & chips');
  assert.equal(fixText('a\r\nb'), 'a\nb');
  assert.equal(fixText('a\x1b[31mred'), 'ared');
  assert.equal(fixText('caf\u00c3\u00a9'), 'caf\u00e9');
});

test('the ASCII split pattern gives the Unicode pattern\'s words on every ASCII text', () => {
  const ascii = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join('');
  const words = "'s 't 're 've 'm 'll 'd <|startoftext|> <|endoftext|> ";
  const samples = [...randomStrings(ascii, 4000, 11), ...randomStrings(`${words}abcXYZ019 .,!?'-_<|>`, 4000, 13)];
  for (const raw of samples) {
    const clean = cleanPrompt(raw);
    assert.deepEqual(splitWords(clean), splitWords(clean, 'unicode'), JSON.stringify(raw));
  }
  assert.deepEqual(splitWords("a photo's 3d <|endoftext|>!!"), ['a', 'photo', "'s", '3', 'd', '<|endoftext|>', '!!']);
  assert.deepEqual(splitWords('caf\u00e9 \u0345x'), splitWords('caf\u00e9 \u0345x', 'unicode'), 'non-ASCII text takes the Unicode pattern');
});
