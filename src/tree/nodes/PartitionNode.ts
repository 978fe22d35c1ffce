/**
 * Data partitions in the tree (the Azure DICOM service's, and the local server's with
 * `dicomweb.localServer.partitions`): a server whose service has them on lists its partitions
 * (`GET /partitions`), each a branch with the same studies, series and instances below. A
 * partition row is a server row for everything under it: its client is the connection's
 * client for that partition (src/dicomweb/partitions.ts), so search, retrieve, delete, upload
 * and Copy as cURL all carry `/partitions/{name}`. Without partitions the tree is as before.
 */
import * as vscode from 'vscode';
import type { ServerConnection } from '../../config/serverConnection';
import type { DicomWebClient } from '../../dicomweb/client';
import type { Located, LocateOutcome } from '../../dicomweb/locate';
import { partitionNameProblem, partitionOf, type PartitionEntry } from '../../dicomweb/partitions';
import { connectionUpserts } from '../../dicomweb/profiles/upsert';
import { describeFilter, isEmptyFilter, type StudyFilter } from '../filter';
import {
  ContextValue,
  type DicomWebNode,
  MessageNode,
  PagedNode,
  type ServerHandle,
  type TreeContext,
  type UploadDestination,
} from './DicomWebNode';
import { escape } from './markdown';
import type { ResourceNode } from './resourceNode';
import type { StudyNode } from './StudyNode';
import { placeFound, studiesPage } from './studyRows';

/**
 * Partitions "Find by UID…" searches on one server: each costs up to three QIDO requests, all
 * sent at once; a service with more partitions than this is searched in its first ones (and
 * the answer says how many were left).
 */
export const MAX_PARTITIONS_SEARCHED = 32;

/** The context value of a partition row (menus: `viewItem =~ /^dicomweb:partition\b/`). */
export const PARTITION_CONTEXT = 'dicomweb:partition';

/** What a partition row needs of its server row. */
export interface PartitionHost extends ServerHandle {
  readonly id: string;
  readonly filter: StudyFilter | undefined;
}

/** One partition of a server: its studies, a page at a time, through the partition's client. */
export class PartitionNode extends PagedNode<StudyNode> implements ServerHandle {
  readonly id: string;

  constructor(
    context: TreeContext,
    readonly parent: DicomWebNode & PartitionHost,
    readonly entry: PartitionEntry,
  ) {
    super(context);
    this.id = `${parent.id}/partition/${entry.partitionName}`;
  }

  get partitionName(): string {
    return this.entry.partitionName;
  }

  get connection(): ServerConnection {
    return this.parent.connection;
  }

  get client(): DicomWebClient {
    return this.parent.client.forPartition(this.entry.partitionName);
  }

  /** The server's filter applies in every partition. */
  get filter(): StudyFilter | undefined {
    return this.parent.filter;
  }

  /** Files dropped or uploaded here are stored in this partition. */
  override uploadDestination(): UploadDestination {
    return {
      node: this,
      server: this,
      name: `${this.connection.name} / ${this.entry.partitionName}`,
    };
  }

  /** As ServerNode.place: the rows down to what "Find by UID…" located in this partition. */
  place(found: Located): Promise<ResourceNode> {
    const note = isEmptyFilter(this.filter)
      ? 'Found by UID: not on the pages loaded so far, so it is shown here, above them.'
      : `Found by UID: not on the pages loaded so far, or outside the filter (${describeFilter(this.filter)}), so it is shown here, above them.`;
    return placeFound(this.context, this, found, note);
  }

  protected buildTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(
      this.entry.partitionName,
      vscode.TreeItemCollapsibleState.Collapsed,
    );
    item.id = this.id;
    const filtered = !isEmptyFilter(this.filter);
    // `upsert`: "Upload and Replace…" into this partition (its connection upserts).
    const upsert = connectionUpserts(this.connection) ? ' upsert' : '';
    item.contextValue = `${PARTITION_CONTEXT}${filtered ? ' filtered' : ''}${upsert}`;
    item.iconPath = new vscode.ThemeIcon('folder-library');
    item.description = `partition ${this.entry.partitionKey}${filtered ? ` · ${describeFilter(this.filter)}` : ''}`;
    return item;
  }

  override tooltip(): vscode.MarkdownString {
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${escape(this.entry.partitionName)}** — data partition\n\n`);
    tooltip.appendMarkdown(`Key ${this.entry.partitionKey}`);
    if (this.entry.createdDate)
      tooltip.appendMarkdown(` · created ${escape(this.entry.createdDate)}`);
    tooltip.appendMarkdown(`\n\nService URL: \`${this.client.baseUrl.replace(/`/g, '%60')}\``);
    return tooltip;
  }

  protected fetchPage(offset: number, limit: number) {
    return studiesPage(this.context, this, this.client, this.filter, { offset, limit });
  }

  protected get owner(): ServerConnection {
    return this.connection;
  }

  protected listing(): string {
    return `studies of partition ${this.entry.partitionName}`;
  }

  protected emptyLabel(): string {
    return isEmptyFilter(this.filter)
      ? 'No studies in this partition'
      : 'No study matches the filter';
  }
}

/**
 * Whether a server row lists partitions, and its partition rows: probed once with
 * `GET /partitions` on servers whose profile may have them (never on others, never for a
 * connection whose URL already names one partition), again after a refresh.
 */
