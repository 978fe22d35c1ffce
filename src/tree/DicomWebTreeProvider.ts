import * as vscode from 'vscode';
import type { ServerConnection } from '../config/serverConnection';
import { ConnectionRowsProvider } from './ConnectionRowsProvider';
import type { DicomWebNode } from './nodes/DicomWebNode';
import { escape } from './nodes/markdown';
import { ServerNode } from './nodes/ServerNode';

/**
 * The "DICOMweb" view: connection → studies → series → instances. Server nodes are kept
 * across redraws so loaded pages survive; a refresh resets only the node it is asked for.
 */
export class DicomWebTreeProvider extends ConnectionRowsProvider<ServerNode> {
  protected createRow(connection: ServerConnection, all: readonly ServerConnection[]): ServerNode {
    return new ServerNode(this.treeContext, connection, all.length === 1);
  }

  /** Tooltips are built on hover only (see DicomWebNode.tooltip), thumbnails too. */
  override async resolveTreeItem(
    item: vscode.TreeItem,
    node: DicomWebNode,
    token: vscode.CancellationToken,
  ): Promise<vscode.TreeItem> {
    item.tooltip ??= node.tooltip();
    if (node.pinned && item.tooltip instanceof vscode.MarkdownString) {
      // Once: the item is built once for an immutable row and resolved at each hover.
      if (!item.tooltip.value.includes(node.pinned))
        item.tooltip.appendMarkdown(
          `\n\n*${escape(node.pinned)} "Dismiss" or a refresh takes it away.*`,
        );
    }
    if (item.tooltip instanceof vscode.MarkdownString)
      await this.context.decorateTooltip?.(item.tooltip, node, token);
    return item;
  }

  /** The server nodes as last listed. */
  serverNodes(): ServerNode[] {
    return [...this.rows.values()];
  }

  serverNode(connectionId: string): ServerNode | undefined {
    return this.rows.get(connectionId);
  }

  /** Queries a node (or every connection) again. */
  refresh(node?: DicomWebNode): void {
    node = node?.refreshTarget();
    if (!node) {
      for (const server of this.rows.values()) server.reset();
      this.changedEmitter.fire(undefined);
      return;
    }
    node.reset();
    this.changedEmitter.fire(node);
  }

  async loadMore(node?: DicomWebNode): Promise<void> {
    await node?.loadMore();
  }
}
