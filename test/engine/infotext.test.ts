import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  buildInfotextParams, formatInfotext, formatPythonFloat, formatPythonInt, parseInfotext,
} from '../../src/engine/infotext';

type ParsedInfotext = ReturnType<typeof parseInfotext>;

interface A1111Example {
  name: string;
  infotext: string;
  expected_parse: { Prompt: string; 'Negative prompt': string; params: Record<string, string> };
}
const REFERENCE = JSON.parse(fs.readFileSync(
  path.resolve(__dirname, '../../../shared/data/reference/a1111_infotext.json'), 'utf8')) as {
  examples: A1111Example[];
  format: { key_order_v1_10: string[] };
};

// Recorded with CPython 3.11 running the regexes and logic of A1111 modules/infotext_utils.py
// (parse_generation_parameters before its defaults; quote) and processing.py create_infotext's join.
const PARSE_CASES: ReadonlyArray<{ text: string; expected: ParsedInfotext }> = [
  { text: "a cat\nwearing a hat\nNegative prompt: blurry,\nlow quality\nSteps: 20, Sampler: Euler a, CFG scale: 7.0, Seed: 1, Size: 512x768",
    expected: {"prompt": "a cat\nwearing a hat", "negativePrompt": "blurry,\nlow quality", "params": {"Steps": "20", "Sampler": "Euler a", "CFG scale": "7.0", "Seed": "1", "Size-1": "512", "Size-2": "768"}} },
  { text: "p\nSteps: 20, Sampler: DPM++ 2M, Lora hashes: \"add_detail: 7c6bad76eb54, x: 1\", Hires upscale: 2, Template: \"a \\\"quoted\\\" word, b\\nline2\"",
    expected: {"prompt": "p", "negativePrompt": "", "params": {"Steps": "20", "Sampler": "DPM++ 2M", "Lora hashes": "add_detail: 7c6bad76eb54, x: 1", "Hires upscale": "2", "Template": "a \"quoted\" word, b\nline2"}} },
  { text: "hello\nSteps: 20, Sampler: Euler",
    expected: {"prompt": "hello\nSteps: 20, Sampler: Euler", "negativePrompt": "", "params": {}} },
  { text: "p\nSteps: 20, Tiling, Sampler: Euler, Empty: , Seed: 3",
    expected: {"prompt": "p", "negativePrompt": "", "params": {"Steps": "20", "Sampler": "Euler", "Seed": "3"}} },
  { text: "Steps: 20, Sampler: Euler a, CFG scale: 7",
    expected: {"prompt": "", "negativePrompt": "", "params": {"Steps": "20", "Sampler": "Euler a", "CFG scale": "7"}} },
  { text: "  p  \r\nNegative prompt:   n  \r\nSteps: 1, Sampler: a, Seed: 2\r\n",
    expected: {"prompt": "p", "negativePrompt": "n", "params": {"Steps": "1", "Sampler": "a", "Seed": "2"}} },
  { text: "一只猫\nNegative prompt: ぼやけた\nSteps: 20, Sampler: Euler a, Modèle: naïve, Seed: 5",
    expected: {"prompt": "一只猫", "negativePrompt": "ぼやけた", "params": {"Steps": "20", "Sampler": "Euler a", "Modèle": "naïve", "Seed": "5"}} },
  { text: "p\nSteps: 2, Aa: \"not json\\q\", Bb: x y , Cc: \"\", Dd: \"abc, Ee: \"a\" b, Ff: \"ok, fine\"",
    expected: {"prompt": "p", "negativePrompt": "", "params": {"Steps": "2", "Aa": "\"not json\\q\"", "Bb": "x y ", "Cc": "", "Dd": "\"abc", "Ee": "\"a\" b", "Ff": "ok, fine"}} },
  { text: "p\nSteps: 1, Seed resize from: 64x32, Hires resize: 1024x1024, Weird: 12x, Seed: 9",
    expected: {"prompt": "p", "negativePrompt": "", "params": {"Steps": "1", "Seed resize from-1": "64", "Seed resize from-2": "32", "Hires resize-1": "1024", "Hires resize-2": "1024", "Weird": "12x", "Seed": "9"}} },
  { text: "",
    expected: {"prompt": "", "negativePrompt": "", "params": {}} },
  { text: "first\n\nsecond\nNegative prompt: n1\n\nn2\nStill neg\nSteps: 1, Sampler: a, Seed: 2",
    expected: {"prompt": "first\n\nsecond", "negativePrompt": "n1\n\nn2\nStill neg", "params": {"Steps": "1", "Sampler": "a", "Seed": "2"}} },
  { text: "Negative prompt: only neg\nSteps: 1, Sampler: a, Seed: 2",
    expected: {"prompt": "", "negativePrompt": "only neg", "params": {"Steps": "1", "Sampler": "a", "Seed": "2"}} },
  { text: "p\nSteps: 20, Model: a:b, Seed: 1, x: 2",
    expected: {"prompt": "p", "negativePrompt": "", "params": {"Steps": "20", "Model": "a:b", "Seed": "1"}} },
  { text: "p\nNegative prompt:\nneg on next line\nSteps: 20, Sampler: Euler a, Seed: 1",
    expected: {"prompt": "p", "negativePrompt": "neg on next line", "params": {"Steps": "20", "Sampler": "Euler a", "Seed": "1"}} },
  { text: "p\nSteps: 20, Sampler: Euler a, Seed: 1, Steps: 30, 12: twelve",
    expected: {"prompt": "p", "negativePrompt": "", "params": {"Steps": "30", "Sampler": "Euler a", "Seed": "1", "12": "twelve"}} },
  { text: "p\nSteps:20,Sampler:Euler a,Seed:1 ,Version: v1.10.1",
    expected: {"prompt": "p", "negativePrompt": "", "params": {"Steps": "20", "Sampler": "Euler a", "Seed": "1 ", "Version": "v1.10.1"}} },
];

