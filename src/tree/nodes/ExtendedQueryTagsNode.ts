import * as vscode from 'vscode';
import { formatTag, lookupTag } from '../../dicom/dictionary';
import type { ExtendedQueryTag, ExtendedQueryTagError } from '../../dicomweb/extendedQueryTags';
import {
  ContextValue,
  DicomWebNode,
  MessageNode,
  type ServerHandle,
  type TreeContext,
} from './DicomWebNode';
import { describeError, detailOf, failureLogLine } from './errorText';
import { escape } from './markdown';

/** The tag list is one page: Azure allows at most 128 tags, a page up to 200. */
const TAG_PAGE = 200;
/** Errors shown under a tag; the tooltip gives the total and the rest stay on the server. */
export const TAG_ERRORS_SHOWN = 100;

/**
 * "Extended Query Tags" under a connection whose profile serves them (Azure, the local
 * server): the tags with their level, VR, status and errors ("Extended query tags
 * overview"). A failed listing is an error row with a retry, never a pop-up.
 */
export class ExtendedQueryTagsNode extends DicomWebNode {
  readonly id: string;
  private tags: ExtendedQueryTag[] | undefined;
  private error: unknown;

  constructor(
    readonly context: TreeContext,
    readonly parent: DicomWebNode & ServerHandle,
  ) {
    super();
    this.id = `${parent.id}/extendedQueryTags`;
  }

  get server(): ServerHandle {
    return this.parent;
  }

  /** The tags listed last (empty before the first expansion). */
  get loadedTags(): readonly ExtendedQueryTag[] {
    return this.tags ?? [];
  }

  protected buildTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(
      'Extended Query Tags',
      vscode.TreeItemCollapsibleState.Collapsed,
    );
    item.id = this.id;
    item.contextValue = ContextValue.ExtendedQueryTags;
    item.iconPath = new vscode.ThemeIcon('symbol-key');
    if (this.tags) item.description = `${this.tags.length}`;
    item.tooltip =
      'Attributes this server indexes for QIDO beyond its standard ones (Azure DICOM service).';
    return item;
  }

  /** Lists the tags when not yet listed; true when there is one (or the listing failed). */
  async hasTags(): Promise<boolean> {
    await this.load();
    return this.error !== undefined || (this.tags?.length ?? 0) > 0;
  }

  private async load(): Promise<void> {
    if (this.tags !== undefined || this.error !== undefined) return;
    try {
      this.tags = await this.parent.client.listExtendedQueryTags({ limit: TAG_PAGE });
    } catch (error) {
      this.error = error;
      this.context.log.error(
        failureLogLine(this.parent.connection, 'the extended query tags', error),
      );
    }
  }

  override async getChildren(): Promise<DicomWebNode[]> {
    await this.load();
    if (this.error !== undefined) {
      return [
        new MessageNode(
          `${this.id}/error`,
          this,
          ContextValue.Error,
          describeError(this.error, this.parent.connection),
          detailOf(this.error),
        ),
      ];
    }
    if (!this.tags?.length)
      return [
        new MessageNode(
          `${this.id}/empty`,
          this,
          ContextValue.Info,
          'No extended query tags; add one with +',
        ),
      ];
    return this.tags.map((tag) => new ExtendedQueryTagNode(this, tag));
  }

  override reset(): void {
    this.tags = undefined;
    this.error = undefined;
  }
}

/** A tag's name for people: its keyword, or `(gggg,eeee)` for a private or unknown tag. */
export function tagLabel(tag: Pick<ExtendedQueryTag, 'path' | 'privateCreator'>): string {
  const keyword = lookupTag(tag.path)?.keyword;
  return keyword || `${formatTag(tag.path)}${tag.privateCreator ? ` ${tag.privateCreator}` : ''}`;
}

/** One tag; its errors below it when the reindex found values that do not fit its VR. */
export class ExtendedQueryTagNode extends DicomWebNode {
  readonly id: string;
  private errors: ExtendedQueryTagError[] | undefined;
  private error: unknown;

  constructor(
    readonly parent: ExtendedQueryTagsNode,
    readonly tag: ExtendedQueryTag,
  ) {
    super();
    this.id = `${parent.id}/${tag.path}`;
  }

  get label(): string {
    return tagLabel(this.tag);
  }

  protected buildTreeItem(): vscode.TreeItem {
    const { tag } = this;
    const item = new vscode.TreeItem(
      this.label,
      tag.errorCount > 0
        ? vscode.TreeItemCollapsibleState.Collapsed
        : vscode.TreeItemCollapsibleState.None,
    );
    item.id = this.id;
    const enabled = tag.queryStatus !== 'Disabled';
    item.contextValue = `${ContextValue.ExtendedQueryTag} ${enabled ? 'enabled' : 'disabled'}`;
    const errors = tag.errorCount
      ? ` · ${tag.errorCount} error${tag.errorCount === 1 ? '' : 's'}`
      : '';
    item.description = `${tag.level} · ${tag.vr} · ${tag.status}${enabled ? '' : ' · query disabled'}${errors}`;
    item.iconPath = new vscode.ThemeIcon(
      tag.status === 'Ready'
        ? tag.errorCount
          ? 'warning'
          : 'pass'
        : tag.status === 'Adding'
          ? 'sync'
          : 'trash',
    );
    return item;
  }

  override tooltip(): vscode.MarkdownString {
    const { tag } = this;
    const text = new vscode.MarkdownString(undefined, true);
    text.appendMarkdown(`**${escape(this.label)}** ${escape(formatTag(tag.path))}\n\n`);
    const rows: Array<[string, string | number | undefined]> = [
      ['Level', tag.level],
      ['VR', tag.vr],
      ['Private creator', tag.privateCreator],
      ['Status', tag.status],
      ['Query', tag.queryStatus],
      ['Errors', tag.errorCount],
      ['Operation', tag.operation?.id],
    ];
    for (const [name, value] of rows)
      if (value !== undefined && value !== '')
        text.appendMarkdown(`${name}: ${escape(String(value))}  \n`);
    if (tag.errorCount > TAG_ERRORS_SHOWN)
      text.appendMarkdown(`\nThe first ${TAG_ERRORS_SHOWN} errors are listed below the tag.`);
    return text;
  }

  override async getChildren(): Promise<DicomWebNode[]> {
    if (this.tag.errorCount === 0) return [];
    if (this.errors === undefined && this.error === undefined) {
      try {
        this.errors = await this.parent.server.client.listExtendedQueryTagErrors(this.tag.path, {
          limit: TAG_ERRORS_SHOWN,
        });
      } catch (error) {
        this.error = error;
      }
    }
    if (this.error !== undefined) {
      return [
        new MessageNode(
          `${this.id}/error`,
          this,
          ContextValue.Error,
          describeError(this.error),
          detailOf(this.error),
        ),
      ];
    }
    return (this.errors ?? []).map(
      (entry, index) =>
        new MessageNode(
          `${this.id}/errors/${index}`,
          this,
          ContextValue.Info,
          entry.errorMessage,
          `Study ${entry.studyInstanceUid}\nSeries ${entry.seriesInstanceUid}\nInstance ${entry.sopInstanceUid}\n${entry.createdTime}`,
        ),
    );
  }

  override reset(): void {
    this.errors = undefined;
    this.error = undefined;
  }

  override refreshTarget(): DicomWebNode {
    return this.parent;
  }
}
