import * as vscode from 'vscode';
import type { ConnectionStore } from '../config/connections';
import type { ServerConnection } from '../config/serverConnection';
import type { DicomWebClient } from '../dicomweb/client';
import { ChangeFeedNode } from './nodes/ChangeFeedNode';
import type { DicomWebNode, TreeContext } from './nodes/DicomWebNode';

/**
 * The "Change Feed" view: one row per connection whose profile serves a change feed (the
 * Azure DICOM service, the local server; ServerCapabilities.changeFeed: gated on the profile,
 * never on a URL alone), each listing its entries. Apart from the Servers view so that
 * following one feed never redraws the studies, and so that the view's visibility is what
 * starts and stops the polling.
 */
export class ChangeFeedTreeProvider
  implements vscode.TreeDataProvider<DicomWebNode>, vscode.Disposable
{
  private readonly changedEmitter = new vscode.EventEmitter<DicomWebNode | undefined>();
  readonly onDidChangeTreeData = this.changedEmitter.event;
  private rows = new Map<string, ChangeFeedNode>();
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

  resolveTreeItem(item: vscode.TreeItem, node: DicomWebNode): vscode.TreeItem {
    item.tooltip ??= node.tooltip();
    return item;
  }

  getParent(node: DicomWebNode): DicomWebNode | undefined {
    return node.parent;
  }

  async getChildren(node?: DicomWebNode): Promise<DicomWebNode[]> {
    if (node) return node.getChildren();
    const next = new Map<string, ChangeFeedNode>();
    for (const connection of this.connections.list()) {
      const client = this.context.client(connection);
      if (!client.serverProfile.capabilities.changeFeed) continue;
      const existing = this.rows.get(connection.id);
      next.set(
        connection.id,
        existing && JSON.stringify(existing.connection) === JSON.stringify(connection)
          ? existing
          : new ChangeFeedNode(this.treeContext, sourceOf(connection, this.context)),
      );
    }
    // A connection that changed or went stops following.
    for (const [id, row] of this.rows) if (next.get(id) !== row) row.stop();
    this.rows = next;
    return [...next.values()];
  }

  /** The feed rows as last listed. */
  feedRows(): ChangeFeedNode[] {
    return [...this.rows.values()];
  }

  feedRow(connectionId: string): ChangeFeedNode | undefined {
    return this.rows.get(connectionId);
  }

  refresh(node?: DicomWebNode): void {
    node = node?.refreshTarget();
    node?.reset();
    this.changedEmitter.fire(node);
  }

  dispose(): void {
    for (const row of this.rows.values()) row.stop();
    this.subscription.dispose();
    this.changedEmitter.dispose();
  }
}

/** The connection with its client, built on first use (as the Servers view does). */
function sourceOf(
  connection: ServerConnection,
  context: Omit<TreeContext, 'changed'>,
): { connection: ServerConnection; readonly client: DicomWebClient } {
  return {
    connection,
    get client() {
      return context.client(connection);
    },
  };
}
