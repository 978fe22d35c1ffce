/**
 * An instance as a QIDO-RS search listed it, inside its series. No `vscode` import: the
 * tree node holds one and builds its row from it.
 */
import { getNumber, getString } from '../../dicom/json';
import { Tag } from '../../dicom/tags';
import type { DicomJsonDataset } from '../../dicom/types';
import { sopClassName } from '../../dicom/uids';
import type { Series } from './series';

export const INSTANCE_FIELDS = [
  'InstanceNumber',
  'SOPClassUID',
  'NumberOfFrames',
  'Rows',
  'Columns',
];

/** An instance's full path: all three UIDs (what a preview or a frame request needs). */
export interface InstanceTarget {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
}

export class Instance {
  readonly sopInstanceUid: string;

  constructor(
    readonly series: Series,
    readonly dataset: DicomJsonDataset,
  ) {
    this.sopInstanceUid = getString(dataset, Tag.SOPInstanceUID) ?? '';
  }

  get instanceNumber(): number | undefined {
    return getNumber(this.dataset, Tag.InstanceNumber);
  }

  get sopClassUid(): string {
    return getString(this.dataset, Tag.SOPClassUID) ?? '';
  }

  get frames(): number | undefined {
    return getNumber(this.dataset, Tag.NumberOfFrames);
  }

  get rows(): number | undefined {
    return getNumber(this.dataset, Tag.Rows);
  }

  get columns(): number | undefined {
    return getNumber(this.dataset, Tag.Columns);
  }

  /**
   * The DICOMweb resource: `/studies/{study}/series/{series}/instances/{instance}` (PS3.18
   * §10.4.1).
   */
  get target(): InstanceTarget {
    return {
      studyInstanceUid: this.series.study.studyInstanceUid,
      seriesInstanceUid: this.series.seriesInstanceUid,
      sopInstanceUid: this.sopInstanceUid,
    };
  }

  /** The row's label: "Instance 2", or the UID when the server sent no number. */
  get label(): string {
    return this.instanceNumber !== undefined
      ? `Instance ${this.instanceNumber}`
      : this.sopInstanceUid;
  }

  /** The row's description: SOP class, frames and size, e.g. "CT Image Storage · 512×512". */
  get details(): string {
    const frames = this.frames;
    const rows = this.rows;
    const columns = this.columns;
    return [
      this.sopClassUid ? sopClassName(this.sopClassUid) : '',
      frames !== undefined && frames > 1 ? `${frames} frames` : '',
      rows !== undefined && columns !== undefined ? `${columns}×${rows}` : '',
    ]
      .filter(Boolean)
      .join(' · ');
  }

  /** A title a person can read: "Test^Shapes — series 1 — instance 2". */
  get title(): string {
    return `${this.series.study.patientName} — series ${this.series.seriesNumber ?? ''} — instance ${this.instanceNumber ?? this.sopInstanceUid}`.replace(
      /\s+/g,
      ' ',
    );
  }

  /** Short, for a question or a progress line: "instance 2". */
  get summary(): string {
    return `instance ${this.instanceNumber ?? this.sopInstanceUid}`;
  }

  /** One line naming patient, series and SOP class, so nobody deletes blind. */
  deleteConfirmation(): string {
    const series = this.series;
    return `Instance ${this.instanceNumber ?? ''} (${sopClassName(this.sopClassUid)}) of series ${series.seriesNumber ?? ''} "${series.description}" of patient ${series.study.patientName} (SOPInstanceUID ${this.sopInstanceUid})`.replace(
      / +/g,
      ' ',
    );
  }
}
