import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatDicomDate,
  formatDicomDateTime,
  formatDicomTime,
  formatPersonName,
  getAttribute,
  getBigInt,
  getNumber,
  getNumbers,
  getSequence,
  getString,
  getStrings,
  getValue,
  getValues,
  personNameToString,
  tagKey,
  type DicomJsonDataset,
} from '../../src/dicom/json';

/** A QIDO-RS study result as Azure / dcm4chee send it (PS3.18 Annex F). */
const study: DicomJsonDataset = JSON.parse(`{
  "00080020": { "vr": "DA", "Value": ["20210716"] },
  "00080030": { "vr": "TM", "Value": ["101530.123"] },
  "00080050": { "vr": "SH" },
  "00080061": { "vr": "CS", "Value": ["CT", null, "SR"] },
  "00080090": { "vr": "PN" },
  "00081190": { "vr": "UR", "Value": ["https://dicom.example/v2/studies/1.2.3"] },
  "00100010": { "vr": "PN", "Value": [{ "Alphabetic": "Doe^John", "Ideographic": "山田^太郎" }] },
  "00100020": { "vr": "LO", "Value": ["PID-1"] },
  "00101010": { "vr": "AS", "Value": ["042Y"] },
  "00101020": { "vr": "DS", "Value": ["1.75"] },
  "0020000D": { "vr": "UI", "Value": ["1.2.3"] },
  "00201206": { "vr": "IS", "Value": [" 3 "] },
  "00201208": { "vr": "IS", "Value": [42] },
  "00280030": { "vr": "DS", "Value": ["0.5", 0.25] },
  "00720026": { "vr": "UV", "Value": ["18446744073709551615"] },
  "7FE00010": { "vr": "OW", "BulkDataURI": "https://dicom.example/v2/studies/1.2.3/bulk/7FE00010" },
  "00290010": { "vr": "LO", "Value": ["ACME 1.0"] },
  "00081199": { "vr": "SQ", "Value": [
    { "00081150": { "vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.2"] }, "00081155": { "vr": "UI", "Value": ["1.2.3.4"] } },
    {},
    null
  ] }
}`);

describe('DICOM JSON access', () => {
  it('builds keys of 8 uppercase hex digits', () => {
    assert.equal(tagKey(0x0020, 0x000d), '0020000D');
    assert.equal(tagKey(0x7fe0, 0x10), '7FE00010');
  });

  it('finds attributes by tag in any form or by keyword', () => {
    assert.equal(getString(study, '0020000D'), '1.2.3');
    assert.equal(getString(study, '(0020,000D)'), '1.2.3');
    assert.equal(getString(study, 0x0020000d), '1.2.3');
    assert.equal(getString(study, 'StudyInstanceUID'), '1.2.3');
    assert.equal(getString(study, 'PatientID'), 'PID-1');
    assert.equal(
      getString({ '0020000d': { vr: 'UI', Value: ['lower'] } }, 'StudyInstanceUID'),
      'lower',
    );
  });

  it('returns undefined / [] for missing attributes and attributes without Value', () => {
    assert.equal(getString(study, 'AccessionNumber'), undefined); // present, no Value
    assert.equal(getString(study, 'ReferringPhysicianName'), undefined); // PN without Value
    assert.equal(getString(study, 'StudyDescription'), undefined); // absent
    assert.deepEqual(getValues(study, 'StudyDescription'), []);
    assert.equal(getString(undefined, 'PatientID'), undefined);
    assert.equal(getString(study, 'NotAKeyword'), undefined);
  });

  it('keeps null entries of a value list in place', () => {
    assert.deepEqual(getValues(study, 'ModalitiesInStudy'), ['CT', null, 'SR']);
    assert.deepEqual(getStrings(study, 'ModalitiesInStudy'), ['CT', '', 'SR']);
    assert.equal(getValue({ '00080060': { vr: 'CS', Value: [null] } }, 'Modality'), undefined);
  });

  it('reads IS/DS/UV numbers sent as JSON strings or numbers', () => {
    assert.equal(getNumber(study, 'PatientSize'), 1.75);
    assert.equal(getNumber(study, 'NumberOfStudyRelatedSeries'), 3); // " 3 "
    assert.equal(getNumber(study, 'NumberOfStudyRelatedInstances'), 42);
    assert.deepEqual(getNumbers(study, 'PixelSpacing'), [0.5, 0.25]);
    assert.equal(getNumber(study, 'PatientID'), undefined); // not numeric
    assert.equal(getBigInt(study, '00720026'), 18446744073709551615n);
    assert.equal(getString(study, 'NumberOfStudyRelatedInstances'), '42');
  });

  it('reads a BulkDataURI attribute without a Value', () => {
    assert.equal(
      getAttribute(study, 'PixelData')?.BulkDataURI,
      'https://dicom.example/v2/studies/1.2.3/bulk/7FE00010',
    );
    assert.equal(getValue(study, 'PixelData'), undefined);
  });

  it('returns sequence items, keeping {} and turning null into {}', () => {
    const items = getSequence(study, 'ReferencedSOPSequence');
    assert.equal(items.length, 3);
    assert.equal(getString(items[0], 'ReferencedSOPInstanceUID'), '1.2.3.4');
    assert.deepEqual(items[1], {});
    assert.deepEqual(items[2], {});
    assert.deepEqual(getSequence(study, 'FailedSOPSequence'), []);
  });

  it('reads a private creator in an odd group', () => {
    assert.equal(getString(study, '00290010'), 'ACME 1.0');
  });
});

