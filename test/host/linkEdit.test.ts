import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { findIllustrateTarget } from '../../src/markdown/altText';
import { mapRange, planLinkEdit, snapshotTarget } from '../../src/markdown/linkEdit';
import { absoluteLinkDestination, linkDestination } from '../../src/markdown/linkTarget';

test('links relative to the document folder, with forward slashes', () => {
  assert.equal(linkDestination('/ws/docs/guide.md', '/ws/docs/images/a-fox-7.png', path.posix), 'images/a-fox-7.png');
  assert.equal(linkDestination('/ws/docs/deep/guide.md', '/ws/images/a-fox-7.png', path.posix), '../../images/a-fox-7.png');
  assert.equal(linkDestination('C:\\ws\\docs\\guide.md', 'C:\\ws\\images\\a-fox-7.png', path.win32), '../images/a-fox-7.png');
});

test('encodes what a bare destination cannot hold, keeps Unicode readable', () => {
  assert.equal(linkDestination('/ws/My Docs/a.md', '/ws/My Pics/x (1).png', path.posix), '../My%20Pics/x%20%281%29.png');
  assert.equal(linkDestination('/ws/a.md', '/ws/100%/#1?.png', path.posix), '100%25/%231%3F.png');
  assert.equal(linkDestination('/ws/a.md', '/ws/bilder/füchse/<a>.png', path.posix), 'bilder/füchse/%3Ca%3E.png');
});

test('another Windows drive or an untitled document gets a file: URL', () => {
  assert.equal(linkDestination('C:\\ws\\a.md', 'D:\\pics\\my fox.png', path.win32), 'file:///D:/pics/my%20fox.png');
  assert.equal(absoluteLinkDestination('/home/me/my fox.png', path.posix), 'file:///home/me/my%20fox.png');
});

/** Plans the edit for the cursor at `|` in `before`, applied to `now` (the document when the image is saved). */
function rewrite(before: string, now: string | null, destination = 'images/new.png'): string {
  const cursor = before.indexOf('|');
  const original = before.replace('|', '');
  const target = findIllustrateTarget(original, cursor);
  assert.ok(target, 'expected a target at the cursor');
  const current = now ?? original;
  const plan = planLinkEdit(current, snapshotTarget(original, target), destination, now !== null);
  if (!plan.ok) return `refused: ${plan.reason}`;
  return current.slice(0, plan.edit.range.start) + plan.edit.newText + current.slice(plan.edit.range.end);
}

function rewriteSelection(text: string, selected: string, now: string | null): string {
  const start = text.indexOf(selected);
  const target = findIllustrateTarget(text, start, start + selected.length);
  assert.ok(target);
  const current = now ?? text;
  const plan = planLinkEdit(current, snapshotTarget(text, target), 'images/new.png', now !== null);
  if (!plan.ok) return `refused: ${plan.reason}`;
  return current.slice(0, plan.edit.range.start) + plan.edit.newText + current.slice(plan.edit.range.end);
}

test('rewrites an inline target, an empty one, and keeps the title', () => {
  assert.equal(rewrite('A ![a |fox](old.png) b', null), 'A ![a fox](images/new.png) b');
  assert.equal(rewrite('![a |fox]()', null), '![a fox](images/new.png)');
  assert.equal(rewrite('![a |fox](old.png "Title")', null), '![a fox](images/new.png "Title")');
  assert.equal(rewrite('![a |fox](<old one.png>)', null), '![a fox](images/new.png)');
});

test('rewrites a reference definition, or makes a reference without one inline', () => {
  assert.equal(rewrite('![a |fox][f]\n\n[f]: old.png "T"', null), '![a fox][f]\n\n[f]: images/new.png "T"');
  assert.equal(rewrite('![a |fox]', null), '![a fox](images/new.png)');
  assert.equal(rewrite('![a |fox][]', null), '![a fox](images/new.png)');
});

test('plain selected text becomes an image with that alt text', () => {
  assert.equal(rewriteSelection('Draw a [big] fox here', 'a [big] fox', null), 'Draw ![a \\[big\\] fox](images/new.png) here');
});

test('after edits above the image, the edit lands on the same image', () => {
  const before = 'intro\n![a |fox]()\nend';
  assert.equal(rewrite(before, 'new paragraph\n\nintro, longer now\n![a fox]()\nend'), 'new paragraph\n\nintro, longer now\n![a fox](images/new.png)\nend');
});

test('with identical images, the same copy (by its order) is rewritten', () => {
  const before = '![x]()\n\n![x|]()\n\n![x]()';
  assert.equal(rewrite(before, 'added\n![x]()\n\n![x]()\n\n![x]()'), 'added\n![x]()\n\n![x](images/new.png)\n\n![x]()');
});

test('an image whose target was edited meanwhile is found by its alt text', () => {
  assert.equal(rewrite('![a |fox](old.png)', 'top\n![a fox](other.png)'), 'top\n![a fox](images/new.png)');
});

test('an image that was deleted meanwhile: refused, with the reason', () => {
  assert.equal(rewrite('![a |fox]()', 'all gone'), 'refused: the image “a fox” is no longer in the document (it changed during the generation)');
  assert.equal(rewriteSelection('Draw a fox here', 'a fox', 'Draw nothing'),
    'refused: the selected text “a fox” is no longer in the document (it changed during the generation)');
});

test('selected text that moved is found again', () => {
  assert.equal(rewriteSelection('Draw a fox here', 'a fox', '# Title\nDraw a fox here'), '# Title\nDraw ![a fox](images/new.png) here');
});

test('mapRange follows edits before a range, ignores those after it, and gives up on edits inside it', () => {
  const range = { start: 10, end: 20 };
  assert.deepEqual(mapRange(range, [{ rangeOffset: 0, rangeLength: 2, text: 'hello' }]), { start: 13, end: 23 });
  assert.deepEqual(mapRange(range, [{ rangeOffset: 10, rangeLength: 0, text: 'ab' }]), { start: 12, end: 22 });
  assert.deepEqual(mapRange(range, [{ rangeOffset: 20, rangeLength: 5, text: '' }, { rangeOffset: 2, rangeLength: 3, text: '' }]), { start: 7, end: 17 });
  assert.equal(mapRange(range, [{ rangeOffset: 15, rangeLength: 1, text: 'x' }]), undefined);
  assert.equal(mapRange(range, [{ rangeOffset: 5, rangeLength: 6, text: '' }]), undefined);
});

test('a tracked range picks the right copy even when the copies changed in number', () => {
  const original = '![x]()\n![x]()';
  const target = findIllustrateTarget(original, original.lastIndexOf('x'));
  assert.ok(target);
  const snapshot = snapshotTarget(original, target);
  const now = '![x]()\n![x]()\n![x]()'; // a copy was added above the second image (offset 7)
  const mapped = mapRange({ start: 7, end: 13 }, [{ rangeOffset: 7, rangeLength: 0, text: '![x]()\n' }]);
  const plan = planLinkEdit(now, snapshot, 'new.png', true, mapped);
  assert.deepEqual(plan, { ok: true, edit: { range: { start: 19, end: 19 }, newText: 'new.png' }, moved: true });
});