const FORMAT_CASES: ReadonlyArray<{ prompt: string; negativePrompt: string; params: Array<[string, string | number | null]>; expected: string }> = [
  { prompt: "a cat, wearing a hat", negativePrompt: "",
    params: [["Steps", 20], ["Sampler", "Euler a"], ["CFG scale", "7.0"], ["Seed", 965400086], ["Size", "512x512"], ["Model hash", null], ["Model", "v1-5: pruned"], ["Tiling", "Tiling"], ["Version", "v1.10.1"]],
    expected: "a cat, wearing a hat\nSteps: 20, Sampler: Euler a, CFG scale: 7.0, Seed: 965400086, Size: 512x512, Model: \"v1-5: pruned\", Tiling, Version: v1.10.1" },
  { prompt: "line one\nline two", negativePrompt: "bad, ugly",
    params: [["Steps", 4], ["Lora hashes", "a: 1, b: 2"], ["Quote", "say \"hi\", ok"], ["Back", "c:\\path"], ["Ctl", "a\tb,\u0001"], ["Uni", "naïve, 猫"], ["Plain", "naïve 猫"]],
    expected: "line one\nline two\nNegative prompt: bad, ugly\nSteps: 4, Lora hashes: \"a: 1, b: 2\", Quote: \"say \\\"hi\\\", ok\", Back: \"c:\\\\path\", Ctl: \"a\\tb,\\u0001\", Uni: \"naïve, 猫\", Plain: naïve 猫" },
  { prompt: "  padded  ", negativePrompt: "",
    params: [["Steps", 1], ["Sampler", "a"], ["Seed", 2]],
    expected: "padded  \nSteps: 1, Sampler: a, Seed: 2" },
  { prompt: "", negativePrompt: "",
    params: [["Steps", 1], ["Sampler", "a"], ["Seed", 2]],
    expected: "Steps: 1, Sampler: a, Seed: 2" },
];