describe('person names (PS3.18 §F.2.2)', () => {
  it('takes the Alphabetic group of a PN object', () => {
    assert.equal(getString(study, 'PatientName'), 'Doe^John');
    assert.equal(
      personNameToString({ Alphabetic: 'Doe^John', Ideographic: '山田^太郎' }),
      'Doe^John',
    );
  });

  it('falls back to Ideographic, then Phonetic', () => {
    assert.equal(
      personNameToString({ Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }),
      '山田^太郎',
    );
    assert.equal(personNameToString({ Phonetic: 'やまだ^たろう' }), 'やまだ^たろう');
    assert.equal(personNameToString({}), '');
  });

  it('tolerates a plain string and a single object instead of an array', () => {
    assert.equal(
      getString({ '00100010': { vr: 'PN', Value: ['Doe^Jane'] } }, 'PatientName'),
      'Doe^Jane',
    );
    assert.equal(
      getString(
        { '00100010': { vr: 'PN', Value: 'Doe^Jane' as unknown as unknown[] } },
        'PatientName',
      ),
      'Doe^Jane',
    );
    const single = {
      '00100010': { vr: 'PN', Value: { Alphabetic: 'Roe^Richard' } as unknown as unknown[] },
    };
    assert.equal(getString(single, 'PatientName'), 'Roe^Richard');
    assert.equal(personNameToString('Yamada^Tarou=山田^太郎=やまだ^たろう'), 'Yamada^Tarou');
    assert.equal(personNameToString('=山田^太郎'), '山田^太郎');
    assert.equal(personNameToString(null), '');
  });

  it('formats names as "Family, Prefix Given Middle, Suffix"', () => {
    assert.equal(formatPersonName('Doe^John'), 'Doe, John');
    assert.equal(formatPersonName('Doe^John^Q^Dr^Jr'), 'Doe, Dr John Q, Jr');
    assert.equal(formatPersonName('Doe'), 'Doe');
    assert.equal(formatPersonName('^John'), 'John');
    assert.equal(formatPersonName({ Alphabetic: 'Anonymized' }), 'Anonymized');
    assert.equal(formatPersonName(''), '');
  });
});

describe('date and time formatting (PS3.5 §6.2)', () => {
  it('formats DA, the ACR-NEMA form and ranges', () => {
    assert.equal(formatDicomDate('20210716'), '2021-07-16');
    assert.equal(formatDicomDate('2021.07.16'), '2021-07-16');
    assert.equal(formatDicomDate('20210101-20211231'), '2021-01-01 – 2021-12-31');
    assert.equal(formatDicomDate('20210101-'), '2021-01-01 –');
    assert.equal(formatDicomDate('not a date'), 'not a date');
    assert.equal(formatDicomDate(undefined), '');
  });

  it('formats TM with optional minutes, seconds and fraction', () => {
    assert.equal(formatDicomTime('101530.123'), '10:15:30.123');
    assert.equal(formatDicomTime('101530'), '10:15:30');
    assert.equal(formatDicomTime('1015'), '10:15');
    assert.equal(formatDicomTime('10'), '10');
    assert.equal(formatDicomTime('10:15:30'), '10:15:30');
    assert.equal(formatDicomTime(' 101530 '), '10:15:30');
  });

  it('formats DT with an offset', () => {
    assert.equal(formatDicomDateTime('20210716101530.5+0100'), '2021-07-16 10:15:30.5 +0100');
    assert.equal(formatDicomDateTime('2021'), '2021');
    assert.equal(formatDicomDateTime('202107161015'), '2021-07-16 10:15');
    assert.equal(formatDicomDateTime('garbage'), 'garbage');
  });

  it('formats values read from a dataset', () => {
    assert.equal(formatDicomDate(getString(study, 'StudyDate')), '2021-07-16');
    assert.equal(formatDicomTime(getString(study, 'StudyTime')), '10:15:30.123');
  });
});
