import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentSecurityPolicy, createNonce, escapeHtml, renderPanelHtml, renderWebviewPage } from '../../src/panel/panelHtml';

test('the CSP allows nothing by default, scripts only by nonce, images from the webview and data: URLs', () => {
  assert.equal(contentSecurityPolicy('https://x.vscode-cdn.net', 'N0nce'),
    "default-src 'none'; img-src https://x.vscode-cdn.net data:; style-src https://x.vscode-cdn.net 'nonce-N0nce'; font-src https://x.vscode-cdn.net; script-src 'nonce-N0nce'");
});

test('nonces are 24 base64 characters from crypto and differ each time', () => {
  const nonces = new Set(Array.from({ length: 50 }, () => createNonce()));
  assert.equal(nonces.size, 50);
  for (const n of nonces) assert.match(n, /^[A-Za-z0-9+/]{24}$/);
});

test('initial data is escaped into a data- attribute; one script, carrying the nonce; no inline script or style', () => {
  const html = renderPanelHtml({
    cspSource: 'vscode-webview://abc', scriptUri: 'vscode-webview://abc/main.js', styleUri: 'vscode-webview://abc/main.css',
    nonce: 'abc123', initialJson: JSON.stringify({ prompt: '"><script>alert(1)</script>' }),
  });
  assert.ok(html.includes(`data-initial="${escapeHtml('{"prompt":"\\"><script>alert(1)</script>"}')}"`));
  assert.deepEqual(html.match(/<script[^>]*>/g), ['<script nonce="abc123" src="vscode-webview://abc/main.js">']);
  assert.equal(/<style|style="/.test(html), false);
  assert.ok(html.includes('<meta property="csp-nonce" content="abc123">'));
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
});

test('one page template serves every webview: the panel\'s is the shared one titled Generate Image', () => {
  const o = { cspSource: 'vscode-webview://abc', scriptUri: 's.js', styleUri: 's.css', nonce: 'n0', initialJson: 'null' };
  assert.equal(renderPanelHtml(o), renderWebviewPage({ ...o, title: 'Generate Image' }));
  assert.ok(renderWebviewPage({ ...o, title: 'Illustrate <a>.md' }).includes('<title>Illustrate &#60;a&#62;.md</title>'));
});
