/**
 * The rows a command acts on. What a row stands for (target, UID, title, connection, what
 * its delete question says) the row itself tells: see ResourceNode in
 * src/tree/nodes/resourceNode.ts.
 */

/** The selection a command acts on: the clicked node, or the multi-selection containing it. */
export function selectionOf<T>(
  node: unknown,
  nodes: unknown,
  accept: (value: unknown) => value is T,
): T[] {
  const all = Array.isArray(nodes) && nodes.length > 0 ? nodes : node !== undefined ? [node] : [];
  return all.filter(accept);
}
