/**
 * The WASM codecs as the imaging webviews get them (the preview and the thumbnails grid): each
 * codec's script by a webview URI in the page's init message, its .wasm binary by message when
 * the page asks (`requestCodec`), read here from dist/codecs/ like every other byte the page
 * gets. A missing binary is logged and answered with an empty one, so the page reports that
 * codec as unavailable instead of waiting for it.
 */
import * as vscode from 'vscode';
import { CODEC_FILES } from '../imaging/decode/codecs';
import type { CodecName } from '../imaging/types';
import type { CodecMessage } from '../../webview/protocol';
import { redactUrlsIn } from '../dicomweb/transport/errors';

function codecUri(extensionUri: vscode.Uri, file: string): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'dist', 'codecs', file);
}

/** Every codec's script as a URI `webview` may load (for the init message's `codecScripts`). */
export function codecScriptUris(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
): Record<CodecName, string> {
  const scripts = {} as Record<CodecName, string>;
  for (const [name, files] of Object.entries(CODEC_FILES) as Array<
    [CodecName, (typeof CODEC_FILES)[CodecName]]
  >)
    scripts[name] = webview.asWebviewUri(codecUri(extensionUri, files.script)).toString();
  return scripts;
}

/**
 * The answer to a page's `requestCodec`: the binary, or an empty one when it cannot be read
 * (logged, prefixed with `who`).
 */
export async function codecMessage(
  name: CodecName,
  extensionUri: vscode.Uri,
  log: vscode.LogOutputChannel,
  who: string,
): Promise<CodecMessage> {
  const uri = codecUri(extensionUri, CODEC_FILES[name].wasm);
  try {
    const wasm = await vscode.workspace.fs.readFile(uri);
    return { type: 'codec', name, wasm: messageBytes(wasm) };
  } catch (error) {
    log.error(`${who}: codec ${name} missing at ${uri.fsPath}: ${messageOf(error)}`);
    return { type: 'codec', name, wasm: new Uint8Array() };
  }
}

/**
 * Bytes the webview can receive. VS Code serializes a webview message with JSON.stringify
 * and passes only plain typed arrays as binary (by their constructor's name), so a Node
 * Buffer (what undici and workspace.fs give) arrives as `{ type: 'Buffer', data: [...] }`
 * through Buffer#toJSON; and a view is sent with its whole ArrayBuffer (for a pooled Buffer,
 * other requests' bytes). A plain Uint8Array that owns exactly these bytes.
 */
export function messageBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) {
    return bytes.constructor === Uint8Array
      ? bytes
      : new Uint8Array(bytes.buffer, 0, bytes.byteLength);
  }
  return new Uint8Array(bytes);
}

/** An error's text for the log and the webview: never a URL's user info (issue 10, finding 4c). */
export function messageOf(error: unknown): string {
  return redactUrlsIn(error instanceof Error ? error.message : String(error));
}
