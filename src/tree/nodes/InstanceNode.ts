import * as vscode from 'vscode';
import type { DicomJsonDataset } from '../../dicom/types';
import { getNumber, getString } from '../../dicom/json';
import { sopClassName } from '../../dicom/uids';
import { ContextValue, DicomWebNode } from './DicomWebNode';
import type { SeriesNode } from './SeriesNode';
import { Tag } from '../../dicom/tags';

export const INSTANCE_FIELDS = [
  'InstanceNumber',
  'SOPClassUID',
  'NumberOfFrames',
  'Rows',
  'Columns',
];

export class InstanceNode extends DicomWebNode {
  readonly id: string;
  readonly sopInstanceUid: string;

  constructor(
    readonly parent: SeriesNode,
    readonly dataset: DicomJsonDataset,
  ) {
    super();
    this.sopInstanceUid = getString(dataset, Tag.SOPInstanceUID) ?? '';
    this.id = `${parent.id}/instance/${this.sopInstanceUid}`;
  }

  get series(): SeriesNode {
    return this.parent;
  }

  get instanceNumber(): number | undefined {
    return getNumber(this.dataset, Tag.InstanceNumber);
  }

  get sopClassUid(): string {
    return getString(this.dataset, Tag.SOPClassUID) ?? '';
  }

  get target(): { studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string } {
    return {
      studyInstanceUid: this.series.study.studyInstanceUid,
      seriesInstanceUid: this.series.seriesInstanceUid,
      sopInstanceUid: this.sopInstanceUid,
    };
  }

  private rowLabel(): string {
    return this.instanceNumber !== undefined
      ? `Instance ${this.instanceNumber}`
      : this.sopInstanceUid;
  }

  protected override readonly immutableRow = true;

  protected buildTreeItem(): vscode.TreeItem {
    const label = this.rowLabel();
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.contextValue = ContextValue.Instance;
    item.iconPath = new vscode.ThemeIcon('file-media');
    const frames = getNumber(this.dataset, Tag.NumberOfFrames);
    const rows = getNumber(this.dataset, Tag.Rows);
    const columns = getNumber(this.dataset, Tag.Columns);
    item.description = [
      this.sopClassUid ? sopClassName(this.sopClassUid) : '',
      frames !== undefined && frames > 1 ? `${frames} frames` : '',
      rows !== undefined && columns !== undefined ? `${columns}×${rows}` : '',
    ]
      .filter(Boolean)
      .join(' · ');
    item.command = { command: 'dicomweb.instance.preview', title: 'Preview', arguments: [this] };
    return item;
  }

  override tooltip(): vscode.MarkdownString {
    const label = this.rowLabel();
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${label}** — ${sopClassName(this.sopClassUid)}\n\n`);
    tooltip.appendMarkdown(`SOPInstanceUID: \`${this.sopInstanceUid}\`  \n`);
    tooltip.appendMarkdown(`SOPClassUID: \`${this.sopClassUid}\``);
    return tooltip;
  }
}
