import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  describeTag,
  formatTag,
  isPrivateTag,
  keywordToName,
  lookupTag,
  normalizeTag,
  resolveTag,
  tagForKeyword,
} from '../../src/dicom/dictionary';

describe('lookupTag', () => {
  it('finds a registry attribute with keyword, VR, VM and a readable name', () => {
    assert.deepEqual(lookupTag('0020000D'), {
      tag: '0020000D',
      keyword: 'StudyInstanceUID',
      vr: 'UI',
      vm: '1',
      name: 'Study Instance UID',
      retired: false,
      private: false,
    });
  });

  it('accepts lowercase, "(gggg,eeee)", "gggg,eeee" and numeric tags', () => {
    for (const form of [
      '0010,0010',
      '(0010,0010)',
      '00100010',
      '00100010'.toLowerCase(),
      0x00100010,
    ]) {
      assert.equal(lookupTag(form)?.keyword, 'PatientName', String(form));
    }
  });

  it('maps DCMTK pseudo-VRs to the PS3.6 VR column', () => {
    assert.equal(lookupTag('7FE00010')?.vr, 'OB or OW'); // PixelData
    assert.equal(lookupTag('00280106')?.vr, 'US or SS'); // SmallestImagePixelValue
    assert.equal(lookupTag('00283006')?.vr, 'US or OW'); // LUTData
    assert.equal(lookupTag('FFFEE000')?.vr, ''); // Item
  });

  it('knows the attributes a DICOMweb client meets in STOW and QIDO responses', () => {
    assert.equal(lookupTag('00081199')?.keyword, 'ReferencedSOPSequence');
    assert.equal(lookupTag('00081199')?.vr, 'SQ');
    assert.equal(lookupTag('00081198')?.keyword, 'FailedSOPSequence');
    assert.equal(lookupTag('00081197')?.keyword, 'FailureReason');
    assert.equal(lookupTag('00081190')?.keyword, 'RetrieveURL');
    assert.equal(lookupTag('00201208')?.keyword, 'NumberOfStudyRelatedInstances');
    assert.equal(lookupTag('00280030')?.vm, '2'); // PixelSpacing
  });

  it('resolves repeating groups 50xx, 60xx and 7Fxx in even groups only (PS3.5 §7.6)', () => {
    const overlay = lookupTag('60023000');
    assert.equal(overlay?.keyword, 'OverlayData');
    assert.equal(overlay?.tag, '60023000');
    assert.equal(overlay?.pattern, '60xx3000');
    assert.equal(lookupTag('601E0010')?.keyword, 'OverlayRows');
    assert.equal(lookupTag('50100005')?.keyword, 'CurveDimensions');
    assert.equal(lookupTag('50100005')?.retired, true);
    assert.equal(lookupTag('7F020010')?.keyword, 'VariablePixelData');
    assert.equal(lookupTag('7FE00010')?.keyword, 'PixelData'); // the exact entry wins over 7Fxx
    assert.equal(lookupTag('00203105')?.keyword, 'SourceImageIDs'); // element range (0020,31xx)
    assert.equal(lookupTag('60013000')?.private, true); // odd: private, not an overlay
  });

  it('describes private tags: creator, group length, data (PS3.5 §7.8.1)', () => {
    assert.deepEqual(lookupTag('00091010'), {
      tag: '00091010',
      keyword: '',
      vr: 'UN',
      vm: '1',
      name: 'Private Tag',
      retired: false,
      private: true,
    });
    assert.equal(lookupTag('00290010')?.name, 'Private Creator');
    assert.equal(lookupTag('00290010')?.vr, 'LO');
    assert.equal(lookupTag('00090000')?.name, 'Private Group Length');
    assert.equal(describeTag('00091010'), 'Private Tag (0009,1010)');
    assert.equal(isPrivateTag('00091010'), true);
    assert.equal(isPrivateTag('00030010'), false); // odd groups 0001-0007 are not private
    assert.equal(isPrivateTag('00100010'), false);
  });

  it('gives a group length for any group and undefined for unknown or malformed tags', () => {
    assert.equal(lookupTag('00080000')?.name, 'Group Length');
    assert.equal(lookupTag('00080000')?.vr, 'UL');
    assert.equal(lookupTag('0008FFFE'), undefined);
    assert.equal(lookupTag('nonsense'), undefined);
    assert.equal(lookupTag('0020000'), undefined);
  });
});

describe('tagForKeyword / resolveTag / formatting', () => {
  it('maps keywords to tags, repeating groups to their first group', () => {
    assert.equal(tagForKeyword('StudyInstanceUID'), '0020000D');
    assert.equal(tagForKeyword('PatientName'), '00100010');
    assert.equal(tagForKeyword('OverlayData'), '60003000');
    assert.equal(tagForKeyword('studyinstanceuid'), undefined); // keywords are case-sensitive
    assert.equal(tagForKeyword('NoSuchKeyword'), undefined);
  });

  it('round-trips every non-repeating registry entry keyword → tag → keyword', () => {
    // Read the generated file as text, apart from dictionary.ts's own reading of it:
    // ">GROUP" lines, then "ELEMENT|VR|VM|Keyword[|R]".
    const data = readFileSync(join(__dirname, '../../../src/dicom/dictionaryData.ts'), 'utf8');
    const entries: Array<[string, string]> = [];
    let group = '';
    for (const line of data.split('\n')) {
      if (/^>[0-9A-Fx]{4}$/.test(line)) group = line.slice(1);
      else if (/^[0-9A-F]{4}\|/.test(line) && /^[0-9A-F]{4}$/.test(group))
        entries.push([group + line.slice(0, 4), line.split('|')[3]!]);
    }
    assert.ok(entries.length > 4500, `${entries.length} entries`);
    for (const [tag, keyword] of entries) {
      assert.equal(tagForKeyword(keyword), tag, keyword);
      assert.equal(lookupTag(tag)?.keyword, keyword, tag);
    }
  });

  it('resolves tags or keywords and formats tags for display', () => {
    assert.equal(resolveTag('PatientID'), '00100020');
    assert.equal(resolveTag('(0010,0020)'), '00100020');
    assert.equal(normalizeTag('x7fe00010'), '7FE00010');
    assert.equal(normalizeTag(0x10), '00000010');
    assert.equal(formatTag('0020000D'), '(0020,000D)');
    assert.equal(describeTag('0020000D'), 'Study Instance UID');
    assert.equal(describeTag('0008FFFE'), '(0008,FFFE)');
  });

  it('splits keywords into words', () => {
    assert.equal(keywordToName('SOPInstanceUID'), 'SOP Instance UID');
    assert.equal(keywordToName('PatientBirthDate'), 'Patient Birth Date');
    assert.equal(keywordToName('XRay3DFrameTypeSequence'), 'X Ray 3D Frame Type Sequence');
  });
});
