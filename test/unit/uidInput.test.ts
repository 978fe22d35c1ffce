/**
 * "Find by UID…" input: bare UIDs checked against PS3.5 §9.1 with a reason for each way
 * to be wrong, and the UIDs of every URL shape people paste (WADO-RS, QIDO-RS, WADO-URI,
 * OHIF, Azure with /v1, /v2 and partitions, Google, dcm4chee), with the level and parents
 * each one tells.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidUid, uidProblem, UID_MAX_LENGTH } from '../../src/dicom/uids';
import {
  parseUidInput,
  UID_INPUT_MAX_LENGTH,
  UidInputError,
  type UidSearch,
} from '../../src/dicomweb/uidInput';
import { SEED } from '../support/seedData';
import { rng } from '../support/random';

const S = SEED.studyInstanceUid;
const X = SEED.redTriangle.seriesInstanceUid;
const I = SEED.redTriangle.sopInstanceUid;

function rejects(text: string, reason: RegExp): void {
  assert.throws(
    () => parseUidInput(text),
    (error: unknown) => error instanceof UidInputError && reason.test(error.message),
    `${JSON.stringify(text.slice(0, 100))} is refused with ${reason}`,
  );
}

describe('Find by UID: a bare UID (PS3.5 §9.1)', () => {
  it('takes a valid UID, with blanks, quotes, brackets, urn:oid: or NUL padding around it', () => {
    for (const text of [S, ` ${S}\n`, `"${S}"`, `[${S}]`, `'${S}'`, `urn:oid:${S}`, `${S}\0`]) {
      assert.deepEqual(parseUidInput(text), { uid: S, source: 'UID' }, JSON.stringify(text));
    }
  });

  it('says what is wrong: letter, space, length, empty component, leading zero, nothing', () => {
    rejects('1.2.3a', /contains "a" at position 6/);
    rejects('1.2 .3', /contains a space at position 4/);
    rejects(`1.${'2'.repeat(UID_MAX_LENGTH - 1)}`, /65 characters long; a UID has at most 64/);
    rejects('1..2', /two dots in a row/);
    rejects('.1.2', /starts with a dot/);
    rejects('1.2.', /ends with a dot/);
    rejects('1.02.3', /component "02" starts with 0/);
    rejects('   ', /Paste a Study, Series or SOP Instance UID/);
    rejects('""', /Paste a Study/);
  });

  it('quotes a near-UID back, but never repeats other text (a pasted token goes to the log)', () => {
    rejects('1.2.3a', /^"1\.2\.3a" is not a UID/);
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2VjcmV0';
    assert.throws(
      () => parseUidInput(token),
      (error: unknown) =>
        error instanceof UidInputError &&
        /^The text is not a UID: it contains "e" at position 1/.test(error.message) &&
        !error.message.includes(token.slice(0, 8)),
    );
    assert.throws(
      () => parseUidInput(`http://h/viewer?StudyInstanceUIDs=${token}`),
      (error: unknown) => error instanceof UidInputError && !error.message.includes('eyJhbGci'),
    );
  });

  it('uidProblem agrees with isValidUid on random strings over the UID alphabet', () => {
    const random = rng(13);
    const alphabet = '0123456789...a ';
    for (let n = 0; n < 5000; n++) {
      const length = Math.floor(random() * 70);
      let text = '';
      for (let k = 0; k < length; k++) text += alphabet[Math.floor(random() * alphabet.length)];
      assert.equal(uidProblem(text) === undefined, isValidUid(text), JSON.stringify(text));
    }
  });

  it(`refuses text over ${UID_INPUT_MAX_LENGTH} characters before reading it`, () => {
    rejects('1'.repeat(UID_INPUT_MAX_LENGTH + 1), /8193 characters long/);
    // At the limit it is read (and refused for what it is, not for its length).
    rejects('1'.repeat(UID_INPUT_MAX_LENGTH), /characters long; a UID has at most 64/);
  });
});

/** Every URL shape and what it names. */
const URLS: Array<[string, Omit<UidSearch, 'source'> & { source?: string }]> = [
  // WADO-RS and QIDO-RS paths (PS3.18 §10.4.1), with the resource suffixes.
  [`http://127.0.0.1:8042/dicom-web/studies/${S}`, { uid: S, level: 'study' }],
  [`http://127.0.0.1:8042/dicom-web/studies/${S}/metadata`, { uid: S, level: 'study' }],
  [`http://h/dicom-web/studies/${S}/series/${X}`, { uid: X, level: 'series', studyInstanceUid: S }],
  [
    `http://h/dicom-web/studies/${S}/series/${X}/rendered?viewport=64,64`,
    { uid: X, level: 'series', studyInstanceUid: S },
  ],
  [
    `http://h/dicom-web/studies/${S}/series/${X}/instances/${I}`,
    { uid: I, level: 'instance', studyInstanceUid: S, seriesInstanceUid: X },
  ],
  [
    `http://h/dicom-web/studies/${S}/series/${X}/instances/${I}/metadata`,
    { uid: I, level: 'instance', studyInstanceUid: S, seriesInstanceUid: X },
  ],
  [
    `https://h/dicom-web/studies/${S}/series/${X}/instances/${I}/frames/1,2`,
    { uid: I, level: 'instance', studyInstanceUid: S, seriesInstanceUid: X },
  ],
  [
    `https://h/dicom-web/studies/${S}/series/${X}/instances/${I}/rendered`,
    { uid: I, level: 'instance', studyInstanceUid: S, seriesInstanceUid: X },
  ],
  [
    `https://h/dicom-web/studies/${S}/series/${X}/instances/${I}/bulkdata/7FE00010`,
    { uid: I, level: 'instance', studyInstanceUid: S, seriesInstanceUid: X },
  ],
  // A path without scheme and host, as copied from a log line.
  [`/dicom-web/studies/${S}/series/${X}`, { uid: X, level: 'series', studyInstanceUid: S }],
  // Percent-encoded segments.
  [
    `http://h/studies/${S.replace(/\./g, '%2E')}/series/${X}`,
    { uid: X, level: 'series', studyInstanceUid: S },
  ],
  // QIDO-RS searches with a UID matching key, by keyword or tag (PS3.18 §8.3.4.1).
  [`http://h/dicom-web/studies?StudyInstanceUID=${S}`, { uid: S, level: 'study' }],
  [`http://h/dicom-web/studies?0020000D=${S}&includefield=all`, { uid: S, level: 'study' }],
  [`http://h/dicom-web/series?SeriesInstanceUID=${X}`, { uid: X, level: 'series' }],
  [`http://h/dicom-web/instances?sopinstanceuid=${I}`, { uid: I, level: 'instance' }],
  [
    `http://h/dicom-web/studies/${S}/series?SeriesInstanceUID=${X}&limit=1`,
    { uid: X, level: 'series', studyInstanceUid: S },
  ],
  [
    `http://h/dicom-web/studies/${S}/series/${X}/instances?00080018=${I}`,
    { uid: I, level: 'instance', studyInstanceUid: S, seriesInstanceUid: X },
  ],
  // WADO-URI (PS3.18 §9), parameter names in any case.
  [
    `http://h/wado?requestType=WADO&studyUID=${S}&seriesUID=${X}&objectUID=${I}&contentType=application%2Fdicom`,
    {
      uid: I,
      level: 'instance',
      studyInstanceUid: S,
      seriesInstanceUid: X,
      source: 'WADO-URI URL',
    },
  ],
  [
    `https://pacs.example/dcm4chee-arc/aets/DCM4CHEE/wado?RequestType=WADO&StudyUID=${S}&SeriesUID=${X}&ObjectUID=${I}`,
    {
      uid: I,
      level: 'instance',
      studyInstanceUid: S,
      seriesInstanceUid: X,
      source: 'WADO-URI URL',
    },
  ],
  // OHIF v3 and v2.
  [
    `https://viewer.ohif.org/viewer?StudyInstanceUIDs=${S}`,
    { uid: S, level: 'study', source: 'viewer URL' },
  ],
  [
    `https://viewer.ohif.org/viewer/dicomweb?StudyInstanceUIDs=${S}&initialSeriesInstanceUID=${X}`,
    { uid: X, level: 'series', studyInstanceUid: S, source: 'viewer URL' },
  ],
  [
    `https://viewer.ohif.org/viewer?StudyInstanceUIDs=${S}&initialSeriesInstanceUID=${X}&initialSOPInstanceUID=${I}`,
    {
      uid: I,
      level: 'instance',
      studyInstanceUid: S,
      seriesInstanceUid: X,
      source: 'viewer URL',
    },
  ],
  [`https://old-ohif.example/viewer/${S}`, { uid: S, level: 'study', source: 'viewer URL' }],
  [
    `https://app.example/#/viewer?StudyInstanceUIDs=${S}`,
    { uid: S, level: 'study', source: 'viewer URL' },
  ],
  // Azure DICOM service: API version prefix and data partitions.
  [
    `https://ws-dicom.dicom.azurehealthcareapis.com/v1/studies/${S}/series/${X}`,
    { uid: X, level: 'series', studyInstanceUid: S },
  ],
  [
    `https://ws-dicom.dicom.azurehealthcareapis.com/v2/partitions/Microsoft.Default/studies/${S}/series/${X}/instances/${I}`,
    { uid: I, level: 'instance', studyInstanceUid: S, seriesInstanceUid: X },
  ],
  // A partition called "studies" is a name, not the resource.
  [
    `https://ws.dicom.azurehealthcareapis.com/v2/partitions/studies/studies/${S}`,
    { uid: S, level: 'study' },
  ],
  // Google Cloud Healthcare API.
  [
    `https://healthcare.googleapis.com/v1/projects/p/locations/eu/datasets/d/dicomStores/s/dicomWeb/studies/${S}/series/${X}/instances/${I}`,
    { uid: I, level: 'instance', studyInstanceUid: S, seriesInstanceUid: X },
  ],
  // The local server's own URL with its token in the query.
  [
    `http://127.0.0.1:41234/v2/studies/${S}/series/${X}/metadata?token=abc`,
    { uid: X, level: 'series', studyInstanceUid: S },
  ],
];

