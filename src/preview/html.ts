/**
 * The preview webview's HTML and Content Security Policy, in one place (never pasted per
 * panel). `default-src 'none'`; scripts only with this page's nonce, loaded from
 * `asWebviewUri` under `localResourceRoots`; styles and fonts only from the extension;
 * `'wasm-unsafe-eval'` because the JPEG, JPEG-LS and JPEG 2000 codecs are WebAssembly
 * (compiling a module needs it; nothing else does). No remote origin, no `connect-src`:
 * frames and codec binaries arrive by message from the extension host.
 */
import { randomBytes } from 'node:crypto';

export interface PreviewHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** asWebviewUri of dist/webview/preview.js */
  scriptUri: string;
  /** asWebviewUri of media/preview.css */
  styleUri: string;
  /** A second stylesheet (the editor's media/editor.css). */
  extraStyleUri?: string;
  /** `preview`: the viewer alone; `editor`: the tag table beside the viewer. */
  layout?: 'preview' | 'editor';
  title: string;
  nonce?: string;
}

/** 128 random bits, base64: a fresh nonce for every page. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

/** The CSP of the preview page. */
export function previewCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}' 'wasm-unsafe-eval'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} blob:`,
  ].join('; ');
}

export function previewHtml(options: PreviewHtmlOptions): string {
  const nonce = options.nonce ?? makeNonce();
  const extraStyle = options.extraStyleUri
    ? `\n<link rel="stylesheet" href="${escapeAttribute(options.extraStyleUri)}" nonce="${nonce}">`
    : '';
  const viewer = `<div id="app" data-nonce="${nonce}">
  <div id="message" class="message" role="status">Loading…</div>
</div>`;
  const body =
    options.layout === 'editor'
      ? `<div id="editor" class="editor">\n<div id="tags" class="tags-pane"></div>\n${viewer}\n</div>`
      : viewer;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(previewCsp(options.cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttribute(options.styleUri)}" nonce="${nonce}">${extraStyle}
<title>${escapeText(options.title)}</title>
</head>
<body>
${body}
<script type="module" nonce="${nonce}" src="${escapeAttribute(options.scriptUri)}"></script>
</body>
</html>`;
}

function escapeAttribute(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/"/g, '&quot;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

function escapeText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
