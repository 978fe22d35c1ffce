/**
 * The change feed of a connection whose profile has one (the Azure DICOM service and the local
 * server: ServerCapabilities.changeFeed), in the "Change Feed" view: one row per connection,
 * its entries listed by sequence a page at a time ("Load more…"); the row's description shows
 * the latest sequence. On v2 and later a time window (startTime/endTime) narrows the listing.
 *
 * "Follow" polls `GET /changefeed/latest` while the row is expanded and the view visible:
 * never more than one request in flight (the next poll is scheduled when the last one ended),
 * every `dicomweb.changeFeed.followIntervalSeconds` (5 s by default, 1…300), and new entries
 * are appended when the listing has reached its end. A failed poll is logged once and the
 * polling goes on; nothing waits on it.
 */
import * as vscode from 'vscode';
import {
  CHANGE_FEED_LIMITS,
  changeFeedApiVersion,
  type ChangeFeedEntry,
  type ChangeFeedQuery,
} from '../../dicomweb/changeFeed';
import type { ServerConnection } from '../../config/serverConnection';
import { DicomWebNode, endOfListingRow, type ServerHandle, type TreeContext } from './DicomWebNode';

/** Bounds of `dicomweb.changeFeed.followIntervalSeconds` (package.json says the same). */
export const FOLLOW_INTERVAL_SECONDS = { default: 5, min: 1, max: 300 } as const;

export function followIntervalMs(): number {
  const asked = vscode.workspace
    .getConfiguration('dicomweb')
    .get<number>('changeFeed.followIntervalSeconds', FOLLOW_INTERVAL_SECONDS.default);
  const seconds = Number.isFinite(asked) ? asked : FOLLOW_INTERVAL_SECONDS.default;
  const { min, max } = FOLLOW_INTERVAL_SECONDS;
  return Math.min(max, Math.max(min, seconds)) * 1000;
}

export interface FeedWindow {
  startTime?: Date;
  endTime?: Date;
}

export const CHANGE_FEED_CONTEXT = 'dicomweb:changeFeed';
export const CHANGE_FEED_ENTRY_CONTEXT = 'dicomweb:changeFeedEntry';

/**
 * Starts and stops following with the view: a row follows only while it is expanded and the
 * view is visible.
 */
export function watchChangeFeedView(
  view: vscode.TreeView<DicomWebNode>,
  rows: () => Iterable<ChangeFeedNode>,
): vscode.Disposable {
  return vscode.Disposable.from(
    view.onDidExpandElement(({ element }) => {
      if (element instanceof ChangeFeedNode) element.setExpanded(true);
    }),
    view.onDidCollapseElement(({ element }) => {
      if (element instanceof ChangeFeedNode) element.setExpanded(false);
    }),
    view.onDidChangeVisibility(({ visible }) => {
      for (const row of rows()) row.setVisible(visible);
    }),
  );
}

export class ChangeFeedNode extends DicomWebNode {
  readonly id: string;
  private entries: ChangeFeedEntry[] = [];
  /** v1: the sequence the next page starts after; v2: entries of the window read so far. */
  private nextOffset = 0;
  private hasMore = false;
  private loadedOnce = false;
  private error: unknown;
  private loading: Promise<void> | undefined;
  private latestEntry: ChangeFeedEntry | undefined;
  private window: FeedWindow = {};
  private followOn = false;
  private expanded = false;
  private viewVisible = true;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private pollFailed = false;

  readonly parent = undefined;

  constructor(
    private readonly context: TreeContext,
    /** The connection and its client (the same client the Servers view uses). */
    readonly source: ServerHandle,
  ) {
    super();
    this.id = `changefeed/${source.connection.id}`;
  }

  get connection(): ServerConnection {
    return this.source.connection;
  }

  get apiVersion(): 1 | 2 {
    return changeFeedApiVersion(this.source.client.baseUrl);
  }

  get following(): boolean {
    return this.followOn;
  }

