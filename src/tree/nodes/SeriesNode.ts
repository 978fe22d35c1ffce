import * as vscode from 'vscode';
import type { ServerConnection } from '../../config/connections';
import type { DicomJsonDataset } from '../../dicom/types';
import { getNumber, getString } from '../../dicom/json';
import { ContextValue, PagedNode, type TreeContext } from './DicomWebNode';
import { InstanceNode, INSTANCE_FIELDS } from './InstanceNode';
import { escape } from './ServerNode';
import { counts, lowerCount, type StudyNode } from './StudyNode';
import { Tag } from '../../dicom/tags';

export const SERIES_FIELDS = [
  'SeriesDescription',
  'SeriesNumber',
  'Modality',
  'NumberOfSeriesRelatedInstances',
  'BodyPartExamined',
];

export class SeriesNode extends PagedNode<InstanceNode> {
  readonly id: string;
  readonly seriesInstanceUid: string;

  constructor(
    context: TreeContext,
    readonly parent: StudyNode,
    readonly dataset: DicomJsonDataset,
  ) {
    super(context);
    this.seriesInstanceUid = getString(dataset, Tag.SeriesInstanceUID) ?? '';
    this.id = `${parent.id}/series/${this.seriesInstanceUid}`;
  }

  get study(): StudyNode {
    return this.parent;
  }

  get seriesNumber(): number | undefined {
    return getNumber(this.dataset, Tag.SeriesNumber);
  }

  get modality(): string {
    return getString(this.dataset, Tag.Modality) ?? '';
  }

  get description(): string {
    return getString(this.dataset, Tag.SeriesDescription) ?? '';
  }

  get instanceCount(): number | undefined {
    return getNumber(this.dataset, Tag.NumberOfSeriesRelatedInstances);
  }

  /** After instances of this series were deleted: the row (and the study's) shows what is left. */
  instancesRemoved(count: number): void {
    lowerCount(this.dataset, Tag.NumberOfSeriesRelatedInstances, count);
    this.forgetRow();
    this.study.contentRemoved(0, count);
  }

  private rowLabel(): string {
    const number = this.seriesNumber !== undefined ? `#${this.seriesNumber} ` : '';
    return `${number}${this.modality || 'Series'}${this.description ? ` — ${this.description}` : ''}`;
  }

  protected override readonly immutableRow = true;

  protected buildTreeItem(): vscode.TreeItem {
    const label = this.rowLabel();
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    item.contextValue = ContextValue.Series;
    item.iconPath = new vscode.ThemeIcon('layers');
    item.description = counts(this.instanceCount, 'instance', 'instances');
    return item;
  }

  override tooltip(): vscode.MarkdownString {
    const label = this.rowLabel();
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${escape(label)}**\n\n`);
    tooltip.appendMarkdown(`StudyInstanceUID: \`${this.study.studyInstanceUid}\`  \n`);
    tooltip.appendMarkdown(`SeriesInstanceUID: \`${this.seriesInstanceUid}\``);
    return tooltip;
  }

  protected async fetchPage(offset: number, limit: number) {
    const page = await this.study.server.client.searchPage(
      'instances',
      { studyInstanceUid: this.study.studyInstanceUid, seriesInstanceUid: this.seriesInstanceUid },
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
    return this.study.server.connection;
  }

  protected listing(): string {
    return `the instances of series ${this.seriesInstanceUid}`;
  }

  protected emptyLabel(): string {
    return 'No instances';
  }
}
