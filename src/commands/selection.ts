import type { ServerConnection } from '../config/connections';
import type { DicomWebClient } from '../dicomweb/client';
import type { InstancePath } from '../dicomweb/requests';
import type { DicomWebNode } from '../tree/nodes/DicomWebNode';
import { InstanceNode } from '../tree/nodes/InstanceNode';
import { SeriesNode } from '../tree/nodes/SeriesNode';
import { ServerNode } from '../tree/nodes/ServerNode';
import { StudyNode } from '../tree/nodes/StudyNode';

export type ResourceNode = StudyNode | SeriesNode | InstanceNode;

export function isResourceNode(node: unknown): node is ResourceNode {
  return node instanceof StudyNode || node instanceof SeriesNode || node instanceof InstanceNode;
}

export function serverOf(node: DicomWebNode): ServerNode {
  for (let current: DicomWebNode | undefined = node; current; current = current.parent) {
    if (current instanceof ServerNode) return current;
  }
  throw new Error('This item does not belong to a DICOMweb server.');
}

export function connectionOf(node: DicomWebNode): ServerConnection {
  return serverOf(node).connection;
}

export function clientOf(node: DicomWebNode): DicomWebClient {
  return serverOf(node).client;
}

export function targetOf(node: ResourceNode): InstancePath {
  if (node instanceof StudyNode) return { studyInstanceUid: node.studyInstanceUid };
  if (node instanceof SeriesNode)
    return {
      studyInstanceUid: node.study.studyInstanceUid,
      seriesInstanceUid: node.seriesInstanceUid,
    };
  return node.target;
}

export function uidOf(node: ResourceNode): string {
  if (node instanceof StudyNode) return node.studyInstanceUid;
  if (node instanceof SeriesNode) return node.seriesInstanceUid;
  return node.sopInstanceUid;
}

/** A title a person can read: "Test, Shapes — study", "… — series #1 OT", "… — instance 2". */
export function titleOf(node: ResourceNode): string {
  if (node instanceof StudyNode)
    return `${node.patientName}${node.description ? ` — ${node.description}` : ''}`;
  if (node instanceof SeriesNode) {
    return `${node.study.patientName} — series ${node.seriesNumber ?? ''} ${node.modality}${node.description ? ` ${node.description}` : ''}`.replace(
      /\s+/g,
      ' ',
    );
  }
  const series = node.series;
  return `${series.study.patientName} — series ${series.seriesNumber ?? ''} — instance ${node.instanceNumber ?? node.sopInstanceUid}`.replace(
    /\s+/g,
    ' ',
  );
}

/** The selection a command acts on: the clicked node, or the multi-selection containing it. */
export function selectionOf<T>(
  node: unknown,
  nodes: unknown,
  accept: (value: unknown) => value is T,
): T[] {
  const all = Array.isArray(nodes) && nodes.length > 0 ? nodes : node !== undefined ? [node] : [];
  return all.filter(accept);
}
