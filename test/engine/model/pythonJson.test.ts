import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { JsonSyntaxError, parsePythonJson } from '../../../src/common/pythonJson';

const CORPUS = path.resolve(__dirname, '../../../../shared/data/real-configs');

function jsonFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? jsonFiles(p) : e.name.endsWith('.json') ? [p] : [];
  });
}

test("NaN, Infinity and -Infinity are numbers, as Python's json reads them", () => {
  assert.deepEqual(parsePythonJson('{"a": NaN, "b": Infinity, "c": -Infinity, "d": [NaN, -Infinity, 1e-3]}'),
    { a: NaN, b: Infinity, c: -Infinity, d: [NaN, -Infinity, 0.001] });
  assert.equal(parsePythonJson('-Infinity'), -Infinity);
  assert.deepEqual(parsePythonJson('\r\n{"lambda_min_clipped":\r\n -Infinity}\r\n'), { lambda_min_clipped: -Infinity });
});

test('the tokens inside strings stay text, escapes and all', () => {
  assert.deepEqual(parsePythonJson('{"NaN": "NaN", "s": "x -Infinity \\"Infinity\\" NaN", "n": -Infinity, "u": "\\u00e9\\ud83d\\ude00\\n"}'),
    { NaN: 'NaN', s: 'x -Infinity "Infinity" NaN', n: -Infinity, u: 'é😀\n' });
  assert.deepEqual(parsePythonJson('["-Infinity", NaN]'), ['-Infinity', NaN]);
  const obj = parsePythonJson('{"__proto__": 1, "a": NaN, "a": 2}') as Record<string, unknown>;
  assert.deepEqual(Object.keys(obj), ['__proto__', 'a']);
  assert.equal(obj.a, 2);
});

test('what Python rejects is rejected, with its reason, line, column and character (counted in code points)', () => {
  const cases: Array<[string, string]> = [
    ['', 'Expecting value: line 1 column 1 (char 0)'],
    ['{"a": nan}', 'Expecting value: line 1 column 7 (char 6)'],
    ['{"a": -NaN}', 'Expecting value: line 1 column 7 (char 6)'],
    ['{"a": +Infinity}', 'Expecting value: line 1 column 7 (char 6)'],
    ['{"a": 1,}', 'Expecting property name enclosed in double quotes: line 1 column 9 (char 8)'],
    ['[NaN,]', 'Expecting value: line 1 column 6 (char 5)'],
    ['{"😀": NaN x}', "Expecting ',' delimiter: line 1 column 11 (char 10)"],
    ['{"a"\n  NaN}', "Expecting ':' delimiter: line 2 column 3 (char 7)"],
    ['[Infinity] x', 'Extra data: line 1 column 12 (char 11)'],
    ['{"a": "x\\qy", "b": NaN}', 'Invalid \\escape: line 1 column 9 (char 8)'],
    ['["a\nb", NaN]', 'Invalid control character at: line 1 column 4 (char 3)'],
    ['[NaN, "abc', 'Unterminated string starting at: line 1 column 7 (char 6)'],
    ['\ufeff{}', 'Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)'],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parsePythonJson(text), (e: unknown) => e instanceof JsonSyntaxError && e.message === message, JSON.stringify(text));
  }
});

test('every JSON file of the real config corpus reads as Python read it; the vandalised one fails where Python says', () => {
  const files = jsonFiles(CORPUS);
  assert.ok(files.length >= 325, `${files.length} files`);
  const minusInfinity: string[] = [];
  for (const file of files) {
    const rel = path.relative(CORPUS, file);
    if (rel.startsWith('05-')) {
      assert.throws(() => parsePythonJson(fs.readFileSync(file, 'utf8')),
        { message: 'Expecting property name enclosed in double quotes: line 3 column 33 (char 68)' });
      continue;
    }
    const value = parsePythonJson(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    if (value.lambda_min_clipped === -Infinity) minusInfinity.push(rel.split(path.sep)[0]);
  }
  assert.deepEqual(minusInfinity.sort(), ['03-sd15-runwayml-pr205-dpmpp', '04-sd15-runwayml-pr178-dpmpp', '35-ootd-handfit-dpmpp-karras']);
});
