/**
 * The preview's overlay attributes read the same from a Part 10 file (dicom-parser) and from
 * the DICOM JSON metadata a server returns for it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readDataSet } from '../../src/dicom/part10';
import { overlayFromDataSet, overlayFromJson } from '../../src/preview/overlay';
import { makeSeedInstance, SEED } from '../support/seedData';

const EXPECTED = {
  patientName: 'Test, Shapes',
  patientId: 'SHAPES-0001',
  studyDate: '2021-07-16',
  studyDescription: 'DICOMweb tutorial shapes',
  seriesDescription: 'Square and triangle',
  seriesNumber: '1',
  instanceNumber: '2',
  modality: 'OT',
};

describe('overlay attributes', () => {
  it('come from a parsed file: names formatted, dates readable', () => {
    const overlay = overlayFromDataSet(readDataSet(makeSeedInstance('redTriangle')));
    assert.deepEqual(
      { ...overlay, sopClassName: undefined },
      { ...EXPECTED, sopClassName: undefined },
    );
    assert.match(overlay.sopClassName ?? '', /Secondary Capture/);
  });

  it('come out the same from DICOM JSON, PN as an object and numbers as JSON numbers', () => {
    const overlay = overlayFromJson({
      '00080016': { vr: 'UI', Value: [SEED.redTriangle.sopClassUid] },
      '00080020': { vr: 'DA', Value: ['20210716'] },
      '00080060': { vr: 'CS', Value: ['OT'] },
      '00081030': { vr: 'LO', Value: ['DICOMweb tutorial shapes'] },
      '0008103E': { vr: 'LO', Value: ['Square and triangle'] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Test^Shapes' }] },
      '00100020': { vr: 'LO', Value: ['SHAPES-0001'] },
      '00200011': { vr: 'IS', Value: [1] },
      '00200013': { vr: 'IS', Value: [2] },
    });
    assert.deepEqual(overlay, overlayFromDataSet(readDataSet(makeSeedInstance('redTriangle'))));
  });
});