describe('Find by UID: URLs', () => {
  for (const [url, expected] of URLS) {
    it(url.replace(/(\d)(\.\d+){4,}/g, '$1…'), () => {
      const parsed = parseUidInput(url);
      assert.deepEqual(
        { ...parsed, source: undefined },
        {
          uid: expected.uid,
          level: expected.level,
          studyInstanceUid: expected.studyInstanceUid,
          seriesInstanceUid: expected.seriesInstanceUid,
          source: undefined,
        },
      );
      assert.equal(parsed.source, expected.source ?? 'DICOMweb URL');
    });
  }

  it('says which UID in a URL is malformed, and where', () => {
    rejects(`http://h/studies/${S}/series/1.02.3`, /Series Instance UID in the URL's path.*"02"/);
    rejects(
      `http://h/wado?requestType=WADO&studyUID=${S}&objectUID=1..2`,
      /SOP Instance UID.*WADO-URI/,
    );
    rejects(`http://h/viewer?StudyInstanceUIDs=1.2.x`, /Study Instance UID.*viewer.*"x"/);
  });

  it('refuses a URL that names several resources at one level, or two that disagree', () => {
    rejects(
      `http://h/viewer?StudyInstanceUIDs=${S},1.2.3`,
      /names 2 Study Instance UIDs.*paste one/,
    );
    rejects(`http://h/studies?StudyInstanceUID=${S}\\1.2.3`, /names 2 Study Instance UIDs/);
    rejects(
      `http://h/studies/${S}/series?StudyInstanceUID=1.2.3`,
      /two different Study Instance UIDs: .* and 1\.2\.3/,
    );
  });

  it('says which shapes it knows when a URL names no UID', () => {
    for (const url of [
      'http://127.0.0.1:8042/app/explorer.html#study?uuid=6b9e19d9',
      'https://h/dicom-web/studies',
      'https://h/dicom-web/studies?PatientName=Doe*',
    ]) {
      rejects(
        url,
        /No Study, Series or SOP Instance UID in this URL\. Recognised: .*WADO-URI.*OHIF/,
      );
    }
  });
});
