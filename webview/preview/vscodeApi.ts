/**
 * The page's one way out: messages to the extension (webview/protocol.ts `FromWebview`).
 * VS Code's `acquireVsCodeApi` may be called once per page, so only main.ts calls
 * {@link connectToExtension}; every module that posts gets the {@link Post} function.
 */
import type { FromWebview } from '../protocol';

/** Posts one message to the extension side of the panel (src/preview/PreviewPanel.ts). */
export type Post = (message: FromWebview) => void;

interface VsCodeApi {
  postMessage(message: FromWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export function connectToExtension(): Post {
  const vscodeApi = acquireVsCodeApi();
  return (message) => vscodeApi.postMessage(message);
}
