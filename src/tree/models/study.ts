/**
 * A study as a QIDO-RS search listed it: what its row shows and what commands need
 * (target, UID, title, the words of a delete confirmation). No `vscode` import: the tree
 * node holds one and builds its row from it.
 */
import {
  formatDicomDate,
  formatPersonName,
  getNumber,
  getString,
  getStrings,
} from '../../dicom/json';
import { Tag } from '../../dicom/tags';
import type { DicomJsonDataset } from '../../dicom/types';
import type { InstancePath } from '../../dicomweb/requests';
import { counts, lowerCount } from './counts';

/**
 * Study attributes a row shows, asked for explicitly: not every server returns them by default
 * (PS3.18 §10.6.3.3.1).
 */
export const STUDY_FIELDS = [
  'StudyDescription',
  'ModalitiesInStudy',
  'NumberOfStudyRelatedSeries',
  'NumberOfStudyRelatedInstances',
  'PatientBirthDate',
  'PatientSex',
];

export class Study {
  readonly studyInstanceUid: string;

  constructor(readonly dataset: DicomJsonDataset) {
    this.studyInstanceUid = getString(dataset, Tag.StudyInstanceUID) ?? '';
  }

  get patientName(): string {
    return formatPersonName(getString(this.dataset, Tag.PatientName)) || '(no patient name)';
  }

  get patientId(): string | undefined {
    return getString(this.dataset, Tag.PatientID);
  }

  /** The study date as a person reads it; empty when absent. */
  get studyDate(): string {
    return formatDicomDate(getString(this.dataset, Tag.StudyDate));
  }

  get accessionNumber(): string | undefined {
    return getString(this.dataset, Tag.AccessionNumber);
  }

  get modalities(): string[] {
    return getStrings(this.dataset, Tag.ModalitiesInStudy).filter(Boolean);
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

  /** The DICOMweb resource: `/studies/{study}` (PS3.18 §10.4.1). */
  get target(): InstancePath {
    return { studyInstanceUid: this.studyInstanceUid };
  }

  /** The row's label: "Test^Shapes — CT head". */
  get label(): string {
    return this.description ? `${this.patientName} — ${this.description}` : this.patientName;
  }

  /** A title a person can read: "Test, Shapes — study description". */
  get title(): string {
    return `${this.patientName}${this.description ? ` — ${this.description}` : ''}`;
  }

  /** Short, for a question or a progress line: `the study "CT head" of Test^Shapes`. */
  get summary(): string {
    return `the study "${this.description || this.studyInstanceUid}" of ${this.patientName}`;
  }

  /** One line naming patient, description and counts, so nobody deletes blind. */
  deleteConfirmation(): string {
    const content = [
      counts(this.seriesCount, 'series', 'series'),
      counts(this.instanceCount, 'instance', 'instances'),
    ]
      .filter(Boolean)
      .join(', ');
    return `Study "${this.description || '(no description)'}" of patient ${this.patientName}${content ? ` — ${content}` : ''} (StudyInstanceUID ${this.studyInstanceUid})`;
  }

  /** After a delete below this study: the counts that are left. */
  contentRemoved(series: number, instances: number): void {
    lowerCount(this.dataset, Tag.NumberOfStudyRelatedSeries, series);
    lowerCount(this.dataset, Tag.NumberOfStudyRelatedInstances, instances);
  }
}
