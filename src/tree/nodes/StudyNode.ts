import * as vscode from 'vscode';
import type { ServerConnection } from '../../config/connections';
import type { DicomJsonDataset } from '../../dicom/types';
import {
  formatDicomDate,
  formatPersonName,
  getNumber,
  getString,
  getStrings,
} from '../../dicom/json';
import { ContextValue, PagedNode, type DicomWebNode, type TreeContext } from './DicomWebNode';
import { escape, type ServerNode } from './ServerNode';
import { SeriesNode, SERIES_FIELDS } from './SeriesNode';
import { Tag } from '../../dicom/tags';

/** Study attributes a row shows, asked for explicitly: not every server returns them by default (PS3.18 §10.6.3.3.1). */
export const STUDY_FIELDS = [
  'StudyDescription',
  'ModalitiesInStudy',
  'NumberOfStudyRelatedSeries',
  'NumberOfStudyRelatedInstances',
  'PatientBirthDate',
  'PatientSex',
];

export class StudyNode extends PagedNode<SeriesNode> {
  readonly id: string;
  readonly studyInstanceUid: string;

  constructor(
    context: TreeContext,
    readonly parent: ServerNode,
    readonly dataset: DicomJsonDataset,
  ) {
    super(context);
    this.studyInstanceUid = getString(dataset, Tag.StudyInstanceUID) ?? '';
    this.id = `${parent.id}/study/${this.studyInstanceUid}`;
  }

  get server(): ServerNode {
    return this.parent;
  }

  get patientName(): string {
    return formatPersonName(getString(this.dataset, Tag.PatientName)) || '(no patient name)';
  }

  get description(): string {
    return getString(this.dataset, Tag.StudyDescription) ?? '';
  }

  get seriesCount(): number | undefined {
    return getNumber(this.dataset, Tag.NumberOfStudyRelatedSeries);
  }

  get instanceCount(): number | undefined {
    return getNumber(this.dataset, Tag.NumberOfStudyRelatedInstances);
  }

  /** After a delete below this study: its row shows the counts that are left. */
  contentRemoved(series: number, instances: number): void {
    lowerCount(this.dataset, Tag.NumberOfStudyRelatedSeries, series);
    lowerCount(this.dataset, Tag.NumberOfStudyRelatedInstances, instances);
    this.forgetRow();
    this.context.changed(this);
  }

  private rowLabel(): string {
    return this.description ? `${this.patientName} — ${this.description}` : this.patientName;
  }

  protected override readonly immutableRow = true;

  protected buildTreeItem(): vscode.TreeItem {
    const label = this.rowLabel();
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    item.contextValue = ContextValue.Study;
    item.iconPath = new vscode.ThemeIcon('files');
    const parts = [
      getString(this.dataset, Tag.PatientID),
      formatDicomDate(getString(this.dataset, Tag.StudyDate)),
      getStrings(this.dataset, Tag.ModalitiesInStudy).filter(Boolean).join('/'),
      counts(this.seriesCount, 'series', 'series') +
        (this.instanceCount !== undefined
          ? `, ${counts(this.instanceCount, 'instance', 'instances')}`
          : ''),
    ].filter((part) => part);
    item.description = parts.join(' · ');
    return item;
  }

  override tooltip(): vscode.MarkdownString {
    const label = this.rowLabel();
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${escape(label)}**\n\n`);
    tooltip.appendMarkdown(
      `Patient ID: ${escape(getString(this.dataset, Tag.PatientID) ?? '—')}  \n`,
    );
    tooltip.appendMarkdown(
      `Study date: ${formatDicomDate(getString(this.dataset, Tag.StudyDate)) || '—'}  \n`,
    );
    tooltip.appendMarkdown(
      `Accession: ${escape(getString(this.dataset, Tag.AccessionNumber) ?? '—')}  \n`,
    );
    tooltip.appendMarkdown(`StudyInstanceUID: \`${this.studyInstanceUid}\``);
    return tooltip;
  }

  protected async fetchPage(offset: number, limit: number) {
    const page = await this.server.client.searchPage(
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
    return this.server.connection;
  }

  protected listing(): string {
    return `the series of study ${this.studyInstanceUid}`;
  }

  protected emptyLabel(): string {
    return 'No series';
  }
}

export function counts(value: number | undefined, one: string, many: string): string {
  if (value === undefined) return '';
  return `${value} ${value === 1 ? one : many}`;
}

export type { DicomWebNode };

/**
 * Lowers a count attribute of a row's dataset (NumberOfStudyRelatedInstances …, PS3.18
 * §10.6.3.3) by `by`, never below 0: after a delete the row shows what is left without a
 * new query. Absent counts stay absent (the server did not send one).
 */
export function lowerCount(dataset: DicomJsonDataset, tag: string, by: number): void {
  const element = dataset[tag];
  const value = element?.Value?.[0];
  const current =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d+\s*$/.test(value)
        ? Number(value)
        : undefined;
  if (!element || current === undefined || by <= 0) return;
  element.Value = [Math.max(0, current - by)];
}
