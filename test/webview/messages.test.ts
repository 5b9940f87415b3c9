import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isToWebview } from '../../webview/messages';

test('the webview takes every host message type, the folders\' new lists included, and nothing else', () => {
  assert.equal(isToWebview({ type: 'networks', networks: { loras: ['a'], embeddings: [] } }), true);
  assert.equal(isToWebview({ type: 'networks' }), true);
  assert.equal(isToWebview({ type: 'setup', setup: {} }), true);
  assert.equal(isToWebview({ type: 'constructor' }), false, 'not an inherited property');
  assert.equal(isToWebview({ type: 'bogus' }), false);
  assert.equal(isToWebview(null), false);
});
