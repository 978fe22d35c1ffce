import * as vscode from 'vscode';
import { readLocalDicomJson } from '../dicom/localFileJson';
import { Tag } from '../dicom/tags';
import { fileJsonUri } from '../documents/fileJsonDocuments';
import { metadataUri } from '../documents/metadataDocuments';
import type { Services } from '../services';
import type { DicomJsonDataset } from '../dicom/types';
import type { DicomWebClient } from '../dicomweb/client';
import { MAX_PARTITIONS_SEARCHED } from '../tree/nodes/PartitionNode';
import type { ServerNode } from '../tree/nodes/ServerNode';
import { dicomFileArgument } from './openFileAsJson';
import { pickServer } from './pickServer';

/** What the comparison found, for tests and other commands. */
export interface FileComparison {
  sopInstanceUid: string;
  server: string;
  left: vscode.Uri;
  right: vscode.Uri;
}

/**
 * `dicomweb.file.compareWithServer`: a local file beside the instance with the same SOP
 * Instance UID on a chosen connection, in the diff editor. The instance is found with QIDO-RS
 * (`/instances?SOPInstanceUID=`, PS3.18 §10.6), then its WADO-RS metadata is shown; both sides
 * are normalized the same way (formatMetadata's `compare`), so only real differences show.
 */
export async function compareFileWithServer(
  services: Services,
  uri: unknown,
  connectionId?: unknown,
): Promise<FileComparison> {
  const file = await dicomFileArgument(uri, 'Compare a DICOM file with a server');
  const { dataset } = await readLocalDicomJson(file.fsPath, { bulkDataBase: file.toString() });
  const sopInstanceUid = dataset[Tag.SOPInstanceUID]?.Value?.[0];
  if (typeof sopInstanceUid !== 'string' || !sopInstanceUid) {
    throw new Error(`${file.fsPath} has no SOP Instance UID (0008,0018) to look up.`);
  }
  if (typeof connectionId === 'string') await services.tree.getChildren();
  const server =
    typeof connectionId === 'string'
      ? services.tree.serverNode(connectionId)
      : await pickServer(services, `Compare ${sopInstanceUid} with the instance on…`);
  if (!server) throw new Error(`No configured connection has the id ${String(connectionId)}.`);
  const connection = server.connection;
  const { row, partition } = await findInstance(server, sopInstanceUid);
  const study = row?.[Tag.StudyInstanceUID]?.Value?.[0];
  const series = row?.[Tag.SeriesInstanceUID]?.Value?.[0];
  if (typeof study !== 'string' || typeof series !== 'string') {
    throw new Error(
      `SOP Instance UID ${sopInstanceUid} was not found on "${connection.name}" (${connection.url}): QIDO-RS /instances?SOPInstanceUID= matched nothing.`,
    );
  }
  const name = file.path.split('/').pop() ?? 'file';
  const left = fileJsonUri(file, { compare: true });
  const right = metadataUri(
    {
      connectionId: connection.id,
      studyInstanceUid: study,
      seriesInstanceUid: series,
      sopInstanceUid,
      partition,
      compare: true,
    },
    connection.name,
    `${name} on ${connection.name} (for comparison)`,
  );
  await vscode.commands.executeCommand('vscode.diff', left, right, `${name} ↔ ${connection.name}`);
  return { sopInstanceUid, server: connection.name, left, right };
}

/**
 * The instance's QIDO-RS row on the server, and with data partitions on the partition that
 * holds it: each partition is searched (a partitioned service answers `/instances` without one
 * with 400), at most MAX_PARTITIONS_SEARCHED of them, the first in key order that has it.
 */
async function findInstance(
  server: ServerNode,
  sopInstanceUid: string,
): Promise<{ row?: DicomJsonDataset; partition?: string }> {
  const search = async (client: DicomWebClient) =>
    (await client.searchForInstances({ match: { SOPInstanceUID: sopInstanceUid } })).items[0];
  await server.partitions.rows();
  if (!server.partitions.enabled) return { row: await search(server.client) };
  const partitions = server.partitions.listed.slice(0, MAX_PARTITIONS_SEARCHED);
  const rows = await Promise.all(partitions.map((partition) => search(partition.client)));
  const index = rows.findIndex((row) => row !== undefined);
  return index < 0 ? {} : { row: rows[index], partition: partitions[index]!.partitionName };
}
