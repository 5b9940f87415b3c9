/**
 * The HTML of this extension's webviews (the Generate Image panel, the review panel, the gallery): strict CSP (default-src 'none'; scripts only by nonce; images from the webview's
 * own resources and data: URLs), local resources only, initial data in an escaped `data-` attribute. No `vscode`.
 */
import * as crypto from 'node:crypto';

export interface PanelHtmlOptions {
  /** webview.cspSource */
  readonly cspSource: string;
  /** webview.asWebviewUri of dist/webview/main.js and main.css */
  readonly scriptUri: string;
  readonly styleUri: string;
  readonly nonce: string;
  /** JSON for the webview's first render (setup), read from `data-initial`. */
  readonly initialJson: string;
}

/** A nonce from crypto.randomBytes (never Math.random). */
export function createNonce(): string {
  return crypto.randomBytes(18).toString('base64');
}

/** Escapes text for an HTML attribute value in double quotes (and for element text). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    // FAST (under the toolkit) probes :focus-visible with a <style> carrying the csp-nonce meta's nonce
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export interface WebviewPageOptions extends PanelHtmlOptions {
  readonly title: string;
}

/**
 * Every webview page of this extension (the Generate Image panel, the review panel, the gallery): the CSP above,
 * one script and one style sheet from dist/webview/, initial data in an escaped `data-` attribute.
 */
export function renderWebviewPage(o: WebviewPageOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(o.cspSource, o.nonce))}">
<meta property="csp-nonce" content="${escapeHtml(o.nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}">
<title>${escapeHtml(o.title)}</title>
</head>
<body>
<main id="app" data-initial="${escapeHtml(o.initialJson)}" aria-busy="true"><p class="loading">Loading…</p></main>
<script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>`;
}

/** The Generate Image panel's page. */
export function renderPanelHtml(o: PanelHtmlOptions): string {
  return renderWebviewPage({ ...o, title: 'Generate Image' });
}
