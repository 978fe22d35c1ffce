import * as vscode from 'vscode';
import type { DicomWebClient } from '../../dicomweb/client';
import type { ServerConnection } from '../../config/serverConnection';
import { describeError, detailOf, failureLogLine } from './errorText';

/**
 * Context values, one per node kind. Menus match them with `viewItem =~ /^dicomweb:study\b/`
 * so that two kinds never share a menu by accident; extra flags follow after a space.
 */
export enum ContextValue {
  Server = 'dicomweb:server',
  Study = 'dicomweb:study',
  Series = 'dicomweb:series',
  Instance = 'dicomweb:instance',
  LoadMore = 'dicomweb:loadMore',
  Error = 'dicomweb:error',
  Info = 'dicomweb:info',
  ExtendedQueryTags = 'dicomweb:extendedQueryTags',
  ExtendedQueryTag = 'dicomweb:extendedQueryTag',
}

/** What every node may need: the connection's client, settings, and a way to redraw. */
export interface TreeContext {
  client(connection: ServerConnection): DicomWebClient;
  pageSize(): number;
  /** Redraws a node (or the whole tree) without discarding loaded pages. */
  changed(node?: DicomWebNode): void;
  workspaceState: vscode.Memento;
  log: vscode.LogOutputChannel;
  /** Adds to a row's tooltip on hover: the thumbnail (src/thumbnailsHost/tooltip.ts). */
  decorateTooltip?(
    tooltip: vscode.MarkdownString,
    node: DicomWebNode,
    token: vscode.CancellationToken,
  ): Promise<void>;
}

/** The DICOMweb level a resource row stands for (PS3.18 §10.4.1: study, series, instance). */
export type ResourceLevel = 'study' | 'series' | 'instance';

/** What others use of a server row: its connection and its client (built on first use). */
export interface ServerHandle {
  readonly connection: ServerConnection;
  readonly client: DicomWebClient;
}

/** Where files dropped or uploaded on a row go: a server, or one study on it. */
export interface UploadDestination {
  /** The row that shows the new data: refreshed after the upload. */
  readonly node: DicomWebNode;
  readonly server: ServerHandle;
  /** Set for a study: `POST /studies/{study}`, every file must belong to it (PS3.18 §10.5.1). */
  readonly studyInstanceUid?: string;
  /** How the progress and the report name it: "Local", "Local / Test^Shapes". */
  readonly name: string;
  /**
   * Set when the destination is still to be chosen (a server with data partitions: which
   * partition, or a new one); undefined from it when the person dismissed the question.
   */
  readonly choose?: () => Promise<UploadDestination | undefined>;
}

export abstract class DicomWebNode {
  /** Path-shaped, unique in the tree: `server/{id}/study/{uid}/series/{uid}`. */
  abstract readonly id: string;
  abstract readonly parent: DicomWebNode | undefined;
  /**
   * Set on study, series and instance rows (see ResourceNode in ./resourceNode.ts): commands
   * ask a row what it stands for instead of testing its class.
   */
  readonly level: ResourceLevel | undefined = undefined;
  /** Builds the row; see {@link getTreeItem}. */
  protected abstract buildTreeItem(): vscode.TreeItem;
  /**
   * Study, series and instance rows do not change once loaded (a refresh makes new nodes):
   * they build their item once, which keeps a redraw of 1,000 rows cheap.
   */
  protected readonly immutableRow: boolean = false;
  private builtItem: vscode.TreeItem | undefined;

  /**
   * Set on a row "Find by UID…" placed at the top of its parent because it was not on the
   * pages loaded so far (or the server's filter hides it): the row says so, and "Dismiss"
   * or a refresh of the parent takes it away.
   */
  private pinnedNote: string | undefined;

  getTreeItem(): vscode.TreeItem {
    return this.immutableRow ? (this.builtItem ??= this.markedRow()) : this.markedRow();
  }

  /** Why this row is pinned ("found by UID"), or undefined for a row of a listed page. */
  get pinned(): string | undefined {
    return this.pinnedNote;
  }

