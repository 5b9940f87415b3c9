import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promptSyntax } from '../../webview/promptSyntax';

const show = (prompt: string): string => promptSyntax(prompt).map((r) => (r.kind === 'text' ? r.text : `{${r.kind}:${r.text}}`)).join('');

test('emphasis brackets and weights, editing, alternation, BREAK, AND, escapes and tags each get their kind', () => {
  assert.equal(show('a (cat:1.2) [dog] [x:y:0.5] [r|g] BREAK b AND c \\(d\\) <lora:film:0.8>'),
    'a {bracket:(}cat{weight::1.2}{bracket:)} {bracket:[}dog{bracket:]} {editing:[}x{editing::}y{editing::0.5}{editing:]} '
    + '{alternation:[}r{alternation:|}g{alternation:]} {break:BREAK} b {and:AND} c {escape:\\(}d{escape:\\)} {extra-network:<lora:film:0.8>}');
});

test('an unclosed bracket and a closing one without its opening are marked unbalanced', () => {
  // Round and square brackets pair apart, as in A1111: the ( closes at the ), the [ at the first ].
  assert.equal(show('(a [b) c]]'), '{bracket:(}a {bracket:[}b{bracket:)} c{bracket:]}{unbalanced:]}');
  assert.equal(show('x) (y'), 'x{unbalanced:)} {unbalanced:(}y');
});

test('the runs give the prompt back; words containing BREAK or AND are text', () => {
  for (const p of ['', 'BREAKING ANDROID', 'a [b:c:d:3] (e:f) [g|h:1]', '日本 (猫:1.3)', 'tail \\']) {
    assert.equal(promptSyntax(p).map((r) => r.text).join(''), p);
  }
  assert.deepStrictEqual(promptSyntax('BREAKING ANDROID'), [{ text: 'BREAKING ANDROID', kind: 'text' }]);
});