/** [a float as Python repr writes it (also a JS literal), Python str() of it] */
const PYTHON_FLOATS: ReadonlyArray<[string, string]> = [
  ["7.0", "7.0"],
  ["7.5", "7.5"],
  ["1e-05", "1e-05"],
  ["1e+16", "1e+16"],
  ["1000000000000000.0", "1000000000000000.0"],
  ["0.0001", "0.0001"],
  ["1.5e-07", "1.5e-07"],
  ["1.2345e+20", "1.2345e+20"],
  ["1.2345678901234568e+17", "1.2345678901234568e+17"],
  ["0.30000000000000004", "0.30000000000000004"],
  ["5e-324", "5e-324"],
  ["1.7976931348623157e+308", "1.7976931348623157e+308"],
  ["-2.5e-05", "-2.5e-05"],
  ["0.75", "0.75"],
  ["1.0", "1.0"],
  ["100.0", "100.0"],
  ["0.3", "0.3"],
  ["1e+22", "1e+22"],
  ["12345.678", "12345.678"],
  ["9007199254740992.0", "9007199254740992.0"],
  ["-7.25", "-7.25"],
  ["9999999999999998.0", "9999999999999998.0"],
  ["9.999e-05", "9.999e-05"],
  ["0.5", "0.5"],
  ["3.0000000000000004", "3.0000000000000004"],
  ["1e+100", "1e+100"],
  ["2.5e-310", "2.5e-310"],
];

test('parses the A1111 reference example as A1111 does before adding defaults', () => {
  for (const ex of REFERENCE.examples) {
    assert.deepEqual(parseInfotext(ex.infotext), {
      prompt: ex.expected_parse.Prompt,
      negativePrompt: ex.expected_parse['Negative prompt'],
      params: ex.expected_parse.params,
    }, ex.name);
  }
});

test('parses edge cases exactly as A1111 parse_generation_parameters', () => {
  for (const { text, expected } of PARSE_CASES) {
    const parsed = parseInfotext(text);
    assert.deepEqual(parsed, expected, JSON.stringify(text));
    assert.deepEqual(Object.keys(parsed.params), Object.keys(expected.params).sort(byJsKeyOrder), 'key order');
  }
});

/** JS objects list integer-like keys first; compare the rest in Python's insertion order. */
function byJsKeyOrder(a: string, b: string): number {
  const isIndex = (k: string): boolean => /^(0|[1-9]\d*)$/.test(k);
  if (isIndex(a) && isIndex(b)) return Number(a) - Number(b);
  return isIndex(a) ? -1 : isIndex(b) ? 1 : 0;
}

test('a "__proto__" key is an own property, not the prototype', () => {
  const { params } = parseInfotext('p\nSteps: 1, Sampler: a, __proto__: evil');
  assert.equal(Object.getPrototypeOf(params), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(params, '__proto__')?.value, 'evil');
});

test('formats infotexts exactly as A1111 create_infotext', () => {
  for (const c of FORMAT_CASES) {
    assert.equal(formatInfotext(c.prompt, c.negativePrompt, c.params), c.expected);
  }
});

test('skips undefined values and prints numbers with String()', () => {
  assert.equal(formatInfotext('p', '', [['Steps', 20], ['CFG scale', 7], ['A b', undefined], ['Seed', 1]]),
    'p\nSteps: 20, CFG scale: 7, Seed: 1');
});

test('the reference example formats back to its own text', () => {
  const ex = REFERENCE.examples[0];
  const { Prompt, 'Negative prompt': negative, params } = ex.expected_parse;
  const ordered: Array<[string, string]> = [['Steps', params.Steps], ['Sampler', params.Sampler],
    ['CFG scale', params['CFG scale']], ['Seed', params.Seed], ['Size', `${params['Size-1']}x${params['Size-2']}`],
    ['Model hash', params['Model hash']]];
  assert.equal(formatInfotext(Prompt, negative, ordered), ex.infotext);
});

