/**
 * How the local server reads an extended query tag's value from an instance and checks it
 * against the tag's VR (PS3.5 §6.2), on bytes written in Explicit and Implicit VR; and the
 * tree filter taking an extended tag (keyword or private path) as a key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readDataSet } from '../../src/dicom/part10';
import { EXTENDED_QUERY_TAG_VRS } from '../../src/dicom/extendedQueryTagVrs';
import {
  readTagValue,
  validateAddRequest,
  vrProblem,
  type ExtendedTag,
} from '../../src/server/extendedQueryTags';
import { filterToMatch, parseFilter } from '../../src/tree/filter';
import {
  IMPLICIT_VR_LITTLE_ENDIAN,
  makeImageInstance,
  type WriterElement,
} from '../support/dicomWriter';

function dataSetWith(extra: WriterElement[], transferSyntaxUid?: string) {
  const bytes = makeImageInstance({
    studyUid: '1.2.3',
    seriesUid: '1.2.3.4',
    sopInstanceUid: '1.2.3.4.5',
    patientName: 'Doe^Jane',
    patientId: 'P1',
    studyDate: '20240101',
    modality: 'OT',
    rows: 2,
    columns: 2,
    samplesPerPixel: 1,
    photometric: 'MONOCHROME2',
    bitsAllocated: 8,
    pixelData: new Uint8Array(4),
    instanceNumber: 1,
    seriesNumber: 1,
    studyDescription: 'd',
    seriesDescription: 'd',
    accessionNumber: 'A1',
    extraElements: extra,
    ...(transferSyntaxUid ? { transferSyntaxUid } : {}),
  });
  return readDataSet(bytes);
}

const tag = (
  path: string,
  vr: string,
  privateCreator?: string,
): Pick<ExtendedTag, 'path' | 'vr' | 'privateCreator'> => ({
  path,
  vr,
  ...(privateCreator ? { privateCreator } : {}),
});

describe('extended query tag values', () => {
  it('reads a valid value in Explicit and Implicit VR alike', () => {
    for (const ts of [undefined, IMPLICIT_VR_LITTLE_ENDIAN]) {
      const dataSet = dataSetWith([{ tag: '00101030', vr: 'DS', value: '72.5 ' }], ts);
      assert.deepEqual(readTagValue(dataSet, tag('00101030', 'DS')), { value: '72.5' });
    }
  });

  it('reads binary numbers (SS) as decimal text', () => {
    const dataSet = dataSetWith([{ tag: '00189219', vr: 'SS', value: -3 }]);
    assert.deepEqual(readTagValue(dataSet, tag('00189219', 'SS')), { value: '-3' });
  });

  it('gives nothing for an absent or empty value', () => {
    const dataSet = dataSetWith([{ tag: '00101030', vr: 'DS', value: '' }]);
    assert.deepEqual(readTagValue(dataSet, tag('00101030', 'DS')), {});
    assert.deepEqual(readTagValue(dataSet, tag('00101020', 'DS')), {});
  });

  it('indexes the first of several values, flagged (Azure: IndexedDicomTagHasMultipleValues)', () => {
    const dataSet = dataSetWith([
      { tag: '00101030', vr: 'DS', value: ['1.5', '2'] },
      { tag: '00101020', vr: 'DS', value: ['1.5', 'tall'] },
    ]);
    assert.deepEqual(readTagValue(dataSet, tag('00101030', 'DS')), {
      value: '1.5',
      multiple: true,
    });
    // Any value that breaks the VR makes the element invalid, not only the first.
    assert.match(readTagValue(dataSet, tag('00101020', 'DS')).error ?? '', /"tall".*DS/);
  });

  it('refuses another explicit VR, and values that break their VR', () => {
    const dataSet = dataSetWith([
      { tag: '00080022', vr: 'DA', value: '20230230' },
      { tag: '00101010', vr: 'AS', value: '45' },
      { tag: '00181030', vr: 'LO', value: 'x' },
    ]);
    assert.match(readTagValue(dataSet, tag('00080022', 'DA')).error ?? '', /not a valid DA/);
    assert.match(readTagValue(dataSet, tag('00101010', 'AS')).error ?? '', /not a valid AS/);
    assert.match(readTagValue(dataSet, tag('00181030', 'SH')).error ?? '', /VR LO/);
  });

  it('reads a private tag only in the block of its creator (PS3.5 §7.8.1)', () => {
    const dataSet = dataSetWith([
      { tag: '00090010', vr: 'LO', value: 'ACME 1' },
      { tag: '00091001', vr: 'LO', value: 'seven' },
    ]);
    assert.deepEqual(readTagValue(dataSet, tag('00091001', 'LO', 'ACME 1')), { value: 'seven' });
    assert.deepEqual(readTagValue(dataSet, tag('00091001', 'LO', 'OTHER')), {});
  });

  it('checks each VR by PS3.5 §6.2', () => {
    const cases: Array<[string, string, boolean]> = [
      ['DA', '20240229', true],
      ['DA', '20230229', false],
      ['TM', '235959.123', true],
      ['TM', '2460', false],
      ['DT', '20240101120000+0100', true],
      ['CS', 'ORIGINAL', true],
      ['CS', 'lower', false],
      ['IS', '2147483647', true],
      ['IS', '2147483648', false],
      ['DS', '-1.5e3', true],
      ['DS', '1,5', false],
      ['UI', '1.2.840.10008', true],
      ['UI', '1.2.x', false],
      ['SH', 'x'.repeat(17), false],
      ['LO', 'x'.repeat(64), true],
      ['LO', `a${String.fromCharCode(1)}b`, false],
    ];
    for (const [vr, value, valid] of cases)
      assert.equal(vrProblem(vr, value) === undefined, valid, `${vr} "${value}"`);
  });

  it("the indexable VRs are the 18 of Azure's documentation, no more", () => {
    // learn.microsoft.com, "Extended query tags overview", "The following VR types are supported".
    const documented = 'AE AS CS DA DS DT FD FL IS LO PN SH SL SS TM UI UL US'.split(' ');
    assert.deepEqual([...EXTENDED_QUERY_TAG_VRS].sort(), documented);
  });

  it('the local server adds a private tag with each indexable VR and refuses every other VR', () => {
    // Every VR of PS3.5 Table 6.2-1.
    const allVrs =
      'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV';
    for (const vr of allVrs.split(' ')) {
      const add = () =>
        validateAddRequest(
          [{ Path: '00091001', VR: vr, Level: 'Study', PrivateCreator: 'ACME 1.0' }],
          new Map(),
          128,
        );
      if (EXTENDED_QUERY_TAG_VRS.includes(vr)) assert.equal(add()[0]!.vr, vr);
      else assert.throws(add, /not supported for extended query|is a sequence/, vr);
    }
  });
});

describe('the tree filter with extended query tags', () => {
  it('takes a keyword or a private tag path as a QIDO key', () => {
    const filter = parseFilter('PatientWeight=72.5; 00091001=seven; modality=CT');
    assert.deepEqual(filterToMatch(filter), {
      ModalitiesInStudy: 'CT',
      PatientWeight: '72.5',
      '00091001': 'seven',
    });
  });
});