  get latest(): ChangeFeedEntry | undefined {
    return this.latestEntry;
  }

  get timeWindow(): FeedWindow {
    return this.window;
  }

  /** Entries listed so far, by sequence (tests and commands). */
  get loadedEntries(): readonly ChangeFeedEntry[] {
    return this.entries;
  }

  protected buildTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(
      this.connection.name,
      vscode.TreeItemCollapsibleState.Collapsed,
    );
    item.id = this.id;
    item.contextValue = `${CHANGE_FEED_CONTEXT} v${this.apiVersion} ${this.followOn ? 'following' : 'idle'}`;
    item.iconPath = new vscode.ThemeIcon(this.followOn ? 'sync' : 'history');
    const parts = [this.latestEntry ? `latest #${this.latestEntry.sequence}` : 'latest: not read'];
    if (this.followOn) parts.push('following');
    if (this.window.startTime || this.window.endTime) parts.push(describeWindow(this.window));
    item.description = parts.join(' · ');
    item.tooltip = `The change feed of ${this.connection.name} (API v${this.apiVersion}): every create, update and delete, by sequence.`;
    return item;
  }

  override async getChildren(): Promise<DicomWebNode[]> {
    if (!this.loadedOnce && this.error === undefined) await this.load();
    const rows: DicomWebNode[] = this.entries.map((entry) => new ChangeFeedEntryNode(this, entry));
    const end = endOfListingRow(this, this.connection, {
      error: this.error,
      hasMore: this.hasMore,
      isEmpty: rows.length === 0,
      emptyLabel: 'No changes',
    });
    if (end) rows.push(end);
    return rows;
  }

  override async loadMore(): Promise<void> {
    await this.load();
    this.context.changed(this);
  }

  /**
   * Forgets the listing; redraws in its own view (the shared `dicomweb.node.refresh`, an error
   * row's retry, redraws the Servers view only).
   */
  override reset(): void {
    this.entries = [];
    this.nextOffset = 0;
    this.hasMore = false;
    this.loadedOnce = false;
    this.error = undefined;
    this.context.changed(this);
  }

  /** Narrows the listing to a time window (API v2 and later); an empty one lists all. */
  setWindow(window: FeedWindow): void {
    this.window = window;
    this.reset();
  }

  private pageSize(): number {
    return Math.min(this.context.pageSize(), CHANGE_FEED_LIMITS[this.apiVersion].maxLimit);
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const client = this.source.client;
        this.latestEntry = await client.changeFeedLatest({ includeMetadata: false });
        const limit = this.pageSize();
        const query: ChangeFeedQuery = { offset: this.nextOffset, limit, includeMetadata: false };
        if (this.apiVersion === 2) Object.assign(query, this.window);
        const page = await client.changeFeed(query);
        const known = new Set(this.entries.map((entry) => entry.sequence));
        this.entries.push(...page.filter((entry) => !known.has(entry.sequence)));
        if (this.apiVersion === 1) {
          // v1 pages cover sequences (offset, offset + limit]; gaps make pages short.
          this.nextOffset += limit;
          this.hasMore = this.nextOffset < (this.latestEntry?.sequence ?? 0);
        } else {
          this.nextOffset += page.length;
          this.hasMore = page.length === limit;
        }
        this.loadedOnce = true;
        this.error = undefined;
      } catch (error) {
        this.error = error;
        this.context.log.error(`Change feed of ${this.connection.name}: ${String(error)}`);
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  // ---------------------------------------------------------------------------------------
  // Follow

  setFollowing(on: boolean): void {
    this.followOn = on;
    this.context.changed(this);
    this.reschedule();
  }

  setExpanded(expanded: boolean): void {
    this.expanded = expanded;
    this.reschedule();
  }

  setVisible(visible: boolean): void {
    this.viewVisible = visible;
    this.reschedule();
  }

  /** Stops following for good (the connection changed or went, or the extension stops). */
  stop(): void {
    this.followOn = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Whether a poll is due: following, expanded and visible. */
  get active(): boolean {
    return this.followOn && this.expanded && this.viewVisible;
  }

  private reschedule(): void {
    if (!this.active) {
      clearTimeout(this.timer);
      this.timer = undefined;
      return;
    }
    // One timer; a poll in flight schedules the next one itself when it ends.
    if (this.timer || this.polling) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.poll();
    }, followIntervalMs());
  }

  /** One poll of `/changefeed/latest`; appends new entries when the listing is at its end. */
  async poll(): Promise<void> {
    if (this.polling || !this.active) return;
    this.polling = true;
    try {
      const latest = await this.source.client.changeFeedLatest({ includeMetadata: false });
      this.pollFailed = false;
      if (latest?.sequence !== this.latestEntry?.sequence) {
        this.latestEntry = latest;
        if (this.loadedOnce && !this.hasMore && this.error === undefined) await this.load();
        this.context.changed(this);
      }
    } catch (error) {
      if (!this.pollFailed)
        this.context.log.warn(
          `Following the change feed of ${this.connection.name}: ${String(error)}`,
        );
      this.pollFailed = true;
    } finally {
      this.polling = false;
      this.reschedule();
    }
  }
}

