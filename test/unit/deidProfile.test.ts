/**
 * The confidentiality profile table generated from the standard's data (PS3.15 Annex E,
 * Table E.1-1; src/dicom/deidentify/profileData.ts by scripts/gen-deid-profile.mjs), held
 * against the project's PS3.6 dictionary and against rows cited from the standard.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lookupTag } from '../../src/dicom/dictionary';
import {
  OPTIONS,
  privateRow,
  profileRowFor,
  profileRows,
  resolveAction,
  type DeidentifyOption,
} from '../../src/dicom/deidentify/profile';

/** Letters and digits only, lower case: how the table's names and PS3.6 keywords compare. */
function normalize(name: string): string {
  // PS3.6 keywords drop the possessive ("Patient's Name" → PatientName) and punctuation.
  return name
    .replace(/'s\b/gi, '')
    .replace(/[^A-Za-z0-9]/g, '')
    .toLowerCase();
}

function count<T>(values: T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

describe('de-identification profile table (PS3.15 Table E.1-1)', () => {
  it('has every row of the table, with the actions the standard uses', () => {
    const rows = profileRows();
    assert.equal(rows.length, 621);
    assert.deepEqual(Object.fromEntries(count(rows.map((r) => r.basic))), {
      X: 384,
      D: 92,
      U: 54,
      Z: 42,
      'X/D': 22,
      'X/Z': 11,
      'X/Z/D': 8,
      'Z/D': 6,
      'X/Z/U*': 2,
    });
    const perColumn = (column: string) => rows.filter((r) => column in r.options).length;
    assert.equal(perColumn('rtnUIDsOpt'), 59);
    assert.equal(perColumn('rtnLongModifDatesOpt'), 165);
    assert.equal(perColumn('cleanDescOpt'), 125);
    assert.equal(perColumn('rtnSafePrivOpt'), 1);
  });

  it('names only tags of the PS3.6 dictionary, under the same names', () => {
    const unknown: string[] = [];
    const misnamed: string[] = [];
    for (const row of profileRows()) {
      if (row.tag === 'private') continue;
      // A repeating group (PS3.5 §7.6) is checked on its first member (6000, 5000).
      const info = lookupTag(row.tag.replace(/x/g, '0'));
      if (row.tag === '50xxxxxx') {
        // "Curve Data" names a whole retired group; its members are in PS3.6.
        assert.equal(lookupTag('50003000')?.keyword, 'CurveData');
        continue;
      }
      if (!info?.keyword) {
        assert.match(row.vr, /^[A-Z]{2}$/, `${row.tag} carries its VR from the scrape`);
        unknown.push(row.name);
        continue;
      }
      if (normalize(row.name) !== normalize(info.keyword))
        misnamed.push(`${row.tag} "${row.name}" vs ${info.keyword}`);
    }
    // The dictionary is DCMTK's of PS3.6 2022b; the table is of 2025. These attributes came
    // after 2022b: when the dictionary is regenerated from a newer edition, this list empties.
    assert.deepEqual(unknown, [
      'Issuer of Clinical Trial Protocol ID',
      'Other Clinical Trial Protocol IDs Sequence',
      'Issuer of Clinical Trial Site ID',
      'Issuer of Clinical Trial Subject ID',
      'Issuer of Clinical Trial Subject Reading ID',
      'Issuer of Clinical Trial Time Point ID',
      'Issuer of Clinical Trial Series ID',
      'Date of Manufacture',
      'Date of Installation',
      'Waveform Filter Description',
      'Filter Lookup Table Description',
      'Position Acquisition Template Name',
      'Position Acquisition Template Description',
      'ROI DateTime',
      'ROI Observation DateTime',
      'ROI Creator Sequence',
      'ROI Interpreter Sequence',
    ]);
    assert.deepEqual(misnamed, []);
  });

  it('holds rows as the standard prints them', () => {
    const row = (tag: number) => {
      const found = profileRowFor(tag);
      assert.ok(found, `no row for ${tag.toString(16)}`);
      return found;
    };
    assert.equal(row(0x00100010).basic, 'Z'); // Patient's Name
    assert.equal(row(0x00100010).name, "Patient's Name");
    assert.deepEqual(row(0x00080018).options, { rtnUIDsOpt: 'K' }); // SOP Instance UID, U
    assert.equal(row(0x00080018).basic, 'U');
    assert.deepEqual(row(0x00080020).options, {
      rtnLongFullDatesOpt: 'K',
      rtnLongModifDatesOpt: 'C',
    });
    assert.equal(row(0x00184000).basic, 'X'); // Acquisition Comments
    assert.deepEqual(row(0x00184000).options, { cleanDescOpt: 'C' });
    assert.equal(row(0x00081140).basic, 'X/Z/U*'); // Referenced Image Sequence
    assert.equal(row(0x0040a730).basic, 'D'); // Content Sequence
    assert.deepEqual(row(0x0040a730).options, { cleanStructContOpt: 'C' });
    // Repeating groups: any overlay group, any curve element.
    assert.equal(row(0x60023000).name, 'Overlay Data');
    assert.equal(row(0x501e0010).name, 'Curve Data');
    assert.equal(profileRowFor(0x60020010), undefined); // Overlay Rows: not in the table
    assert.equal(privateRow().basic, 'X');
    assert.deepEqual(privateRow().options, { rtnSafePrivOpt: 'C' });
  });

  it('resolves options over the basic action, and combined actions toward conformance', () => {
    const none = new Set<DeidentifyOption>();
    const studyDate = profileRowFor(0x00080020)!;
    assert.equal(resolveAction(studyDate, none).action, 'Z');
    assert.equal(resolveAction(studyDate, new Set(['retainLongitudinalFullDates'])).action, 'K');
    assert.equal(
      resolveAction(studyDate, new Set(['retainLongitudinalModifiedDates'])).action,
      'C',
    );
    // X/Z/D → D, X/Z/U* → U (the sequence stays, its UIDs are replaced).
    assert.equal(resolveAction(profileRowFor(0x00080013)!, none).action, 'D');
    assert.equal(resolveAction(profileRowFor(0x00081140)!, none).action, 'U');
    // Retain wins over clean: Date of Last Calibration with device identity and modified dates.
    const calibration = profileRowFor(0x00181200)!;
    const both = new Set<DeidentifyOption>([
      'retainDeviceIdentity',
      'retainLongitudinalModifiedDates',
    ]);
    assert.deepEqual(resolveAction(calibration, both), {
      action: 'K',
      tableAction: 'K',
      option: 'retainDeviceIdentity',
    });
  });

  it('has a CID 7050 code for every option, each a distinct DCM code', () => {
    const codes = OPTIONS.map((o) => o.code);
    assert.equal(new Set(codes).size, codes.length);
    for (const info of OPTIONS) {
      assert.match(info.code, /^1131(0[3-9]|1[0-2])$/);
      assert.ok(info.meaning.length <= 64, `${info.meaning}: LO holds 64 characters`);
    }
  });
});
