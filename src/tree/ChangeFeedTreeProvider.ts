import type { ServerConnection } from '../config/serverConnection';
import type { DicomWebClient } from '../dicomweb/client';
import { ConnectionRowsProvider } from './ConnectionRowsProvider';
import { ChangeFeedNode } from './nodes/ChangeFeedNode';
import type { DicomWebNode, TreeContext } from './nodes/DicomWebNode';

/**
 * The "Change Feed" view: one row per connection whose profile serves a change feed (the
 * Azure DICOM service, the local server; ServerCapabilities.changeFeed: gated on the profile,
 * never on a URL alone), each listing its entries. Apart from the Servers view so that
 * following one feed never redraws the studies, and so that the view's visibility is what
 * starts and stops the polling.
 */
export class ChangeFeedTreeProvider extends ConnectionRowsProvider<ChangeFeedNode> {
  protected override listsConnection(connection: ServerConnection): boolean {
    return this.context.client(connection).serverProfile.capabilities.changeFeed;
  }

  protected createRow(connection: ServerConnection): ChangeFeedNode {
    return new ChangeFeedNode(this.treeContext, sourceOf(connection, this.context));
  }

  /** A connection that changed or went stops following. */
  protected override retire(row: ChangeFeedNode): void {
    row.stop();
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
