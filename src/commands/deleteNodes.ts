/**
 * `dicomweb.node.delete`: studies, series and instances, also a multi-selection. A modal
 * names exactly what goes (patient, description, counts); then the server profile's
 * delete runs for each confirmed item and nothing else, and the parents refresh.
 */
import * as vscode from 'vscode';
import { sopClassName } from '../dicom/uids';
import type { Services } from '../services';
import type { DicomWebNode } from '../tree/nodes/DicomWebNode';
import { InstanceNode } from '../tree/nodes/InstanceNode';
import { SeriesNode } from '../tree/nodes/SeriesNode';
import { StudyNode, counts } from '../tree/nodes/StudyNode';
import {
  clientOf,
  connectionOf,
  isResourceNode,
  selectionOf,
  targetOf,
  type ResourceNode,
} from './nodeTargets';
import { sentenceOf } from './registerCommand';

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

  const servers = [...new Set(items.map((item) => connectionOf(item).name))];
  const message =
    items.length === 1
      ? `Delete ${summaryOf(items[0])} from "${servers[0]}"?`
      : `Delete these ${items.length} items from ${servers.map((name) => `"${name}"`).join(', ')}?`;
  const detail = [
    ...items.map((item) => `• ${describeForConfirmation(item)}`),
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
          progress.report({ message: summaryOf(item), increment: 100 / items.length });
          try {
            await clientOf(item).deleteResource(targetOf(item));
            deleted.push(item);
            services.log.info(
              `[${connectionOf(item).name}] deleted ${describeForConfirmation(item)}`,
            );
          } catch (error) {
            failed.push({ node: item, error });
            services.log.error(
              `[${connectionOf(item).name}] could not delete ${describeForConfirmation(item)}: ${sentenceOf(error)}`,
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
      `Deleted ${items.length === 1 ? summaryOf(items[0]) : `${items.length} items`}`,
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
  for (const item of deleted) {
    if (item instanceof InstanceNode) item.series.instancesRemoved(1);
    else if (item instanceof SeriesNode) item.study.contentRemoved(1, item.instanceCount ?? 0);
  }
}

function hasSelectedAncestor(node: ResourceNode, selected: ResourceNode[]): boolean {
  for (let parent = node.parent as DicomWebNode | undefined; parent; parent = parent.parent) {
    if (selected.includes(parent as ResourceNode)) return true;
  }
  return false;
}

function summaryOf(node: ResourceNode): string {
  if (node instanceof StudyNode)
    return `the study "${node.description || node.studyInstanceUid}" of ${node.patientName}`;
  if (node instanceof SeriesNode)
    return `series ${node.seriesNumber ?? ''} ${node.modality}${node.description ? ` "${node.description}"` : ''}`.replace(
      /\s+/g,
      ' ',
    );
  return `instance ${node.instanceNumber ?? node.sopInstanceUid}`;
}

/** One line per item naming patient, description and counts, so nobody deletes blind. */
export function describeForConfirmation(node: ResourceNode): string {
  if (node instanceof StudyNode) {
    const content = [
      counts(node.seriesCount, 'series', 'series'),
      counts(node.instanceCount, 'instance', 'instances'),
    ]
      .filter(Boolean)
      .join(', ');
    return `Study "${node.description || '(no description)'}" of patient ${node.patientName}${content ? ` — ${content}` : ''} (StudyInstanceUID ${node.studyInstanceUid})`;
  }
  if (node instanceof SeriesNode) {
    const content = counts(node.instanceCount, 'instance', 'instances');
    return `Series ${node.seriesNumber ?? ''} ${node.modality} "${node.description || '(no description)'}"${content ? ` — ${content}` : ''} of study "${node.study.description}" of patient ${node.study.patientName} (SeriesInstanceUID ${node.seriesInstanceUid})`.replace(
      / +/g,
      ' ',
    );
  }
  const instance = node as InstanceNode;
  return `Instance ${instance.instanceNumber ?? ''} (${sopClassName(instance.sopClassUid)}) of series ${instance.series.seriesNumber ?? ''} "${instance.series.description}" of patient ${instance.series.study.patientName} (SOPInstanceUID ${instance.sopInstanceUid})`.replace(
    / +/g,
    ' ',
  );
}
