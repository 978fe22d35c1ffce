/**
 * The WebAssembly codecs (JPEG baseline/extended: libjpeg-turbo, JPEG-LS: CharLS, JPEG 2000:
 * OpenJPEG, HTJ2K: OpenJPH) in the notebook's output webview, loaded as the preview loads
 * them (webview/preview/codecLoader.ts: the emscripten script by a `<script>` element, the
 * wasm bytes handed to the factory) but from where the renderer itself was loaded: VS Code
 * imports the renderer from its URI in the extension (dist/webview/notebookRenderer.js), and
 * the codecs the build copies sit beside it in dist/codecs/. The output webview may load
 * them: its local resource roots include the extension of a notebook type's provider (ours),
 * and it has no CSP unless `notebook.experimental.enableCsp`, whose policy still allows
 * scripts from the webview's resource origin, `'unsafe-eval'` (so WebAssembly compiles) and
 * `connect-src https:` (the resource origin) — code-server 4.139.1, backLayerWebView.
 * No `<script nonce>` of ours exists there, and none is needed.
 */
import type { CodecName } from '../protocol';
import { CODEC_FILES } from '../../src/imaging/decode/codecs';

/** A codec's script and wasm URLs, resolved against the renderer's own URL. */
export function codecUrls(name: CodecName, rendererUrl: string): { script: string; wasm: string } {
  const files = CODEC_FILES[name];
  return {
    script: new URL(`../codecs/${files.script}`, rendererUrl).href,
    wasm: new URL(`../codecs/${files.wasm}`, rendererUrl).href,
  };
}
