/**
 * The texts the viewer draws over the image's corners (patient, study, series, instance),
 * read the same from a parsed local file and from a server's DICOM JSON metadata
 * (PS3.18 Annex F). No `vscode` import: tested in plain Node.
 */
import type * as dicomParser from 'dicom-parser';
import type { OverlayAttributes } from '../../webview/protocol';
import { formatDicomDate, formatPersonName, getString, type DicomJsonDataset } from '../dicom/json';
import { Tag } from '../dicom/tags';
import { sopClassLabel } from '../dicom/uids';
import { headerText } from '../imaging/header/imageInfo';

/** Overlay attributes of a parsed file. */
export function overlayFromDataSet(dataSet: dicomParser.DataSet): OverlayAttributes {
  return overlayOf((tag) => headerText(dataSet, `x${tag.toLowerCase()}`));
}

/** Overlay attributes of DICOM JSON metadata (PN values come back as their Alphabetic text). */
export function overlayFromJson(ds: DicomJsonDataset): OverlayAttributes {
  return overlayOf((tag) => getString(ds, tag));
}

/** The overlay's attributes, read by tag (8 upper-case hex digits) from either source. */
function overlayOf(read: (tag: string) => string | undefined): OverlayAttributes {
  const attributes: OverlayAttributes = {};
  const set = (key: keyof OverlayAttributes, value: string | undefined) => {
    if (value) attributes[key] = value;
  };
  set('patientName', formatPersonName(read(Tag.PatientName)));
  set('patientId', read(Tag.PatientID));
  set('studyDate', formatDicomDate(read(Tag.StudyDate)));
  set('studyDescription', read(Tag.StudyDescription));
  set('seriesDescription', read(Tag.SeriesDescription));
  set('seriesNumber', read(Tag.SeriesNumber));
  set('instanceNumber', read(Tag.InstanceNumber));
  set('modality', read(Tag.Modality));
  const sopClass = read(Tag.SOPClassUID);
  if (sopClass) set('sopClassName', sopClassLabel(sopClass));
  return attributes;
}
