/**
 * The HTML of this extension's smaller webviews (the review panel, the gallery): the Generate Image panel's CSP
 * (src/panel/panelHtml.ts), one script and one style sheet from dist/webview/, initial data in an escaped `data-`
 * attribute. No `vscode` import.
 */
import { contentSecurityPolicy, escapeHtml } from './panelHtml';

export interface WebviewPageOptions {
  readonly title: string;
  readonly cspSource: string;
  readonly nonce: string;
  readonly scriptUri: string;
  readonly styleUri: string;
  readonly initialJson: string;
}

export function renderWebviewPage(o: WebviewPageOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(o.cspSource, o.nonce))}">
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
