import * as vscode from 'vscode';
import type { ServerConnection } from '../../config/serverConnection';
import type { DicomJsonDataset } from '../../dicom/types';
import { sopClassName } from '../../dicom/uids';
import type { DicomWebClient } from '../../dicomweb/client';
import { Instance, type InstanceTarget } from '../models/instance';
import { ContextValue, DicomWebNode } from './DicomWebNode';
import type { InstanceResource, SeriesRow } from './resourceNode';

/** An instance row; its data is an {@link Instance}, its parent the series row. */
export class InstanceNode extends DicomWebNode implements InstanceResource {
  readonly id: string;
  override readonly level = 'instance' as const;
  readonly model: Instance;

  constructor(
    readonly parent: SeriesRow,
    dataset: DicomJsonDataset,
  ) {
    super();
    this.model = new Instance(parent.model, dataset);
    this.id = `${parent.id}/instance/${this.model.sopInstanceUid}`;
  }

  get series(): SeriesRow {
    return this.parent;
  }

  get dataset(): DicomJsonDataset {
    return this.model.dataset;
  }

  get sopInstanceUid(): string {
    return this.model.sopInstanceUid;
  }

  get instanceNumber(): number | undefined {
    return this.model.instanceNumber;
  }

  get sopClassUid(): string {
    return this.model.sopClassUid;
  }

  get target(): InstanceTarget {
    return this.model.target;
  }

  get uid(): string {
    return this.model.sopInstanceUid;
  }

  get title(): string {
    return this.model.title;
  }

  get summary(): string {
    return this.model.summary;
  }

  get connection(): ServerConnection {
    return this.series.connection;
  }

  get client(): DicomWebClient {
    return this.series.client;
  }

  deleteConfirmation(): string {
    return this.model.deleteConfirmation();
  }

  deleted(): void {
    this.series.instancesRemoved(1);
  }

  protected override readonly immutableRow = true;

  protected buildTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.model.label, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.contextValue = ContextValue.Instance;
    item.iconPath = new vscode.ThemeIcon('file-media');
    item.description = this.model.details;
    item.command = { command: 'dicomweb.instance.preview', title: 'Preview', arguments: [this] };
    return item;
  }

  override tooltip(): vscode.MarkdownString {
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${this.model.label}** — ${sopClassName(this.sopClassUid)}\n\n`);
    tooltip.appendMarkdown(`SOPInstanceUID: \`${this.sopInstanceUid}\`  \n`);
    tooltip.appendMarkdown(`SOPClassUID: \`${this.sopClassUid}\``);
    return tooltip;
  }
}