  /** Marks a row as pinned, before it is first drawn (see {@link pinnedNote}). */
  pin(note: string): void {
    this.pinnedNote = note;
    this.forgetRow();
  }

  private markedRow(): vscode.TreeItem {
    const item = this.buildTreeItem();
    if (this.pinnedNote) {
      // A flag after the kind: menus match `^dicomweb:study\b`, so every study action stays.
      item.contextValue = `${item.contextValue ?? ''} found`;
      item.description = `found · ${typeof item.description === 'string' ? item.description : ''}`;
    }
    return item;
  }
  /** Builds the row again at the next redraw (its counts changed after a delete). */
  protected forgetRow(): void {
    this.builtItem = undefined;
  }
  /**
   * The hover text, built only when a person hovers (TreeDataProvider.resolveTreeItem):
   * building Markdown for every row on each "Load more" cost the host ~40% of a redraw.
   */
  tooltip(): vscode.MarkdownString | string | undefined {
    return undefined;
  }
  getChildren(): Promise<DicomWebNode[]> | DicomWebNode[] {
    return [];
  }
  /** Forgets loaded children so the next expansion queries the server again. */
  reset(): void {}
  /** The row a refresh of this one queries again: itself (a message row: the row it is about). */
  refreshTarget(): DicomWebNode {
    return this;
  }
  /** Loads the next page of children, for rows listed a page at a time (PagedNode). */
  async loadMore(): Promise<void> {}
  /** Files dropped on this row go to the study or server it belongs to. */
  uploadDestination(): UploadDestination | undefined {
    return this.parent?.uploadDestination();
  }
}

/** A message row: "Load more…", an error with a retry, or a plain note. */
export class MessageNode extends DicomWebNode {
  constructor(
    readonly id: string,
    readonly parent: DicomWebNode,
    private readonly kind: ContextValue.LoadMore | ContextValue.Error | ContextValue.Info,
    private readonly label: string,
    private readonly detail?: string,
  ) {
    super();
  }

  protected buildTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.label, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.contextValue = this.kind;
    if (this.kind === ContextValue.LoadMore) {
      item.iconPath = new vscode.ThemeIcon('ellipsis');
      item.command = {
        command: 'dicomweb.node.loadMore',
        title: 'Load More',
        arguments: [this.parent],
      };
    } else if (this.kind === ContextValue.Error) {
      item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
      item.description = 'click to retry';
      item.tooltip = this.detail ?? this.label;
      item.command = { command: 'dicomweb.node.refresh', title: 'Retry', arguments: [this.parent] };
    } else {
      item.iconPath = new vscode.ThemeIcon('info');
      item.tooltip = this.detail;
    }
    return item;
  }

  /** "Load more…", an error's retry or a note: refreshing it refreshes the row it is about. */
  override refreshTarget(): DicomWebNode {
    return this.parent;
  }
}

/**
 * The row that ends a listing read a page at a time (the QIDO rows, the change feed): the
 * failure with its retry, else "Load more…" while the server has more, else `emptyLabel` when
 * nothing was listed; none when the listing is complete.
 */
export function endOfListingRow(
  parent: DicomWebNode,
  owner: ServerConnection,
  listing: { error: unknown; hasMore: boolean; isEmpty: boolean; emptyLabel: string },
): MessageNode | undefined {
  if (listing.error !== undefined)
    return new MessageNode(
      `${parent.id}/error`,
      parent,
      ContextValue.Error,
      describeError(listing.error, owner),
      detailOf(listing.error),
    );
  if (listing.hasMore)
    return new MessageNode(`${parent.id}/loadMore`, parent, ContextValue.LoadMore, 'Load more…');
  if (listing.isEmpty)
    return new MessageNode(`${parent.id}/empty`, parent, ContextValue.Info, listing.emptyLabel);
  return undefined;
}

/**
 * A node whose children come from QIDO one page at a time. The first expansion loads the
 * first page; "Load more…" appends the next one and redraws only this node. A failure
 * becomes an error row with a retry, never a pop-up from inside getChildren.
 */
