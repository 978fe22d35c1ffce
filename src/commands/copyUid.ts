import * as vscode from 'vscode';
import { isResourceNode } from '../tree/nodes/resourceNode';
import { selectionOf } from './selection';

/** `dicomweb.node.copyUid`: the UID of the node (one per line for a multi-selection). */
export async function copyUid(node: unknown, nodes?: unknown[]): Promise<string> {
  const text = selectionOf(node, nodes, isResourceNode)
    .map((item) => item.uid)
    .join('\n');
  await vscode.env.clipboard.writeText(text);
  vscode.window.setStatusBarMessage(`Copied ${text.includes('\n') ? 'UIDs' : text}`, 3000);
  return text;
}
