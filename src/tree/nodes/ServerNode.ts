import * as vscode from 'vscode';
import { isFromWorkspace, originOf } from '../../config/connectionPolicy';
import type { ServerConnection } from '../../config/serverConnection';
import type { DicomWebClient } from '../../dicomweb/client';
import { PROFILES } from '../../dicomweb/profiles/serverProfiles';
import { connectionUpserts } from '../../dicomweb/profiles/upsert';
import { redactUrl } from '../../dicomweb/transport/errors';
import { describeFilter, isEmptyFilter, type StudyFilter } from '../filter';
import type { Located } from '../../dicomweb/locate';
import {
  ContextValue,
  PagedNode,
  type DicomWebNode,
  type ServerHandle,
  type TreeContext,
  type UploadDestination,
} from './DicomWebNode';
import { ExtendedQueryTagsNode } from './ExtendedQueryTagsNode';
import { ServerPartitions } from './PartitionNode';
import { escape } from './markdown';
import type { ResourceNode } from './resourceNode';
import type { StudyNode } from './StudyNode';
import { placeFound, studiesPage } from './studyRows';

/** A configured connection; its children are the studies QIDO finds, a page at a time. */
export class ServerNode extends PagedNode<StudyNode> implements ServerHandle {
  readonly id: string;
  readonly parent = undefined;
  private detected = false;
  /** The service's data partitions, when it has them on: then they are this row's children. */
  readonly partitions: ServerPartitions;
  private tagsNode: ExtendedQueryTagsNode | undefined;

  constructor(
    context: TreeContext,
    readonly connection: ServerConnection,
    /** The only connection opens by itself: its studies show at once. */
    private readonly expanded = false,
  ) {
    super(context);
    this.id = `server/${connection.id}`;
    this.partitions = new ServerPartitions(context, this);
  }

  get client(): DicomWebClient {
    return this.context.client(this.connection);
  }

  get filter(): StudyFilter | undefined {
    return this.context.workspaceState.get<StudyFilter>(filterKey(this.connection.id));
  }

  async setFilter(filter: StudyFilter | undefined): Promise<void> {
    await this.context.workspaceState.update(
      filterKey(this.connection.id),
      isEmptyFilter(filter) ? undefined : filter,
    );
    this.reset();
    this.context.changed(this);
  }

  /** "Upload and Replace" is offered: the profile does upsert (Azure v2, the local server). */
  canUpsert(): boolean {
    return connectionUpserts(this.connection);
  }

  /** Files dropped here are stored on the server (`POST /studies`, PS3.18 §10.5.1). */
  override uploadDestination(): UploadDestination {
    const destination = { node: this, server: this, name: this.connection.name };
    // With partitions on, which one (or a new one) is asked at upload time.
    return { ...destination, choose: () => this.partitions.pickDestination(destination) };
  }

  /**
   * Shows what "Find by UID…" located (src/dicomweb/locate.ts): the study, series and
   * instance rows down to it, each the listed row when a loaded page has it, else pinned
   * above its parent's pages (PagedNode.adopt). Returns the deepest row, for TreeView.reveal.
   */
  async place(found: Located): Promise<ResourceNode> {
    const note = isEmptyFilter(this.filter)
      ? 'Found by UID: not on the pages loaded so far, so it is shown here, above them.'
      : `Found by UID: not on the pages loaded so far, or outside this server's filter (${describeFilter(this.filter)}), so it is shown here, above them.`;
    return placeFound(this.context, this, found, note);
  }

  /**
   * The partitions when the service has them on (PartitionNode.ts), else the studies; after an
   * "Extended Query Tags" row when the profile serves them (Azure, the local server: gated on
   * the profile, never on the URL) and the server has tags. Tags belong to the whole service,
   * not to a partition, so the row stays here. Asked only once the rows listed: a refused
   * credential is reported once, by the rows' error row. The first tag is added from the
   * connection's menu.
   */
  override async getChildren(): Promise<DicomWebNode[]> {
    const partitions = await this.partitions.rows();
    const rows = partitions ?? (await super.getChildren());
    const listed = partitions !== undefined || this.loaded !== undefined;
    if (!listed || !this.client.serverProfile.capabilities.extendedQueryTags) return rows;
    this.tagsNode ??= new ExtendedQueryTagsNode(this.context, this);
    return (await this.tagsNode.hasTags()) ? [this.tagsNode, ...rows] : rows;
  }

  /** The "Extended Query Tags" row, once the connection has been expanded. */
  get extendedQueryTagsNode(): ExtendedQueryTagsNode | undefined {
    return this.tagsNode;
  }

  override reset(): void {
    super.reset();
    this.partitions.reset();
    this.tagsNode?.reset();
  }

  /** Lists the extended query tags again (after an add or delete), keeping the studies. */
  tagsChanged(): void {
    this.tagsNode?.reset();
    this.context.changed(this);
  }

  protected buildTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(
      this.connection.name,
      this.expanded
        ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.Collapsed,
    );
    item.id = this.id;
    const filtered = !isEmptyFilter(this.filter);
    const workspace = isFromWorkspace(this.connection);
    const url = redactUrl(this.connection.url);
    // Menus offer "Add Extended Query Tag…" where the profile serves them (Azure, local).
    const tags = PROFILES[this.connection.kind ?? 'generic'].capabilities.extendedQueryTags;
    item.contextValue = `${ContextValue.Server}${filtered ? ' filtered' : ''}${workspace ? ' workspace' : ''}${this.partitions.enabled ? ' partitioned' : ''}${tags ? ' extendedQueryTags' : ''}${this.canUpsert() ? ' upsert' : ''}`;
    // A connection from the workspace's settings is marked (issue 10, finding 4b).
    item.iconPath = new vscode.ThemeIcon(
      filtered ? 'filter' : workspace ? 'workspace-untrusted' : 'server-environment',
    );
    item.description = `${workspace ? 'workspace settings · ' : ''}${filtered ? describeFilter(this.filter) : url}`;
    const kind = PROFILES[this.connection.kind ?? 'generic'].label;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${escape(this.connection.name)}** — ${kind}\n\n`);
    tooltip.appendMarkdown(`Service URL: \`${url.replace(/`/g, '%60')}\`\n\n`);
    tooltip.appendMarkdown(`Authentication: ${escape(this.connection.auth ?? 'none')}`);
    if (workspace) {
      tooltip.appendMarkdown(
        `\n\nFrom this workspace's settings (.vscode/settings.json), not yours: no credential is sent until you approve ${escape(originOf(this.connection.url) ?? 'its origin')} (asked at the first request).`,
      );
    }
    if (filtered) tooltip.appendMarkdown(`\n\nFilter: ${escape(describeFilter(this.filter))}`);
    item.tooltip = tooltip;
    return item;
  }

  protected async fetchPage(offset: number, limit: number) {
    const client = this.client;
    if (!this.connection.kind && !this.detected) {
      // No kind configured: a cheap probe (Orthanc's /system) decides how deletes work.
      this.detected = true;
      await client.detectProfile().catch(() => undefined);
    }
    return studiesPage(this.context, this, client, this.filter, { offset, limit });
  }

  protected get owner(): ServerConnection {
    return this.connection;
  }

  protected listing(): string {
    return 'studies';
  }

  protected emptyLabel(): string {
    return isEmptyFilter(this.filter) ? 'No studies on this server' : 'No study matches the filter';
  }
}

function filterKey(id: string): string {
  return `dicomweb.filter.${id}`;
}