export abstract class PagedNode<T extends DicomWebNode> extends DicomWebNode {
  protected loaded: T[] | undefined;
  /** Rows "Find by UID…" placed above the pages (see {@link adopt}). */
  private pinnedRows: T[] = [];
  private nextOffset = 0;
  private hasMore = false;
  private error: unknown;
  private warnings: string[] = [];
  private loading: Promise<void> | undefined;

  constructor(protected readonly context: TreeContext) {
    super();
  }

  /** Fetches one page starting at `offset`. */
  protected abstract fetchPage(
    offset: number,
    limit: number,
  ): Promise<{ items: T[]; hasMore: boolean; warnings: string[]; received: number }>;
  protected abstract emptyLabel(): string;
  /** The connection this row lists from, for messages that name it. */
  protected abstract get owner(): ServerConnection;
  /** What this row lists, for the log ("studies", "the series of study 1.2.3"). */
  protected abstract listing(): string;

  override async getChildren(): Promise<DicomWebNode[]> {
    if (this.loaded === undefined && this.error === undefined) await this.load();
    const rows: DicomWebNode[] = [...this.pinnedRows, ...(this.loaded ?? [])];
    for (const [index, warning] of this.warnings.entries()) {
      rows.push(
        new MessageNode(
          `${this.id}/warning/${index}`,
          this,
          ContextValue.Info,
          warning,
          'The server sent this Warning header (PS3.18 §8.6.2).',
        ),
      );
    }
    const end = endOfListingRow(this, this.owner, {
      error: this.error,
      hasMore: this.hasMore,
      // Rows pinned by "Find by UID…" are not the list: "No study matches the filter" still
      // says why.
      isEmpty: rows.length === this.pinnedRows.length,
      emptyLabel: this.emptyLabel(),
    });
    if (end) rows.push(end);
    return rows;
  }

  /** Loads the next page (the "Load more…" row). */
  override async loadMore(): Promise<void> {
    await this.load();
    this.context.changed(this);
  }

  /**
   * The child row with `child`'s id: the one already listed (the first page is loaded when
   * it was not, as an expansion would), or else `child` itself, pinned above the pages with
   * `note` so that TreeView.reveal finds it among this row's children. Returns the row the
   * tree shows.
   */
  async adopt(child: T, note: string): Promise<T> {
    if (this.loaded === undefined && this.error === undefined) await this.load();
    const listed = [...this.pinnedRows, ...(this.loaded ?? [])].find(
      (node) => node.id === child.id,
    );
    if (listed) return listed;
    child.pin(note);
    this.pinnedRows = [child, ...this.pinnedRows];
    this.context.changed(this);
    return child;
  }

  /** Takes a pinned row away ("Dismiss"); a row of a listed page stays. */
  unpin(child: DicomWebNode): void {
    const before = this.pinnedRows.length;
    this.pinnedRows = this.pinnedRows.filter((node) => node !== child);
    if (this.pinnedRows.length !== before) this.context.changed(this);
  }

  override reset(): void {
    this.pinnedRows = [];
    this.loaded = undefined;
    this.nextOffset = 0;
    this.hasMore = false;
    this.error = undefined;
    this.warnings = [];
  }

  /** Children loaded so far (for tests and commands). */
  get loadedChildren(): readonly T[] {
    return this.loaded ?? [];
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const page = await this.fetchPage(this.nextOffset, this.context.pageSize());
        // A pinned row that a later page lists stays where it is, once.
        const known = new Set([...this.pinnedRows, ...(this.loaded ?? [])].map((node) => node.id));
        this.loaded = [...(this.loaded ?? []), ...page.items.filter((node) => !known.has(node.id))];
        this.nextOffset += page.received;
        this.hasMore = page.hasMore;
        this.warnings = [...new Set([...this.warnings, ...page.warnings])];
        this.error = undefined;
      } catch (error) {
        this.error = error;
        this.context.log.error(failureLogLine(this.owner, this.listing(), error));
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }
}

export { describeError } from './errorText';
