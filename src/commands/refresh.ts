import type { Services } from '../services';
import type { DicomWebNode } from '../tree/nodes/DicomWebNode';

/**
 * `dicomweb.tree.refresh` (everything) and `dicomweb.node.refresh` (one node, also the error rows'
 * retry).
 */
export function refresh(services: Services, node?: DicomWebNode): void {
  services.tree.refresh(node);
}

/** `dicomweb.node.loadMore`: the next QIDO page of a node. */
export async function loadMore(services: Services, node?: DicomWebNode): Promise<void> {
  await services.tree.loadMore(node);
}
