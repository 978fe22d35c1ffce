import * as vscode from 'vscode';
import { isResourceNode, selectionOf, uidOf } from './nodeTargets';

/** `dicomweb.node.copyUid`: the UID of the node (one per line for a multi-selection). */
export async function copyUid(node: unknown, nodes?: unknown[]): Promise<string> {
  const text = selectionOf(node, nodes, isResourceNode).map(uidOf).join('\n');
  await vscode.env.clipboard.writeText(text);
  vscode.window.setStatusBarMessage(`Copied ${text.includes('\n') ? 'UIDs' : text}`, 3000);
  return text;
}