function describeWindow(window: FeedWindow): string {
  const day = (date?: Date) => (date ? date.toISOString().slice(0, 16).replace('T', ' ') : '…');
  return `${day(window.startTime)} – ${day(window.endTime)}`;
}

const ACTION_ICONS: Record<ChangeFeedEntry['action'], string> = {
  create: 'diff-added',
  update: 'diff-modified',
  delete: 'diff-removed',
};

/** One entry: action icon, sequence, state, time; opens the instance's metadata. */
export class ChangeFeedEntryNode extends DicomWebNode {
  readonly id: string;
  protected override readonly immutableRow = true;

  constructor(
    readonly parent: ChangeFeedNode,
    readonly entry: ChangeFeedEntry,
  ) {
    super();
    this.id = `${parent.id}/${entry.sequence}`;
  }

  protected buildTreeItem(): vscode.TreeItem {
    const { entry } = this;
    const item = new vscode.TreeItem(
      `#${entry.sequence} ${entry.action}`,
      vscode.TreeItemCollapsibleState.None,
    );
    item.id = this.id;
    item.contextValue = `${CHANGE_FEED_ENTRY_CONTEXT} ${entry.state}`;
    item.iconPath = new vscode.ThemeIcon(
      ACTION_ICONS[entry.action],
      entry.state === 'deleted' ? new vscode.ThemeColor('disabledForeground') : undefined,
    );
    const partition = entry.partitionName ? ` · ${entry.partitionName}` : '';
    item.description = `${entry.state}${partition} · ${new Date(entry.time).toLocaleString()} · ${entry.sopInstanceUid}`;
    item.command = {
      command: 'dicomweb.changeFeed.openEntry',
      title: 'Open Metadata',
      arguments: [this],
    };
    return item;
  }

  override tooltip(): vscode.MarkdownString {
    const { entry } = this;
    const text = new vscode.MarkdownString(undefined, true);
    text.appendMarkdown(`**#${entry.sequence} ${entry.action}** — ${entry.state}\n\n`);
    text.appendMarkdown(`${entry.timestamp}\n\n`);
    if (entry.partitionName)
      text.appendMarkdown(`Partition \`${entry.partitionName.replace(/`/g, '')}\`  \n`);
    text.appendMarkdown(`Study \`${entry.studyInstanceUid}\`  \n`);
    text.appendMarkdown(`Series \`${entry.seriesInstanceUid}\`  \n`);
    text.appendMarkdown(`Instance \`${entry.sopInstanceUid}\``);
    if (entry.state === 'deleted')
      text.appendMarkdown('\n\n*The instance has been deleted: it is no longer on the server.*');
    return text;
  }
}
