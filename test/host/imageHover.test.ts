import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodePng } from '../../src/engine/image';
import { escapeMarkdown, hoverContent, imageFileAt, parseHoverArgs } from '../../src/markdown/imageHover';
import { illustrateActionFor } from '../../src/markdown/illustrateCodeAction';
import { parsePngHead, readPngHead } from '../../src/markdown/pngHead';

const DIR = path.resolve('/notes');
const exists = (f: string): boolean => [path.join(DIR, 'img', 'fox.png'), path.join(DIR, 'photo.jpg')].includes(f);
const INFOTEXT = 'a red fox in snow\nNegative prompt: blurry\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7.5, Seed: 42, Size: 512x512, Model: sd15';

test('finds the PNG under the cursor through an inline link or a reference definition; nothing for other files', () => {
  const text = 'A ![fox](img/fox.png) and ![ref fox][f] and ![jpg](photo.jpg) and ![gone](nope.png).\n\n[f]: <img/fox.png>\n';
  const at = (word: string): string | undefined => imageFileAt(text, text.indexOf(word) + 1, DIR, exists)?.file;
  assert.deepEqual([at('fox]'), at('ref fox'), at('jpg'), at('gone'), at('and')],
    [path.join(DIR, 'img', 'fox.png'), path.join(DIR, 'img', 'fox.png'), undefined, undefined, undefined]);
});

test('the hover shows the picture, the prompt, the settings and four command links', () => {
  const content = hoverContent({
    file: '/notes/img/fox.png', imageUri: 'file:///notes/img/fox.png', width: 512, height: 512, text: { parameters: INFOTEXT },
    document: 'file:///notes/a.md', offset: 2,
  });
  const lines = content?.markdown.split('\n') ?? [];
  assert.deepEqual(lines.slice(0, 7), [
    '![a red fox in snow](file:///notes/img/fox.png|width=256)', '', '**a red fox in snow**', '', 'Negative: blurry', '',
    'Steps: 20 · Sampler: DPM\\+\\+ 2M \\(Karras\\) · CFG scale: 7\\.5 · Seed: 42 · Size: 512x512 · Model: sd15',
  ]);
  const links = [...(lines[8] ?? '').matchAll(/\[([^\]]+)\]\(command:([\w.]+)\?([^ ]+) "/g)].map((m) => [m[1], m[2], JSON.parse(decodeURIComponent(m[3]))]);
  assert.deepEqual(links, [
    ['Regenerate', 'inlineDiffusion.regenerateImage', [{ file: '/notes/img/fox.png', document: 'file:///notes/a.md', offset: 2 }]],
    ['Variations', 'inlineDiffusion.imageVariations', [{ file: '/notes/img/fox.png' }]],
    ['Open in Panel', 'inlineDiffusion.openImageInPanel', [{ file: '/notes/img/fox.png' }]],
    ['Reveal', 'inlineDiffusion.revealImage', [{ file: '/notes/img/fox.png' }]],
  ]);
});

test('no hover for a PNG without parameters; markdown in a prompt is escaped', () => {
  const base = { file: '/a.png', imageUri: 'file:///a.png', width: 8, height: 8, document: 'file:///a.md', offset: 0 };
  assert.equal(hoverContent({ ...base, text: { Software: 'x' } }), undefined);
  assert.equal(escapeMarkdown('[click](command:evil) *x* <b>'), '\\[click\\]\\(command:evil\\) \\*x\\* \\<b\\>');
  assert.match(hoverContent({ ...base, text: { parameters: '[x](command:evil)\nsecond line\nSteps: 1, Seed: 2' } })?.markdown ?? '', /^!\[\\\[x\\\]\\\(command:evil\\\) second line/);
});

test('hover command arguments are checked: an absolute .png path, an optional document and offset', () => {
  assert.deepEqual(parseHoverArgs({ file: '/a/b.png', document: 'file:///x.md', offset: 3 }), { file: '/a/b.png', document: 'file:///x.md', offset: 3 });
  for (const bad of [null, 'x', { file: 'rel.png' }, { file: '/a/b.txt' }, { file: '/a.png', offset: -1 }, { file: '/a.png', document: 3 }]) {
    assert.equal(parseHoverArgs(bad), undefined, JSON.stringify(bad));
  }
});

test('the PNG head gives size and text from the chunks before the image data, reading no more than the cap', async () => {
  const png = encodePng(new Uint8Array(16 * 8 * 3).fill(200), 16, 8, { parameters: INFOTEXT });
  assert.deepEqual(parsePngHead(png), { width: 16, height: 8, text: { parameters: INFOTEXT } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'png-head-'));
  const file = path.join(dir, 'big-text.png');
  const big = encodePng(new Uint8Array(3 * 4 * 4), 4, 4, { parameters: 'x'.repeat(40_000) });
  fs.writeFileSync(file, big);
  assert.equal((await readPngHead(file, 64 * 1024)).text.parameters.length, 40_000, 'a head past the first read is read again up to the cap');
  await assert.rejects(readPngHead(file, 20_000), /its text chunks do not end within the first 20000 bytes/);
  fs.writeFileSync(file, 'GIF89a not a png');
  await assert.rejects(readPngHead(file), /not a PNG/);
  const corrupt = new Uint8Array(png);
  corrupt[45] ^= 0xff; // inside the text chunk: its CRC no longer matches
  assert.throws(() => parsePngHead(corrupt), /CRC/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the Code Action is offered in an alt text or on selected text, titled with the prompt', () => {
  const text = 'See ![a lighthouse at dusk]() here. Plain words.';
  assert.deepEqual(illustrateActionFor(text, text.indexOf('lighthouse'), text.indexOf('lighthouse')),
    { title: 'Illustrate “a lighthouse at dusk”', command: 'inlineDiffusion.illustrateAltText' });
  assert.equal(illustrateActionFor(text, text.indexOf('Plain'), text.indexOf('Plain'))?.title, undefined);
  assert.equal(illustrateActionFor(text, text.indexOf('Plain'), text.length)?.title, 'Illustrate “Plain words.”');
  assert.equal(illustrateActionFor('![]()', 2, 2), undefined, 'no alt text: nothing to illustrate');
});

test('a file name with a double quote cannot end the link title early', () => {
  const file = '/notes/img/say "hi"\\.png';
  const content = hoverContent({ file, imageUri: 'file:///x.png', width: 64, height: 64, text: { parameters: INFOTEXT }, document: 'file:///notes/a.md', offset: 0 });
  const last = content?.markdown.split('\n').at(-1) ?? '';
  const titles = [...last.matchAll(/ "([^"]*)"\)/g)].map((m) => m[1]);
  assert.equal(titles.length, 4, last);
  assert.equal(titles[3], 'Reveal say hi.png in the Explorer');
  assert.equal((last.match(/"/g) ?? []).length, 8, 'only the titles\' own quotes');
});

test('with mayRead (an untrusted workspace), files outside are neither looked up nor hovered', () => {
  const text = '![in](img/fox.png) ![out](../etc/fox.png) ![url](file:///etc/fox.png)';
  const asked: string[] = [];
  const anyExists = (f: string): boolean => { asked.push(f); return true; };
  const inside = (f: string): boolean => f.startsWith(DIR + path.sep);
  const at = (word: string): string | undefined => imageFileAt(text, text.indexOf(word) + 1, DIR, anyExists, inside)?.file;
  assert.deepEqual([at('in]'), at('out]'), at('url]')], [path.join(DIR, 'img', 'fox.png'), undefined, undefined]);
  assert.deepEqual(asked, [path.join(DIR, 'img', 'fox.png')]);
});
