/**
 * The extension's side of its notebook renderer's messages (webview/notebook/renderer.ts):
 * a click on a search row's "Show" posts `{ type: 'reveal', connectionId, uid }`, and the row
 * is found and selected in the DICOMweb tree on the connection the cell ran on
 * (`dicomweb.findByUid`, src/commands/findByUid.ts). VS Code's output webview would not run
 * that command from a `command:` link in the HTML (it runs only its own short list), hence
 * createRendererMessaging. A message is checked before anything runs: the output webview
 * shows a server's answer, so what it posts is not trusted.
 */
import * as vscode from 'vscode';
import { isRevealMessage } from '../notebook/searchOutput';

/** package.json's contributes.notebookRenderer id. */
export const RENDERER_ID = 'dicomweb-explorer.renderer';

/** Runs a message as the renderer's listener does; resolves when the reveal is done. */
export type RendererMessageHandler = (message: unknown) => Promise<void>;

export function rendererMessageHandler(log: vscode.LogOutputChannel): RendererMessageHandler {
  return async (message) => {
    if (!isRevealMessage(message)) {
      log.warn('Notebook renderer: a message that is not a reveal of a UID was ignored.');
      return;
    }
    // findByUid says itself what it did not find; an error here is the command's own.
    try {
      await vscode.commands.executeCommand('dicomweb.findByUid', message.connectionId, message.uid);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      log.error(`Notebook renderer: showing ${message.uid} in the tree failed: ${text}`);
      void vscode.window.showErrorMessage(`Could not show ${message.uid} in the tree: ${text}`);
    }
  };
}

/** Listens to the renderer; `handler` is also what the extension's API gives the tests. */
export function listenToRenderer(handler: RendererMessageHandler): vscode.Disposable {
  const messaging = vscode.notebooks.createRendererMessaging(RENDERER_ID);
  return messaging.onDidReceiveMessage(({ message }) => void handler(message));
}
