import * as vscode from 'vscode';
import type { ConnectionStore } from '../config/connections';
import type { ServerConnection } from '../config/serverConnection';
import type { DicomWebNode, TreeContext } from './nodes/DicomWebNode';

/** A top-level row: one per connection, remembering the connection it was built for. */
export type ConnectionRow = DicomWebNode & { readonly connection: ServerConnection };

/**
 * What the "DICOMweb" and "Change Feed" views share: one top-level row per connection, kept
 * across redraws while its connection is unchanged (loaded pages, a running follow survive),
 * a redraw when the connections change, and the change event rows fire through
 * TreeContext.changed. Each view says which connections it lists and how it builds a row.
 */
export abstract class ConnectionRowsProvider<Row extends ConnectionRow>
  implements vscode.TreeDataProvider<DicomWebNode>, vscode.Disposable
{
  protected readonly changedEmitter = new vscode.EventEmitter<DicomWebNode | undefined>();
  readonly onDidChangeTreeData = this.changedEmitter.event;
  protected rows = new Map<string, Row>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly connections: ConnectionStore,
    protected readonly context: Omit<TreeContext, 'changed'>,
  ) {
    this.subscription = connections.onDidChange(() => this.changedEmitter.fire(undefined));
  }

  protected get treeContext(): TreeContext {
    return { ...this.context, changed: (node) => this.changedEmitter.fire(node) };
  }

  /** Whether this view lists `connection` at all. */
  protected listsConnection(_connection: ServerConnection): boolean {
    return true;
  }

  /** A fresh row for `connection` (`all`: every connection listed this time). */
  protected abstract createRow(connection: ServerConnection, all: readonly ServerConnection[]): Row;

  /** A row no longer shown: its connection changed or went, or the view is disposed. */
  protected retire(_row: Row): void {}

  getTreeItem(node: DicomWebNode): vscode.TreeItem {
    return node.getTreeItem();
  }

  /** Tooltips are built on hover only (see DicomWebNode.tooltip). */
  resolveTreeItem(
    item: vscode.TreeItem,
    node: DicomWebNode,
    _token: vscode.CancellationToken,
  ): vscode.TreeItem | Promise<vscode.TreeItem> {
    item.tooltip ??= node.tooltip();
    return item;
  }

  getParent(node: DicomWebNode): DicomWebNode | undefined {
    return node.parent;
  }

  async getChildren(node?: DicomWebNode): Promise<DicomWebNode[]> {
    if (node) return node.getChildren();
    const next = new Map<string, Row>();
    const list = this.connections.list();
    for (const connection of list) {
      if (!this.listsConnection(connection)) continue;
      const existing = this.rows.get(connection.id);
      // A changed connection (URL, auth …) gets a fresh row: its loaded pages are stale.
      next.set(
        connection.id,
        existing && JSON.stringify(existing.connection) === JSON.stringify(connection)
          ? existing
          : this.createRow(connection, list),
      );
    }
    for (const [id, row] of this.rows) if (next.get(id) !== row) this.retire(row);
    this.rows = next;
    return [...next.values()];
  }

  dispose(): void {
    for (const row of this.rows.values()) this.retire(row);
    this.subscription.dispose();
    this.changedEmitter.dispose();
  }
}