export class ServerPartitions {
  private probed: Promise<PartitionEntry[] | undefined> | undefined;
  private detection: Promise<unknown> | undefined;
  private readonly rowsByName = new Map<string, PartitionNode>();

  constructor(
    private readonly context: TreeContext,
    private readonly server: DicomWebNode & PartitionHost,
  ) {}

  /** Whether the last probe found partitions on (for the row's context value). */
  enabled = false;

  /** The partition rows (a note when there are none), or undefined: list studies as before. */
  async rows(): Promise<DicomWebNode[] | undefined> {
    const client = this.server.client;
    // A connection of no configured kind: the probes tell (the local server names itself).
    if (!this.server.connection.kind)
      await (this.detection ??= client.detectProfile().catch(() => undefined));
    if (!client.serverProfile.capabilities.dataPartitions || partitionOf(client.baseUrl))
      return undefined;
    // Unreachable or refused: the study listing below then shows why, as before.
    this.probed ??= client.probePartitions().catch(() => undefined);
    const entries = await this.probed;
    const enabled = entries !== undefined;
    if (enabled !== this.enabled) {
      this.enabled = enabled;
      this.context.changed(this.server);
    }
    if (!entries) return undefined;
    if (entries.length === 0) {
      return [
        new MessageNode(
          `${this.server.id}/partitions/empty`,
          this.server,
          ContextValue.Info,
          'No partitions',
        ),
      ];
    }
    return entries.map((entry) => this.rowFor(entry));
  }

  /** The rows listed so far (after {@link rows}). */
  get listed(): PartitionNode[] {
    return [...this.rowsByName.values()];
  }

  /**
   * "Find by UID…" with partitions on: the UID searched in each partition (at most
   * {@link MAX_PARTITIONS_SEARCHED}, in key order, all at once), the first that has it
   * answering. Undefined when the server has no partitions on: search it as before.
   */
  async locate(
    search: (client: DicomWebClient) => Promise<LocateOutcome>,
  ): Promise<{ outcome: LocateOutcome; row?: PartitionNode } | undefined> {
    await this.rows();
    if (!this.enabled) return undefined;
    const rows = this.listed.slice(0, MAX_PARTITIONS_SEARCHED);
    const outcomes = await Promise.all(rows.map((row) => search(row.client)));
    const index = outcomes.findIndex((outcome) => 'found' in outcome);
    if (index >= 0) return { outcome: outcomes[index]!, row: rows[index] };
    const more = this.listed.length - rows.length;
    const names = rows.map((row) => row.partitionName).join(', ');
    return {
      outcome: {
        notFound: `Not in the partitions of ${this.server.connection.name} (${names})${more > 0 ? `; ${more} more partition(s) were not searched` : ''}.`,
      },
    };
  }

  /** Forgets the probe and the rows: the next expansion asks the server again. */
  reset(): void {
    this.probed = undefined;
    this.rowsByName.clear();
  }

  /**
   * Where an upload to the server row goes when it has partitions: a partition the person
   * picks, or a new one named now (the service creates a partition at its first store);
   * undefined when the person dismissed the question.
   */
  async pickDestination(fallback: UploadDestination): Promise<UploadDestination | undefined> {
    const rows = await this.rows();
    if (!rows || !this.enabled) return fallback;
    const partitions = this.listed;
    const NEW = '$(add) New partition…';
    const picked = await vscode.window.showQuickPick(
      [
        ...partitions.map((row) => ({
          label: row.partitionName,
          description: `partition ${row.entry.partitionKey}`,
          row: row as PartitionNode | undefined,
        })),
        { label: NEW, description: 'created by this upload', row: undefined },
      ],
      { title: `Upload to which partition of ${this.server.connection.name}?` },
    );
    if (!picked) return undefined;
    if (picked.row) return picked.row.uploadDestination();
    const name = await askPartitionName(partitions.map((row) => row.partitionName));
    return name === undefined ? undefined : this.newPartitionDestination(name);
  }

  /** The destination of an upload that creates partition `name` (the server row redraws). */
  newPartitionDestination(name: string): UploadDestination {
    const row = this.rowFor({ partitionKey: 0, partitionName: name });
    return { ...row.uploadDestination(), node: this.server };
  }

  private rowFor(entry: PartitionEntry): PartitionNode {
    const key = entry.partitionName.toLowerCase();
    const known = this.rowsByName.get(key);
    if (known && known.entry.partitionKey === entry.partitionKey) return known;
    const row = new PartitionNode(this.context, this.server, entry);
    this.rowsByName.set(key, row);
    return row;
  }
}

/**
 * The name of a new partition, checked as the person types with the service's rule
 * (src/dicomweb/partitions.ts); undefined when dismissed.
 */
export async function askPartitionName(existing: readonly string[]): Promise<string | undefined> {
  const taken = new Set(existing.map((name) => name.toLowerCase()));
  const name = await vscode.window.showInputBox({
    title: 'New partition',
    prompt:
      'Name of the new data partition: up to 64 letters, digits, "_", "." or "-". The server creates it with this upload.',
    placeHolder: 'e.g. site-b or 1.2.826.0.1.3680043.8.498.1',
    ignoreFocusOut: true,
    validateInput: (value) =>
      partitionNameProblem(value.trim()) ??
      (taken.has(value.trim().toLowerCase())
        ? 'That partition exists: pick it from the list instead.'
        : undefined),
  });
  return name === undefined ? undefined : name.trim();
}
