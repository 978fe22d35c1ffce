import * as vscode from 'vscode';
import { metadataUri } from '../documents/metadataDocuments';
import type { Services } from '../services';
import { isResourceNode, type ResourceNode } from '../tree/nodes/resourceNode';
import { selectionOf } from './selection';

export function metadataUriOf(node: ResourceNode): vscode.Uri {
  const connection = node.connection;
  return metadataUri(
    { connectionId: connection.id, ...node.target, partition: node.client.partition },
    connection.name,
    `${node.title} (${node.level} metadata)`,
  );
}

/** `dicomweb.node.openMetadata`: WADO-RS metadata as a read-only JSON document. */
export async function openMetadata(
  _services: Services,
  node: unknown,
  nodes?: unknown[],
): Promise<vscode.TextEditor[]> {
  const editors: vscode.TextEditor[] = [];
  for (const item of selectionOf(node, nodes, isResourceNode)) {
    const document = await vscode.workspace.openTextDocument(metadataUriOf(item));
    if (document.languageId !== 'json')
      await vscode.languages.setTextDocumentLanguage(document, 'json');
    editors.push(await vscode.window.showTextDocument(document, { preview: false }));
  }
  return editors;
}

/** `dicomweb.node.compareMetadata`: two selected nodes side by side in the diff editor. */
export async function compareMetadata(
  _services: Services,
  node: unknown,
  nodes?: unknown[],
): Promise<void> {
  const items = selectionOf(node, nodes, isResourceNode);
  if (items.length !== 2) {
    void vscode.window.showInformationMessage(
      'Select exactly two studies, series or instances to compare their metadata.',
    );
    return;
  }
  const [left, right] = items;
  await vscode.commands.executeCommand(
    'vscode.diff',
    metadataUriOf(left),
    metadataUriOf(right),
    `${left.title} ↔ ${right.title}`,
  );
}
