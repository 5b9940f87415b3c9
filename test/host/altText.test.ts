import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findDefinition, findIllustrateTarget, findImages, paragraphAround, toPrompt } from '../../src/markdown/altText';

/** The target at the `|` in `marked` (or the selection between two `|`), described as plain data. */
function at(marked: string): unknown {
  const first = marked.indexOf('|');
  const second = marked.indexOf('|', first + 1);
  const text = marked.replace(/\|/g, '');
  const target = second < 0 ? findIllustrateTarget(text, first) : findIllustrateTarget(text, first, second - 1);
  if (!target) return undefined;
  if (target.kind === 'text') return { kind: 'text', prompt: target.prompt, selected: text.slice(target.range.start, target.range.end) };
  const im = target.image;
  return {
    kind: im.kind, prompt: im.prompt, image: text.slice(im.range.start, im.range.end),
    dest: im.destRange ? text.slice(im.destRange.start, im.destRange.end) : undefined, label: im.label,
  };
}

test('finds an inline image with the cursor in its alt text', () => {
  assert.deepEqual(at('See ![a red| fox in snow](fox.png) here.'),
    { kind: 'inline', prompt: 'a red fox in snow', image: '![a red fox in snow](fox.png)', dest: 'fox.png', label: undefined });
});

test('finds an image with an empty destination, ![alt]()', () => {
  assert.deepEqual(at('![a ca|t]()'), { kind: 'inline', prompt: 'a cat', image: '![a cat]()', dest: '', label: undefined });
});

test('keeps the title out of the destination range', () => {
  assert.deepEqual(at('![a |cat](cat.png "My cat")'),
    { kind: 'inline', prompt: 'a cat', image: '![a cat](cat.png "My cat")', dest: 'cat.png', label: undefined });
  assert.deepEqual(at("![a |cat](<my cat.png> 'title')"),
    { kind: 'inline', prompt: 'a cat', image: "![a cat](<my cat.png> 'title')", dest: '<my cat.png>', label: undefined });
});

test('cursor at the edges: just after [ and just before ] count; before ! and after ) do not', () => {
  assert.equal((at('![|fox](f.png)') as { prompt: string }).prompt, 'fox');
  assert.equal((at('![fox|](f.png)') as { prompt: string }).prompt, 'fox');
  assert.equal((at('!|[fox](f.png)') as { prompt: string }).prompt, 'fox');
  assert.equal((at('![fox](f.p|ng)') as { prompt: string }).prompt, 'fox');
  assert.equal(at('|![fox](f.png)'), undefined);
  assert.equal(at('![fox](f.png)|'), undefined);
  assert.equal(at('![fox](f.png)| and text'), undefined);
});

test('picks the image under the cursor among several on a line', () => {
  const line = '![one](1.png) ![two](2.png)![three](3.png)';
  assert.equal((at(line.replace('two', 't|wo')) as { prompt: string }).prompt, 'two');
  assert.equal((at(line.replace('three', '|three')) as { prompt: string }).prompt, 'three');
  assert.equal((at(line.replace('one', 'one|')) as { prompt: string }).prompt, 'one');
});

test('handles nested brackets and backslash escapes in the alt text', () => {
  assert.deepEqual(at('![a [small] f|ox \\] in \\[snow\\]](x.png)'),
    { kind: 'inline', prompt: 'a [small] fox ] in [snow]', image: '![a [small] fox \\] in \\[snow\\]](x.png)', dest: 'x.png', label: undefined });
  assert.equal(at('\\![not an im|age](x.png)'), undefined);
});

test('a destination with balanced parentheses belongs to the image', () => {
  assert.deepEqual(at('![fo|x](img/fox(1).png)'),
    { kind: 'inline', prompt: 'fox', image: '![fox](img/fox(1).png)', dest: 'img/fox(1).png', label: undefined });
});

test('the innermost image wins when an image is inside another image\'s alt text', () => {
  assert.equal((at('![outer ![in|ner](a.png) x](b.png)') as { prompt: string }).prompt, 'inner');
  assert.equal((at('![out|er ![inner](a.png) x](b.png)') as { prompt: string }).prompt, 'outer ![inner](a.png) x');
});

test('an image in a link: [![alt](img)](url)', () => {
  assert.deepEqual(at('[![bad|ge](b.svg)](https://example.com)'),
    { kind: 'inline', prompt: 'badge', image: '![badge](b.svg)', dest: 'b.svg', label: undefined });
});

test('reference-style images: full, collapsed and shortcut', () => {
  assert.deepEqual(at('![a fo|x][fox]\n\n[fox]: old.png'), { kind: 'reference', prompt: 'a fox', image: '![a fox][fox]', dest: undefined, label: 'fox' });
  assert.deepEqual(at('![a fo|x][]'), { kind: 'reference', prompt: 'a fox', image: '![a fox][]', dest: undefined, label: 'a fox' });
  assert.deepEqual(at('Look: ![a fo|x].'), { kind: 'reference', prompt: 'a fox', image: '![a fox]', dest: undefined, label: 'a fox' });
});

test('alt text across lines within a paragraph, but not across a blank line', () => {
  assert.equal((at('![a red\nfox |in\nsnow](f.png)') as { prompt: string }).prompt, 'a red fox in snow');
  assert.equal(at('![a red\n\nfox |in](f.png)'), undefined);
});

test('plain selected text is a text target; a blank selection is nothing', () => {
  assert.deepEqual(at('Here |a lighthouse at dusk| stands.'), { kind: 'text', prompt: 'a lighthouse at dusk', selected: 'a lighthouse at dusk' });
  assert.equal(at('Here |   | stands.'), undefined);
  assert.equal(at('no image |here'), undefined);
});

test('a selection inside one image\'s alt text is that image', () => {
  assert.equal((at('![a |red| fox](f.png)') as { kind: string }).kind, 'inline');
  assert.equal((at('|![a red fox](f.png)|') as { kind: string }).kind, 'inline');
  assert.deepEqual(at('|![a](1.png) ![b](2.png)|'), { kind: 'text', prompt: '![a](1.png) ![b](2.png)', selected: '![a](1.png) ![b](2.png)' });
});

test('broken syntax is not an image', () => {
  assert.equal(at('![a fo|x](with space.png)'), undefined);
  assert.equal(at('![a fo|x](unclosed.png'), undefined);
  assert.equal(at('![a fo|x'), undefined);
});

test('findImages lists every image of a text in order', () => {
  const text = '# T\n\n![a](1.png)\n\ntext ![b]() and ![c][ref]\n\n[ref]: <c d.png>';
  assert.deepEqual(findImages(text).map((im) => [im.kind, im.prompt]), [['inline', 'a'], ['inline', 'b'], ['reference', 'c']]);
  const def = findDefinition(text, 'REF');
  assert.equal(def && text.slice(def.destRange.start, def.destRange.end), '<c d.png>');
  assert.equal(findDefinition(text, 'nope'), undefined);
});

test('paragraphAround stops at blank lines', () => {
  const text = 'one\n\ntwo\nthree\n  \nfour';
  const r = paragraphAround(text, text.indexOf('three'));
  assert.equal(text.slice(r.start, r.end), 'two\nthree');
});

test('toPrompt removes escapes and collapses whitespace', () => {
  assert.equal(toPrompt('  a \\*bold\\* \n  fox \\\\ '), 'a *bold* fox \\');
});