test('format then parse returns the params as strings, WxH split', () => {
  const params = buildInfotextParams({
    steps: 25, sampler: 'DPM++ 2M', scheduleType: 'Karras', cfgScale: 7.5, seed: 4294967295, width: 512,
    height: 768, modelHash: 'a1b2c3d4e5', model: 'sd: v1.5, pruned', denoisingStrength: 0.75, rng: 'CPU',
    extra: [['Lora hashes', 'x: 1, y: 2']], version: 'v1.10.1',
  });
  const text = formatInfotext('a "cat",\nsitting', 'blurry\nugly', params);
  assert.deepEqual(parseInfotext(text), {
    prompt: 'a "cat",\nsitting',
    negativePrompt: 'blurry\nugly',
    params: {
      Steps: '25', Sampler: 'DPM++ 2M', 'Schedule type': 'Karras', 'CFG scale': '7.5', Seed: '4294967295',
      'Size-1': '512', 'Size-2': '768', 'Model hash': 'a1b2c3d4e5', Model: 'sd: v1.5, pruned',
      'Denoising strength': '0.75', RNG: 'CPU', 'Lora hashes': 'x: 1, y: 2', Version: 'v1.10.1',
    },
  });
});

test('builds params in A1111 v1.10 key order with Python number formatting', () => {
  const params = buildInfotextParams({
    steps: 20, sampler: 'Euler a', scheduleType: 'Automatic', cfgScale: 7, imageCfgScale: 1.5, seed: 965400086,
    faceRestoration: 'CodeFormer', width: 512, height: 512, modelHash: '6ce0161689', model: 'v1-5', fp8Weight: 'Enable',
    vaeHash: '735e4c3a44', vae: 'vae-ft-mse', variationSeed: 7, variationSeedStrength: 1,
    seedResizeFrom: { width: 640, height: 480 }, denoisingStrength: 1, conditionalMaskWeight: 1, clipSkip: 2,
    ensd: 31337, tokenMergingRatio: 0.5, initImageHash: 'abc', rng: 'NV', tiling: true,
    extra: [['Hires upscale', 2]], version: 'v1.10.1', user: 'me',
  });
  const keys = params.map(([k]) => k);
  const reference = REFERENCE.format.key_order_v1_10.filter((k) => !k.startsWith('<'));
  assert.deepEqual(keys.filter((k) => reference.includes(k)), reference.filter((k) => keys.includes(k)));
  assert.equal(formatInfotext('p', '', params),
    'p\nSteps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7.0, Image CFG scale: 1.5, Seed: 965400086, ' +
    'Face restoration: CodeFormer, Size: 512x512, Model hash: 6ce0161689, Model: v1-5, FP8 weight: Enable, ' +
    'VAE hash: 735e4c3a44, VAE: vae-ft-mse, Variation seed: 7, Variation seed strength: 1.0, ' +
    'Seed resize from: 640x480, Denoising strength: 1.0, Conditional mask weight: 1.0, Clip skip: 2, ENSD: 31337, ' +
    'Token merging ratio: 0.5, Init image hash: abc, RNG: NV, Tiling: True, Hires upscale: 2, Version: v1.10.1, User: me');
});

test('leaves out the fields A1111 leaves out at their defaults', () => {
  const params = buildInfotextParams({
    steps: 20, sampler: 'Euler', cfgScale: 7.5, seed: 1, width: 512, height: 512, clipSkip: 1, ensd: 0,
    rng: 'GPU', variationSeed: 5, variationSeedStrength: 0, seedResizeFrom: { width: 0, height: 0 }, tiling: false,
  });
  assert.equal(formatInfotext('p', '', params), 'p\nSteps: 20, Sampler: Euler, CFG scale: 7.5, Seed: 1, Size: 512x512');
});

test('prints floats as Python str()', () => {
  for (const [literal, expected] of PYTHON_FLOATS) {
    assert.equal(formatPythonFloat(Number(literal)), expected, literal);
  }
  assert.deepEqual([Infinity, -Infinity, NaN, -0, 0].map(formatPythonFloat), ['inf', '-inf', 'nan', '-0.0', '0.0']);
});

test('prints ints as Python str() and rejects non-integers', () => {
  assert.deepEqual([0, -3, 4294967295, 1e21].map(formatPythonInt), ['0', '-3', '4294967295', '1000000000000000000000']);
  assert.throws(() => formatPythonInt(7.5), /expected an integer .* got 7.5/);
});
