import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import {
  applyEdits, classifyTarget, codeRanges, planDocumentEdits, promptWithStyle, readFrontMatter, scanDocument, type ChosenLink,
} from '../../src/markdown/documentImages';

const DIR = path.resolve('/docs');
const ON_DISK = new Set([path.join(DIR, 'there.png'), path.join(DIR, 'img', 'a b.png')]);
const exists = (f: string): boolean => ON_DISK.has(f);

/** The prompts scanDocument finds, with how each was written. */
function scan(text: string, trusted = true): { prompts: string[]; written: string[]; skipped: readonly string[] } {
  const result = scanDocument(text, { documentDir: DIR, exists, trusted });
  return {
    prompts: result.images.map((d) => d.prompt),
    written: result.images.map((d) => text.slice(d.image.range.start, d.image.range.end)),
    skipped: result.skipped,
  };
}

test('finds empty and missing targets in every image form; leaves present files and URLs alone', () => {
  const text = [
    '![empty]()',
    '![missing](nowhere.png)',
    '![present](there.png)',
    '![angle missing](<no such.png> "title")',
    '![angle present](<img/a b.png>)',
    '![encoded present](img/a%20b.png)',
    '![web](https://example.com/x.png)',
    '![plain http](http://example.com/x.png)',
    '![data](data:image/png;base64,AAAA)',
    '![absolute](/etc/x.png)',
    '![ref full][lighthouse]',
    '![ref collapsed][]',
    '![ref shortcut]',
    '![ref defined missing][d1]',
    '![ref defined present][d2]',
    '',
    '[d1]: gone.png',
    '[d2]: there.png "t"',
  ].join('\n');
  assert.deepEqual(scan(text).prompts, ['empty', 'missing', 'angle missing', 'ref full', 'ref collapsed', 'ref shortcut', 'ref defined missing']);
});

test('skips code blocks, code spans and the front matter; takes only the outer of nested images', () => {
  const text = [
    '---', 'title: "![not an image]()"', '---',
    '```md', '![in a fence]()', '```',
    '~~~~', '![in tildes]()', '~~~~',
    'Text `![in a span]()` and ``![in ``double`` span]()`` here.',
    '![outer ![inner]()]()',
    '![after everything]()',
  ].join('\n');
  assert.deepEqual(scan(text).prompts, ['outer ![inner]()', 'after everything']);
});

test('an image without alt text is skipped with a reason; a shared reference is illustrated once', () => {
  const result = scan('![](a.png)\n![one][same]\n![two][same]\n');
  assert.deepEqual(result.prompts, ['one']);
  assert.equal(result.skipped.length, 2);
  assert.match(result.skipped[0], /has no alt text/);
  assert.match(result.skipped[1], /“two” uses the same reference \[same\] as “one”/);
});

test('reads front matter options in flow and block style', () => {
  const flow = '---\ninline-diffusion: {style: watercolor, negative: blurry, model: sd-turbo, seed: 42}\n---\n# x';
  assert.deepEqual(readFrontMatter(flow),
    { range: { start: 0, end: flow.indexOf('# x') }, options: { style: 'watercolor', negative: 'blurry', model: 'sd-turbo', seed: 42 }, problems: [] });
  assert.deepEqual(readFrontMatter('---\ntitle: x\ninline-diffusion:\n  style: "ink, sepia"\n...\n').options,
    { style: 'ink, sepia', negative: '', model: null, seed: null });
  assert.deepEqual(readFrontMatter('# no front matter\n---\ninline-diffusion: {style: x}\n---\n'),
    { range: undefined, options: { style: '', negative: '', model: null, seed: null }, problems: [] });
});

test('front matter: the model is ignored in an untrusted workspace, bad values are named', () => {
  const text = '---\ninline-diffusion: {model: /tmp/evil, seed: -3, colour: red, style: [a, b]}\n---\n';
  const fm = readFrontMatter(text, { trusted: false });
  assert.deepEqual(fm.options, { style: '', negative: '', model: null, seed: null });
  assert.deepEqual(fm.problems, [
    'front matter "inline-diffusion.colour": unknown key (expected style, negative, model or seed); ignored',
    'front matter "inline-diffusion.model" is ignored in an untrusted workspace (like the model setting)',
    'front matter "inline-diffusion.seed": expected a whole number from 0 to 4294967295, got -3; a random seed is used',
    'front matter "inline-diffusion.style": expected text, got a list; ignored',
  ]);
  assert.equal(readFrontMatter(text, { trusted: true }).options.model, '/tmp/evil');
  assert.match(readFrontMatter('---\ninline-diffusion: [1\n---\n').problems[0], /^the front matter is not valid YAML/);
  assert.match(readFrontMatter('---\ninline-diffusion: 3\n---\n').problems[0], /expected a mapping \{style, negative, model, seed\}, got 3/);
});

