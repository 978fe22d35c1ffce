import * as vscode from 'vscode';
import { LOCAL_CONNECTION_ID } from '../localServerHost/LocalServerManager';
import type { Services } from '../services';

/**
 * `dicomweb.localServer.start`: starts the local DICOMweb server (in the default folder or
 * `folder`) and shows its connection opened in the tree.
 */
export async function startLocalServer(services: Services, folder?: string): Promise<string> {
  const server = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: 'Starting the local DICOMweb server' },
    () => services.localServer.start(folder),
  );
  const url = services.localServer.serviceUrl(server);
  // The tree lists the new connection on its next read; then show it opened.
  await services.tree.getChildren();
  const node = services.tree.serverNode(LOCAL_CONNECTION_ID);
  if (node) await services.treeView.reveal(node, { expand: true }).then(undefined, () => undefined);
  vscode.window.setStatusBarMessage(`Local DICOMweb server: ${url}`, 5000);
  return url;
}
