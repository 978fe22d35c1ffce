/**
 * WADO-RS metadata (PS3.18 §10.4.1.1.2) as read-only JSON documents with their own URI
 * scheme: `dicomweb-metadata:/{server}/{readable title}.json?{which resource}`. The `.json`
 * path makes VS Code pick the JSON language; the query says what to fetch.
 */
import * as vscode from 'vscode';
import type { ClientFactory } from '../config/clients';
import type { ConnectionStore } from '../config/connections';
import type { InstancePath } from '../dicomweb/requests';
import type { DicomJsonDataset } from '../dicom/types';

export const METADATA_SCHEME = 'dicomweb-metadata';

/** InlineBinary longer than this is replaced by its size: bulk data is not for reading. */
const MAX_INLINE_BINARY = 512;

export interface MetadataTarget extends InstancePath {
  connectionId: string;
  /** The data partition the resource is in (its rows' client names it), when partitions are on. */
  partition?: string;
  /** The normalized form a diff compares (see {@link formatMetadata}). */
  compare?: boolean;
}

export function metadataUri(target: MetadataTarget, serverName: string, title: string): vscode.Uri {
  const safe = (text: string): string =>
    text
      .replace(/[\\/:*?"<>|#%]+/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 120) || 'metadata';
  const query = new URLSearchParams({
    connection: target.connectionId,
    study: target.studyInstanceUid,
  });
  if (target.seriesInstanceUid) query.set('series', target.seriesInstanceUid);
  if (target.sopInstanceUid) query.set('instance', target.sopInstanceUid);
  if (target.partition) query.set('partition', target.partition);
  if (target.compare) query.set('compare', '1');
  return vscode.Uri.from({
    scheme: METADATA_SCHEME,
    path: `/${safe(serverName)}/${safe(title)}.json`,
    query: query.toString(),
  });
}

export function targetOf(uri: vscode.Uri): MetadataTarget {
  const query = new URLSearchParams(uri.query);
  return {
    connectionId: query.get('connection') ?? '',
    partition: query.get('partition') ?? undefined,
    compare: query.get('compare') === '1' || undefined,
    studyInstanceUid: query.get('study') ?? '',
    seriesInstanceUid: query.get('series') ?? undefined,
    sopInstanceUid: query.get('instance') ?? undefined,
  };
}

export class MetadataDocumentProvider
  implements vscode.TextDocumentContentProvider, vscode.Disposable
{
  private readonly changedEmitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changedEmitter.event;

  constructor(
    private readonly connections: ConnectionStore,
    private readonly clients: ClientFactory,
  ) {}

  async provideTextDocumentContent(
    uri: vscode.Uri,
    token: vscode.CancellationToken,
  ): Promise<string> {
    const target = targetOf(uri);
    const connection = this.connections.get(target.connectionId);
    if (!connection)
      return JSON.stringify({ error: 'This server is no longer configured.' }, null, 2);
    const controller = new AbortController();
    const subscription = token.onCancellationRequested(() => controller.abort());
    try {
      const service = this.clients.get(connection);
      // Under a data partition the resource is only at the partition's URL (Azure: 400 without).
      const client = target.partition ? service.forPartition(target.partition) : service;
      const datasets = await client.retrieveMetadata(target, { signal: controller.signal });
      return formatMetadata(datasets, { compare: target.compare });
    } finally {
      subscription.dispose();
    }
  }

  /** Fetches the document again (the "Refresh" of an open metadata editor). */
  refresh(uri: vscode.Uri): void {
    this.changedEmitter.fire(uri);
  }

  dispose(): void {
    this.changedEmitter.dispose();
  }
}

/** What a binary value reads as in the compared form: where bytes are kept differs by source. */
export const BINARY_NOT_COMPARED = '(binary value: not compared)';

/**
 * Pretty JSON of the datasets. Bulk data stays a BulkDataURI as the server sent it; long
 * InlineBinary values (servers that inline pixel data) become a short note of their size.
 * With `compare`, keys are sorted at every level and every BulkDataURI or InlineBinary
 * becomes {@link BINARY_NOT_COMPARED}: a file's and each server's bulk data URIs always
 * differ, and which values a server inlines is its own choice (PS3.18 §F.2.6, §F.2.7), so
 * only the attributes and their values show as differences.
 */
export function formatMetadata(
  datasets: DicomJsonDataset[],
  options: { compare?: boolean } = {},
): string {
  return JSON.stringify(
    options.compare ? datasets.map(normalizeForCompare) : datasets,
    (key, value: unknown) => {
      if (key === 'InlineBinary' && typeof value === 'string' && value.length > MAX_INLINE_BINARY) {
        return `(${Math.floor((value.length * 3) / 4)} bytes of base64 data not shown)`;
      }
      return value;
    },
    2,
  );
}

function normalizeForCompare(dataset: DicomJsonDataset): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  for (const tag of Object.keys(dataset).sort()) {
    const { vr, Value, BulkDataURI, InlineBinary } = dataset[tag]!;
    if (BulkDataURI !== undefined || InlineBinary !== undefined) {
      out[tag] = { vr, BulkDataURI: BINARY_NOT_COMPARED };
    } else if (vr === 'SQ' && Value) {
      out[tag] = { vr, Value: Value.map((item) => normalizeForCompare(item as DicomJsonDataset)) };
    } else {
      out[tag] = Value === undefined ? { vr } : { vr, Value };
    }
  }
  return out;
}
