import * as vscode from 'vscode';
import type { ConnectionStore } from '../config/connections';
import type { DicomWebNode, TreeContext } from './nodes/DicomWebNode';
import { escape } from './nodes/markdown';
import { ServerNode } from './nodes/ServerNode';

/**
 * The "DICOMweb" view: connection → studies → series → instances. Server nodes are kept
 * across redraws so loaded pages survive; a refresh resets only the node it is asked for.
 */
export class DicomWebTreeProvider
  implements vscode.TreeDataProvider<DicomWebNode>, vscode.Disposable
{
  private readonly changedEmitter = new vscode.EventEmitter<DicomWebNode | undefined>();
  readonly onDidChangeTreeData = this.changedEmitter.event;
  private servers = new Map<string, ServerNode>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly connections: ConnectionStore,
    private readonly context: Omit<TreeContext, 'changed'>,
  ) {
    this.subscription = connections.onDidChange(() => this.changedEmitter.fire(undefined));
  }

  private get treeContext(): TreeContext {
    return { ...this.context, changed: (node) => this.changedEmitter.fire(node) };
  }

  getTreeItem(node: DicomWebNode): vscode.TreeItem {
    return node.getTreeItem();
  }

  /** Tooltips are built on hover only (see DicomWebNode.tooltip), thumbnails too. */
  async resolveTreeItem(
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

  getParent(node: DicomWebNode): DicomWebNode | undefined {
    return node.parent;
  }

  async getChildren(node?: DicomWebNode): Promise<DicomWebNode[]> {
    if (node) return node.getChildren();
    const next = new Map<string, ServerNode>();
    const list = this.connections.list();
    for (const connection of list) {
      const existing = this.servers.get(connection.id);
      // A changed connection (URL, auth …) gets a fresh node: its loaded pages are stale.
      next.set(
        connection.id,
        existing && JSON.stringify(existing.connection) === JSON.stringify(connection)
          ? existing
          : new ServerNode(this.treeContext, connection, list.length === 1),
      );
    }
    this.servers = next;
    return [...next.values()];
  }

  /** The server nodes as last listed. */
  serverNodes(): ServerNode[] {
    return [...this.servers.values()];
  }

  serverNode(connectionId: string): ServerNode | undefined {
    return this.servers.get(connectionId);
  }

  /** Queries a node (or every connection) again. */
  refresh(node?: DicomWebNode): void {
    node = node?.refreshTarget();
    if (!node) {
      for (const server of this.servers.values()) server.reset();
      this.changedEmitter.fire(undefined);
      return;
    }
    node.reset();
    this.changedEmitter.fire(node);
  }

  async loadMore(node?: DicomWebNode): Promise<void> {
    await node?.loadMore();
  }

  dispose(): void {
    this.subscription.dispose();
    this.changedEmitter.dispose();
  }
}
