import * as vscode from 'vscode';
import type { ServerConnection } from '../../config/serverConnection';
import type { DicomJsonDataset } from '../../dicom/types';
import type { DicomWebClient } from '../../dicomweb/client';
import { connectionUpserts } from '../../dicomweb/profiles/upsert';
import type { InstancePath } from '../../dicomweb/requests';
import { counts } from '../models/counts';
import { SERIES_FIELDS } from '../models/series';
import { Study } from '../models/study';
import { ContextValue, PagedNode, type TreeContext, type UploadDestination } from './DicomWebNode';
import { escape } from './markdown';
import type { ServerRow, StudyRow } from './resourceNode';
import { SeriesNode } from './SeriesNode';

/** A study row; its data is a {@link Study}, its children the series, a page at a time. */
export class StudyNode extends PagedNode<SeriesNode> implements StudyRow {
  readonly id: string;
  override readonly level = 'study' as const;
  readonly model: Study;

  constructor(
    context: TreeContext,
    readonly parent: ServerRow,
    dataset: DicomJsonDataset,
  ) {
    super(context);
    this.model = new Study(dataset);
    this.id = `${parent.id}/study/${this.model.studyInstanceUid}`;
  }

  get server(): ServerRow {
    return this.parent;
  }

  get dataset(): DicomJsonDataset {
    return this.model.dataset;
  }

  get studyInstanceUid(): string {
    return this.model.studyInstanceUid;
  }

  get patientName(): string {
    return this.model.patientName;
  }

  get description(): string {
    return this.model.description;
  }

  get seriesCount(): number | undefined {
    return this.model.seriesCount;
  }

  get instanceCount(): number | undefined {
    return this.model.instanceCount;
  }

  get target(): InstancePath {
    return this.model.target;
  }

  get uid(): string {
    return this.model.studyInstanceUid;
  }

  get title(): string {
    return this.model.title;
  }

  get summary(): string {
    return this.model.summary;
  }

  get connection(): ServerConnection {
    return this.server.connection;
  }

  get client(): DicomWebClient {
    return this.server.client;
  }

  deleteConfirmation(): string {
    return this.model.deleteConfirmation();
  }

  /** The server row lists studies again when it is refreshed; nothing above to lower. */
  deleted(): void {}

  /** After a delete below this study: its row shows the counts that are left. */
  contentRemoved(series: number, instances: number): void {
    this.model.contentRemoved(series, instances);
    this.forgetRow();
    this.context.changed(this);
  }

  /**
   * Files dropped here go to `POST /studies/{study}` (PS3.18 §10.5.1); "Upload and Replace
   * into This Study…" sends them as `PUT /studies/{study}` (Azure's upsert), to the
   * partition's URL under a partition (the server row's client is the partition's).
   */
  override uploadDestination(): UploadDestination {
    return {
      node: this,
      server: this.server,
      studyInstanceUid: this.studyInstanceUid,
      name: `${this.connection.name} / ${this.patientName}`,
    };
  }

  protected override readonly immutableRow = true;

  protected buildTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.model.label, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    // `upsert`: "Upload and Replace into This Study…" is offered (its connection upserts).
    item.contextValue = `${ContextValue.Study}${connectionUpserts(this.connection) ? ' upsert' : ''}`;
    item.iconPath = new vscode.ThemeIcon('files');
    const parts = [
      this.model.patientId,
      this.model.studyDate,
      this.model.modalities.join('/'),
      counts(this.seriesCount, 'series', 'series') +
        (this.instanceCount !== undefined
          ? `, ${counts(this.instanceCount, 'instance', 'instances')}`
          : ''),
    ].filter((part) => part);
    item.description = parts.join(' · ');
    return item;
  }

  override tooltip(): vscode.MarkdownString {
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${escape(this.model.label)}**\n\n`);
    tooltip.appendMarkdown(`Patient ID: ${escape(this.model.patientId ?? '—')}  \n`);
    tooltip.appendMarkdown(`Study date: ${this.model.studyDate || '—'}  \n`);
    tooltip.appendMarkdown(`Accession: ${escape(this.model.accessionNumber ?? '—')}  \n`);
    tooltip.appendMarkdown(`StudyInstanceUID: \`${this.studyInstanceUid}\``);
    return tooltip;
  }

  protected async fetchPage(offset: number, limit: number) {
    const page = await this.client.searchPage(
      'series',
      { studyInstanceUid: this.studyInstanceUid },
      { includeField: SERIES_FIELDS },
      offset,
      limit,
    );
    const items = page.items.map((dataset) => new SeriesNode(this.context, this, dataset));
    items.sort((a, b) => (a.seriesNumber ?? Infinity) - (b.seriesNumber ?? Infinity));
    return {
      items,
      hasMore: page.hasMore,
      warnings: page.warnings,
      received: page.scanned ?? page.items.length,
    };
  }

  protected get owner(): ServerConnection {
    return this.connection;
  }

  protected listing(): string {
    return `the series of study ${this.studyInstanceUid}`;
  }

  protected emptyLabel(): string {
    return 'No series';
  }
}
