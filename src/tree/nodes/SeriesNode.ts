import * as vscode from 'vscode';
import type { ServerConnection } from '../../config/serverConnection';
import type { DicomJsonDataset } from '../../dicom/types';
import type { DicomWebClient } from '../../dicomweb/client';
import type { InstancePath } from '../../dicomweb/requests';
import { counts } from '../models/counts';
import { INSTANCE_FIELDS } from '../models/instance';
import { Series } from '../models/series';
import { ContextValue, PagedNode, type TreeContext } from './DicomWebNode';
import { InstanceNode } from './InstanceNode';
import { escape } from './markdown';
import type { SeriesRow, StudyRow } from './resourceNode';

/** A series row; its data is a {@link Series}, its children the instances, a page at a time. */
export class SeriesNode extends PagedNode<InstanceNode> implements SeriesRow {
  readonly id: string;
  override readonly level = 'series' as const;
  readonly model: Series;

  constructor(
    context: TreeContext,
    readonly parent: StudyRow,
    dataset: DicomJsonDataset,
  ) {
    super(context);
    this.model = new Series(parent.model, dataset);
    this.id = `${parent.id}/series/${this.model.seriesInstanceUid}`;
  }

  get study(): StudyRow {
    return this.parent;
  }

  get dataset(): DicomJsonDataset {
    return this.model.dataset;
  }

  get seriesInstanceUid(): string {
    return this.model.seriesInstanceUid;
  }

  get seriesNumber(): number | undefined {
    return this.model.seriesNumber;
  }

  get modality(): string {
    return this.model.modality;
  }

  get description(): string {
    return this.model.description;
  }

  get instanceCount(): number | undefined {
    return this.model.instanceCount;
  }

  get target(): InstancePath {
    return this.model.target;
  }

  get uid(): string {
    return this.model.seriesInstanceUid;
  }

  get title(): string {
    return this.model.title;
  }

  get summary(): string {
    return this.model.summary;
  }

  get connection(): ServerConnection {
    return this.study.connection;
  }

  get client(): DicomWebClient {
    return this.study.client;
  }

  deleteConfirmation(): string {
    return this.model.deleteConfirmation();
  }

  deleted(): void {
    this.study.contentRemoved(1, this.instanceCount ?? 0);
  }

  /** After instances of this series were deleted: the row (and the study's) shows what is left. */
  instancesRemoved(count: number): void {
    this.model.instancesRemoved(count);
    this.forgetRow();
    this.study.contentRemoved(0, count);
  }

  protected override readonly immutableRow = true;

  protected buildTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.model.label, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    item.contextValue = ContextValue.Series;
    item.iconPath = new vscode.ThemeIcon('layers');
    item.description = counts(this.instanceCount, 'instance', 'instances');
    return item;
  }

  override tooltip(): vscode.MarkdownString {
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${escape(this.model.label)}**\n\n`);
    tooltip.appendMarkdown(`StudyInstanceUID: \`${this.study.model.studyInstanceUid}\`  \n`);
    tooltip.appendMarkdown(`SeriesInstanceUID: \`${this.seriesInstanceUid}\``);
    return tooltip;
  }

  protected async fetchPage(offset: number, limit: number) {
    const page = await this.client.searchPage(
      'instances',
      this.target,
      { includeField: INSTANCE_FIELDS },
      offset,
      limit,
    );
    const items = page.items.map((dataset) => new InstanceNode(this, dataset));
    items.sort((a, b) => (a.instanceNumber ?? Infinity) - (b.instanceNumber ?? Infinity));
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
    return `the instances of series ${this.seriesInstanceUid}`;
  }

  protected emptyLabel(): string {
    return 'No instances';
  }
}