test('the style is appended to the prompt', () => {
  assert.equal(promptWithStyle('a lighthouse at dusk', ' watercolor '), 'a lighthouse at dusk, watercolor');
  assert.equal(promptWithStyle('a lighthouse', ''), 'a lighthouse');
});

test('classifies targets: empty, missing, present, URL, absolute; file: URLs are paths', () => {
  assert.deepEqual(classifyTarget('  ', DIR, exists), { kind: 'empty' });
  assert.deepEqual(classifyTarget('<>', DIR, exists), { kind: 'empty' });
  assert.deepEqual(classifyTarget('there.png?raw=1', DIR, exists), { kind: 'present', path: path.join(DIR, 'there.png') });
  assert.deepEqual(classifyTarget('HTTPS://x/y.png', DIR, exists), { kind: 'url' });
  assert.deepEqual(classifyTarget('mailto:a@b', DIR, exists), { kind: 'url' });
  assert.deepEqual(classifyTarget('file:///docs/there.png', DIR, exists), { kind: process.platform === 'win32' ? 'missing' : 'present', path: path.resolve('/docs/there.png') });
  assert.deepEqual(classifyTarget('x.png', undefined, exists), { kind: 'absolute' });
});

test('code ranges: an unclosed fence runs to the end; an unmatched backtick is text', () => {
  const text = 'a `b\n```\n![x]()';
  assert.deepEqual(codeRanges(text), [{ start: 5, end: text.length }]);
});

function choose(text: string, destinations: string[], edited = text): { out: string; problems: ReadonlyArray<string | null> } {
  const { images } = scanDocument(text, { documentDir: DIR, exists, trusted: true });
  const chosen: ChosenLink[] = images.map((d, i) => ({ snapshot: d.snapshot, destination: destinations[i] }));
  const plan = planDocumentEdits(edited, edited !== text, chosen);
  return { out: applyEdits(edited, plan.edits), problems: plan.problems };
}

test('Apply rewrites every chosen link: inline targets, reference definitions, references without one', () => {
  const text = '# T\n![a]()\n![b](gone.png "keep title")\n![c][d]\n![e]\n\n[d]: old.png\n';
  assert.deepEqual(choose(text, ['a.png', 'b.png', 'c.png', 'e.png']), {
    out: '# T\n![a](a.png)\n![b](b.png "keep title")\n![c][d]\n![e](e.png)\n\n[d]: c.png\n',
    problems: [null, null, null, null],
  });
});

test('Apply on a changed document finds the images again by text and occurrence order', () => {
  const text = '![cat]()\n\n![cat]()\n\n![dog]()\n';
  const edited = 'New intro.\n\n![cat]()\n\ninserted\n\n![cat]()\n\n![dog]()\n';
  assert.deepEqual(choose(text, ['c1.png', 'c2.png', 'd.png'], edited), {
    out: 'New intro.\n\n![cat](c1.png)\n\ninserted\n\n![cat](c2.png)\n\n![dog](d.png)\n',
    problems: [null, null, null],
  });
});

test('Apply on a changed document skips an image that is gone, with its reason', () => {
  const text = '![cat]()\n\n![dog]()\n';
  const result = choose(text, ['c.png', 'd.png'], '![dog]()\n');
  assert.equal(result.out, '![dog](d.png)\n');
  assert.match(result.problems[0] ?? '', /the image “cat” is no longer in the document/);
  assert.equal(result.problems[1], null);
});

test('two choices that land on one image after an edit: the second is skipped', () => {
  const text = '![cat]()\n![cat]()\n';
  const result = choose(text, ['1.png', '2.png'], '![cat]()\n');
  assert.equal(result.out, '![cat](1.png)\n');
  assert.deepEqual(result.problems.map((p) => p === null), [true, false]);
});
