/**
 * What the tree's rows say about a study, series or instance (src/tree/models/), read from
 * the DICOM JSON a QIDO-RS search returns (PS3.18 §F.2): the titles of editors and panels,
 * the words of the delete question, and the counts a delete lowers. Plain Node: the models
 * have no `vscode` import.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tag } from '../../src/dicom/tags';
import type { DicomJsonDataset } from '../../src/dicom/types';
import { counts, lowerCount } from '../../src/tree/models/counts';
import { Instance } from '../../src/tree/models/instance';
import { Series } from '../../src/tree/models/series';
import { Study } from '../../src/tree/models/study';

const STUDY_UID = '1.2.826.0.1.3680043.8.498.10';
const SERIES_UID = '1.2.826.0.1.3680043.8.498.11';
const SOP_UID = '1.2.826.0.1.3680043.8.498.12';
const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

function studyDataset(): DicomJsonDataset {
  return {
    [Tag.StudyInstanceUID]: { vr: 'UI', Value: [STUDY_UID] },
    [Tag.PatientName]: { vr: 'PN', Value: [{ Alphabetic: 'Test^Shapes' }] },
    [Tag.StudyDescription]: { vr: 'LO', Value: ['DICOMweb tutorial shapes'] },
    [Tag.NumberOfStudyRelatedSeries]: { vr: 'IS', Value: [2] },
    [Tag.NumberOfStudyRelatedInstances]: { vr: 'IS', Value: ['3'] },
  };
}

function seriesDataset(): DicomJsonDataset {
  return {
    [Tag.SeriesInstanceUID]: { vr: 'UI', Value: [SERIES_UID] },
    [Tag.SeriesNumber]: { vr: 'IS', Value: [1] },
    [Tag.Modality]: { vr: 'CS', Value: ['OT'] },
    [Tag.SeriesDescription]: { vr: 'LO', Value: ['Shapes'] },
    [Tag.NumberOfSeriesRelatedInstances]: { vr: 'IS', Value: [2] },
  };
}

function instanceDataset(): DicomJsonDataset {
  return {
    [Tag.SOPInstanceUID]: { vr: 'UI', Value: [SOP_UID] },
    [Tag.InstanceNumber]: { vr: 'IS', Value: [2] },
    [Tag.SOPClassUID]: { vr: 'UI', Value: [CT_IMAGE_STORAGE] },
    [Tag.Rows]: { vr: 'US', Value: [64] },
    [Tag.Columns]: { vr: 'US', Value: [128] },
  };
}

function tree(): { study: Study; series: Series; instance: Instance } {
  const study = new Study(studyDataset());
  const series = new Series(study, seriesDataset());
  return { study, series, instance: new Instance(series, instanceDataset()) };
}

describe('tree models', () => {
  it('each level names its DICOMweb resource by the UIDs above it', () => {
    const { study, series, instance } = tree();
    assert.deepEqual(study.target, { studyInstanceUid: STUDY_UID });
    assert.deepEqual(series.target, {
      studyInstanceUid: STUDY_UID,
      seriesInstanceUid: SERIES_UID,
    });
    assert.deepEqual(instance.target, {
      studyInstanceUid: STUDY_UID,
      seriesInstanceUid: SERIES_UID,
      sopInstanceUid: SOP_UID,
    });
  });

  it('titles name the patient at every level', () => {
    const { study, series, instance } = tree();
    assert.equal(study.title, 'Test, Shapes — DICOMweb tutorial shapes');
    assert.equal(series.title, 'Test, Shapes — series 1 OT Shapes');
    assert.equal(instance.title, 'Test, Shapes — series 1 — instance 2');
  });

  it('the delete question names patient, description, counts and UID', () => {
    const { study, series, instance } = tree();
    assert.equal(
      study.deleteConfirmation(),
      `Study "DICOMweb tutorial shapes" of patient Test, Shapes — 2 series, 3 instances (StudyInstanceUID ${STUDY_UID})`,
    );
    assert.equal(
      series.deleteConfirmation(),
      `Series 1 OT "Shapes" — 2 instances of study "DICOMweb tutorial shapes" of patient Test, Shapes (SeriesInstanceUID ${SERIES_UID})`,
    );
    assert.equal(
      instance.deleteConfirmation(),
      `Instance 2 (CT Image) of series 1 "Shapes" of patient Test, Shapes (SOPInstanceUID ${SOP_UID})`,
    );
    assert.equal(study.summary, 'the study "DICOMweb tutorial shapes" of Test, Shapes');
    assert.equal(series.summary, 'series 1 OT "Shapes"');
    assert.equal(instance.summary, 'instance 2');
  });

  it('a row without a description or numbers still says what it is', () => {
    const study = new Study({ [Tag.StudyInstanceUID]: { vr: 'UI', Value: [STUDY_UID] } });
    const series = new Series(study, {
      [Tag.SeriesInstanceUID]: { vr: 'UI', Value: [SERIES_UID] },
    });
    const instance = new Instance(series, { [Tag.SOPInstanceUID]: { vr: 'UI', Value: [SOP_UID] } });
    assert.equal(study.label, '(no patient name)');
    assert.equal(study.summary, `the study "${STUDY_UID}" of (no patient name)`);
    assert.equal(series.label, 'Series');
    assert.equal(instance.label, SOP_UID);
    assert.equal(instance.title, `(no patient name) — series — instance ${SOP_UID}`);
  });

  it('a delete lowers the counts a row shows, never below zero, and leaves absent counts absent', () => {
    const { study, series } = tree();
    series.instancesRemoved(1);
    study.contentRemoved(0, 1);
    assert.equal(series.instanceCount, 1);
    assert.equal(study.instanceCount, 2);
    study.contentRemoved(5, 5);
    assert.equal(study.seriesCount, 0);
    assert.equal(study.instanceCount, 0);
    const bare: DicomJsonDataset = {};
    lowerCount(bare, Tag.NumberOfStudyRelatedInstances, 1);
    assert.deepEqual(bare, {});
    assert.equal(counts(1, 'instance', 'instances'), '1 instance');
    assert.equal(counts(undefined, 'instance', 'instances'), '');
  });
});
