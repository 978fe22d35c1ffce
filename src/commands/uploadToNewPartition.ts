/**
 * `dicomweb.partition.uploadToNew`: "Upload to a New Partition…" on a server whose service
 * has data partitions on. The service creates a partition at its first store (Azure DICOM
 * service, "Enable data partitioning": implicit creation on STOW), so a new partition is an
 * upload to `/partitions/{new name}/studies`; the name is asked first (or given by a test).
 */
import type * as vscode from 'vscode';
import { partitionNameProblem } from '../dicomweb/partitions';
import type { Services } from '../services';
import { askPartitionName } from '../tree/nodes/PartitionNode';
import type { ServerNode } from '../tree/nodes/ServerNode';
import { UserCancelled } from './registerCommand';
import { uploadUris, uploadWithPicker, type UploadResult } from './upload';

export async function uploadToNewPartition(
  services: Services,
  node: ServerNode | undefined,
  name?: string,
  uris?: vscode.Uri[],
): Promise<UploadResult | undefined> {
  if (!node) throw new UserCancelled();
  // The rows known so far: a name already taken is refused as the person types.
  await node.partitions.rows();
  const existing = node.partitions.listed.map((row) => row.partitionName);
  const chosen = name ?? (await askPartitionName(existing));
  if (chosen === undefined) throw new UserCancelled();
  const problem = partitionNameProblem(chosen);
  if (problem) throw new Error(`"${chosen.slice(0, 80)}": ${problem}`);
  const destination = node.partitions.newPartitionDestination(chosen);
  return uris && uris.length > 0
    ? uploadUris(services, uris, destination)
    : uploadWithPicker(services, destination);
}
