import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findIllustrateTarget, findImages, ILLUSTRATE_WINDOW } from '../../src/markdown/altText';

// Complexity guards (issue 12 row 1): the can-illustrate check runs on every cursor move, so hostile markdown must
// not freeze the extension host. Before the fix, 80 KB of `![` took 6.9 s and 80 KB of `![a](` about 3 s.
const BOUND_MS = 100;

/** The best of three runs: a complexity guard, not a speed test, so a stall of the shared machine must not count. */
function timed<T>(run: () => T): { value: T; ms: number } {
  let ms = Infinity;
  let value = undefined as T;
  for (let i = 0; i < 3 && (i === 0 || ms < 1000); i++) {
    const t0 = performance.now();
    value = run();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { value, ms };
}

test('the window around the cursor is 4 KB each side', () => {
  assert.equal(ILLUSTRATE_WINDOW, 4096);
});

test('an image starting more than 4 KB before the cursor is not looked at; one within 4 KB is', () => {
  const far = `![${'a'.repeat(5000)}](x.png)`;
  assert.equal(findIllustrateTarget(far, 5001), undefined);
  const near = `![${'a'.repeat(3000)}](x.png)`;
  const target = findIllustrateTarget(near, 3001);
  assert.equal(target?.kind, 'image');
});

test('an image still found when text outside the window is hostile', () => {
  const hostile = '!['.repeat(50_000);
  const text = `${hostile}\n\nSee ![a fox](fox.png).\n\n${hostile}`;
  const cursor = text.indexOf('a fox') + 2;
  const { value, ms } = timed(() => findIllustrateTarget(text, cursor));
  assert.equal(value?.kind === 'image' ? value.image.prompt : undefined, 'a fox');
  assert.ok(ms < BOUND_MS, `${ms.toFixed(1)} ms`);
});

for (const [name, unit] of [['![', '!['], ['![a](', '![a]('], ['![a][', '![a]['], ['![x](<', '![x](<'], ['[![', '[!['], ['![a](x "', '![a](x "']] as const) {
  test(`one 80 KB line of ${name} is checked in under ${BOUND_MS} ms wherever the cursor is`, () => {
    const text = unit.repeat(Math.ceil(80_000 / unit.length));
    for (const cursor of [0, 2, text.length >> 1, text.length - 1]) {
      const { ms } = timed(() => findIllustrateTarget(text, cursor));
      assert.ok(ms < BOUND_MS, `cursor ${cursor}: ${ms.toFixed(1)} ms`);
    }
  });
}

test('deeply nested images are checked in linear time', () => {
  const text = `${'!['.repeat(20_000)}x${'](a.png)'.repeat(20_000)}`;
  const { value, ms } = timed(() => findIllustrateTarget(text, 40_000));
  assert.equal(value?.kind, 'image');
  assert.ok(ms < BOUND_MS, `${ms.toFixed(1)} ms`);
});

test('findImages over a whole hostile document is linear', () => {
  for (const unit of ['![', '![a](', '![a][']) {
    const text = unit.repeat(Math.ceil(80_000 / unit.length));
    const { ms } = timed(() => findImages(text));
    assert.ok(ms < BOUND_MS * 2, `${unit}: ${ms.toFixed(1)} ms`);
  }
});
