import * as vscode from 'vscode';
import { redactUrl } from '../dicomweb/transport/errors';
import type { ServerNode } from '../tree/nodes/ServerNode';

/** `dicomweb.server.copyUrl` */
export async function copyServerUrl(node: ServerNode): Promise<string> {
  // Never user info (ConnectionStore strips it already; this holds for any other caller).
  const url = redactUrl(node.connection.url);
  await vscode.env.clipboard.writeText(url);
  vscode.window.setStatusBarMessage(`Copied ${url}`, 3000);
  return url;
}
