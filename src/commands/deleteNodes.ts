/**
 * `dicomweb.node.delete`: studies, series and instances, also a multi-selection. A modal
 * names exactly what goes (patient, description, counts); then the server profile's
 * delete runs for each confirmed item and nothing else, and the parents refresh.
 */
import * as vscode from 'vscode';
import type { Services } from '../services';
import type { DicomWebNode } from '../tree/nodes/DicomWebNode';
import { isResourceNode, type ResourceNode } from '../tree/nodes/resourceNode';
import { sentenceOf } from './registerCommand';
import { selectionOf } from './selection';

export interface DeleteResult {
  deleted: ResourceNode[];
  failed: Array<{ node: ResourceNode; error: unknown }>;
  confirmed: boolean;
}

export async function deleteNodes(
  services: Services,
  node: unknown,
  nodes?: unknown[],
): Promise<DeleteResult> {
  const selected = selectionOf(node, nodes, isResourceNode);
  // A series whose study is also selected goes with the study: one request, not two.
  const items = selected.filter((item) => !hasSelectedAncestor(item, selected));
  if (items.length === 0) return { deleted: [], failed: [], confirmed: false };

  const servers = [...new Set(items.map((item) => item.connection.name))];
  const message =
    items.length === 1
      ? `Delete ${items[0].summary} from "${servers[0]}"?`
      : `Delete these ${items.length} items from ${servers.map((name) => `"${name}"`).join(', ')}?`;
  const detail = [
    ...items.map((item) => `• ${item.deleteConfirmation()}`),
    '',
    'This cannot be undone.',
  ].join('\n');
  const confirmed = await services.prompts.confirm(message, detail, 'Delete');
  if (!confirmed) return { deleted: [], failed: [], confirmed: false };

  const deleted: ResourceNode[] = [];
  const failed: DeleteResult['failed'] = [];
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Deleting', cancellable: false },
      async (progress) => {
        for (const item of items) {
          progress.report({ message: item.summary, increment: 100 / items.length });
          try {
            await item.client.deleteResource(item.target);
            deleted.push(item);
            services.log.info(`[${item.connection.name}] deleted ${item.deleteConfirmation()}`);
          } catch (error) {
            failed.push({ node: item, error });
            services.log.error(
              `[${item.connection.name}] could not delete ${item.deleteConfirmation()}: ${sentenceOf(error)}`,
            );
          }
        }
      },
    );
  } finally {
    lowerParentCounts(deleted);
    for (const parent of new Set(items.map((item) => item.parent as DicomWebNode)))
      services.tree.refresh(parent);
  }
  if (failed.length > 0) {
    const choice = await vscode.window.showErrorMessage(
      `${failed.length} of ${items.length} could not be deleted: ${sentenceOf(failed[0].error)}`,
      'Show Log',
    );
    if (choice) services.log.show(true);
  } else {
    vscode.window.setStatusBarMessage(
      `Deleted ${items.length === 1 ? items[0].summary : `${items.length} items`}`,
      5000,
    );
  }
  return { deleted, failed, confirmed: true };
}

/**
 * The rows above what was deleted keep the counts the server sent when they were listed
 * (immutable rows); lower them by what went, so "3 instances" does not stay after one went.
 */
function lowerParentCounts(deleted: readonly ResourceNode[]): void {
  for (const item of deleted) item.deleted();
}

function hasSelectedAncestor(node: ResourceNode, selected: ResourceNode[]): boolean {
  for (let parent = node.parent as DicomWebNode | undefined; parent; parent = parent.parent) {
    if (selected.includes(parent as ResourceNode)) return true;
  }
  return false;
}
