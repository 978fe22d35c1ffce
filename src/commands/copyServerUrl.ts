import * as vscode from 'vscode';
import type { ServerNode } from '../tree/nodes/ServerNode';

/** `dicomweb.server.copyUrl` */
export async function copyServerUrl(node: ServerNode): Promise<string> {
  await vscode.env.clipboard.writeText(node.connection.url);
  vscode.window.setStatusBarMessage(`Copied ${node.connection.url}`, 3000);
  return node.connection.url;
}
