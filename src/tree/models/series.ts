/**
 * A series as a QIDO-RS search listed it, inside its study. No `vscode` import: the tree
 * node holds one and builds its row from it.
 */
import { getNumber, getString } from '../../dicom/json';
import { Tag } from '../../dicom/tags';
import type { DicomJsonDataset } from '../../dicom/types';
import type { InstancePath } from '../../dicomweb/requests';
import { counts, lowerCount } from './counts';
import type { Study } from './study';

export const SERIES_FIELDS = [
  'SeriesDescription',
  'SeriesNumber',
  'Modality',
  'NumberOfSeriesRelatedInstances',
  'BodyPartExamined',
];

export class Series {
  readonly seriesInstanceUid: string;

  constructor(
    readonly study: Study,
    readonly dataset: DicomJsonDataset,
  ) {
    this.seriesInstanceUid = getString(dataset, Tag.SeriesInstanceUID) ?? '';
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

  /** The DICOMweb resource: `/studies/{study}/series/{series}` (PS3.18 §10.4.1). */
  get target(): InstancePath {
    return {
      studyInstanceUid: this.study.studyInstanceUid,
      seriesInstanceUid: this.seriesInstanceUid,
    };
  }

  /** The row's label: "#1 OT — Shapes". */
  get label(): string {
    const number = this.seriesNumber !== undefined ? `#${this.seriesNumber} ` : '';
    return `${number}${this.modality || 'Series'}${this.description ? ` — ${this.description}` : ''}`;
  }

  /** A title a person can read: "Test^Shapes — series 1 OT Shapes". */
  get title(): string {
    return `${this.study.patientName} — series ${this.seriesNumber ?? ''} ${this.modality}${this.description ? ` ${this.description}` : ''}`.replace(
      /\s+/g,
      ' ',
    );
  }

  /** Short, for a question or a progress line: `series 1 OT "Shapes"`. */
  get summary(): string {
    return `series ${this.seriesNumber ?? ''} ${this.modality}${this.description ? ` "${this.description}"` : ''}`.replace(
      /\s+/g,
      ' ',
    );
  }

  /** One line naming patient, study, description and counts, so nobody deletes blind. */
  deleteConfirmation(): string {
    const content = counts(this.instanceCount, 'instance', 'instances');
    return `Series ${this.seriesNumber ?? ''} ${this.modality} "${this.description || '(no description)'}"${content ? ` — ${content}` : ''} of study "${this.study.description}" of patient ${this.study.patientName} (SeriesInstanceUID ${this.seriesInstanceUid})`.replace(
      / +/g,
      ' ',
    );
  }

  /** After instances of this series were deleted: the count that is left. */
  instancesRemoved(count: number): void {
    lowerCount(this.dataset, Tag.NumberOfSeriesRelatedInstances, count);
  }
}
