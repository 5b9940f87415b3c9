import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStrength, RESIZE_MODE_LABELS } from '../../webview/inputImageValues';

test('the strength field takes a number from 0 to 1 and names what it got otherwise', () => {
  assert.deepEqual(['0', '0.75', ' 1 ', '.5'].map(parseStrength), [0, 0.75, 1, 0.5]);
  assert.deepEqual(['', '1.01', '-0', 'abc', 'NaN', '1e3'].map(parseStrength).map((r) => typeof r === 'string' ? r : `accepted ${r}`), [
    'Expected a number from 0 to 1, got “”.', 'Expected a number from 0 to 1, got “1.01”.', 'accepted 0',
    'Expected a number from 0 to 1, got “abc”.', 'Expected a number from 0 to 1, got “NaN”.', 'Expected a number from 0 to 1, got “1e3”.',
  ]);
});

test('the resize modes carry A1111\'s names in its order', () => {
  assert.deepEqual(RESIZE_MODE_LABELS, [['just', 'Just resize'], ['crop', 'Crop and resize'], ['fill', 'Resize and fill']]);
});
