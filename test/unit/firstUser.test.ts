/**
 * What a first user tripped over (issue 11, item 8), the pure parts: the service URL's
 * hint, the upload report's reasons and its one "not DICOM" message, and the wording of a
 * refused token in the tree and the log.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  baseUrlProblem,
  dicomWebRootCandidates,
  isLocalServerHeader,
  looksLikeQidoAnswer,
} from '../../src/dicomweb';
import {
  describeOutcome,
  DUPLICATE_INSTANCE,
  KEPT_REPORTS,
  KeptTexts,
  notDicomMessage,
  reportMarkdown,
} from '../../src/dicomweb/transfer/outcomeText';
import type { FileOutcome } from '../../src/dicomweb/transfer/store';
import { describeError, failureLogLine } from '../../src/tree/nodes/errorText';
import { DicomWebHttpError } from '../../src/dicomweb/transport/errors';
import {
  applyClientFilters,
  planQuery,
  rowMayBeLossy,
  travelsRaw,
  widenForRawServer,
} from '../../src/dicomweb/clientMatch';
import type { DicomJsonDataset } from '../../src/dicom/types';

describe('Add Server: the service URL', () => {
  it('offers the scheme when it is missing, http for loopback and https otherwise', () => {
    assert.equal(
      baseUrlProblem('localhost:8042/dicom-web'),
      'Add the scheme: http://localhost:8042/dicom-web',
    );
    assert.equal(baseUrlProblem('127.0.0.1:8042'), 'Add the scheme: http://127.0.0.1:8042');
    assert.equal(
      baseUrlProblem('pacs.example.org/dicom-web'),
      'Add the scheme: https://pacs.example.org/dicom-web',
    );
    assert.equal(
      baseUrlProblem('  ws-svc.dicom.azurehealthcareapis.com/v2 '),
      'Add the scheme: https://ws-svc.dicom.azurehealthcareapis.com/v2',
    );
  });

  it('accepts a URL with its scheme and still refuses another scheme', () => {
    assert.equal(baseUrlProblem('http://localhost:8042/dicom-web'), undefined);
    assert.match(baseUrlProblem('ftp://host/x') ?? '', /must start with http:\/\/ or https:\/\//);
    assert.match(baseUrlProblem('') ?? '', /Enter the service URL/);
  });

  it('knows where a DICOMweb root hides below a server root, and what a QIDO answer looks like', () => {
    assert.deepEqual(dicomWebRootCandidates('http://h:8042/'), [
      'http://h:8042/dicom-web',
      'http://h:8042/dcm4chee-arc/aets/DCM4CHEE/rs',
    ]);
    assert.deepEqual(dicomWebRootCandidates('http://h:8042/dicom-web'), []);
    assert.equal(looksLikeQidoAnswer(200, '[{"0020000D":{"vr":"UI"}}]'), true);
    assert.equal(looksLikeQidoAnswer(200, '[]'), true);
    assert.equal(looksLikeQidoAnswer(204, ''), true);
    // Orthanc's own REST /studies: an array of its internal ids.
    assert.equal(
      looksLikeQidoAnswer(200, '["6b9e19d9-62094390-5f9ddb01-4a191ae7-9766b715"]'),
      false,
    );
    assert.equal(looksLikeQidoAnswer(400, '{"Details":"Missing \'since\' argument"}'), false);
    assert.equal(isLocalServerHeader('dicomweb-explorer-local/1'), true);
    assert.equal(isLocalServerHeader('Orthanc/1.10.1'), false);
    assert.equal(isLocalServerHeader(undefined), false);
  });
});

const outcome = (fields: Partial<FileOutcome>): FileOutcome => ({
  file: '/tmp/a.dcm',
  status: 'stored',
  sopInstanceUid: '1.2.3',
  ...fields,
});

describe('the upload report', () => {
  it('says the HTTP status of a failed file once, not "HTTP 400 — HTTP 400"', () => {
    assert.equal(
      describeOutcome(outcome({ status: 'failed', httpStatus: 400, message: 'HTTP 400' })),
      'HTTP 400',
    );
    assert.equal(
      describeOutcome(
        outcome({
          status: 'failed',
          httpStatus: 400,
          message: 'the server did not name this instance in its answer',
        }),
      ),
      'the server did not name this instance in its answer — HTTP 400',
    );
  });

  it('gives a stored file no failure reason, even when its batch was answered 400 for another file', () => {
    assert.equal(describeOutcome(outcome({ status: 'stored', httpStatus: 400 })), '');
    assert.equal(
      describeOutcome(
        outcome({
          status: 'warning',
          httpStatus: 202,
          reasonCode: 0xb000,
          reasonText: 'Coercion of data elements',
        }),
      ),
      'Coercion of data elements (45056, 0xB000)',
    );
  });

  it('says why a duplicate fails here when Orthanc would store it', () => {
    const text = describeOutcome(
      outcome({
        status: 'failed',
        httpStatus: 409,
        reasonCode: DUPLICATE_INSTANCE,
        reasonText: 'Instance already exists (duplicate SOPInstanceUID)',
      }),
    );
    assert.match(text, /\(45070, 0xB00E\)/);
    assert.match(text, /refuses a second one/);
    assert.match(text, /Orthanc accepts it and answers "stored"/);
    assert.doesNotMatch(text, /HTTP 409/, 'the reason code already says why');
  });

  it('lists every file in one Markdown table', () => {
    const markdown = reportMarkdown({
      outcomes: [
        outcome({ file: '/d/a|b.dcm', status: 'stored', httpStatus: 400 }),
        outcome({ file: '/d/c.dcm', status: 'failed', httpStatus: 400, message: 'HTTP 400' }),
      ],
      stored: 1,
      warnings: 0,
      failed: 1,
      skipped: 1,
      serverWarnings: [],
      notDicom: ['/d/LICENSE'],
      target: 'Orthanc',
    });
    assert.match(
      markdown,
      /^# Upload to Orthanc\n\n1 stored, 1 failed, 1 not DICOM \(not sent\)\n/,
    );
    assert.match(markdown, /\| stored \| \/d\/a\\\|b\.dcm \| 1\.2\.3 \| {2}\|\n/);
    assert.match(markdown, /\| failed \| \/d\/c\.dcm \| 1\.2\.3 \| HTTP 400 \|\n/);
    assert.match(markdown, /\| not DICOM \| \/d\/LICENSE \|/);
  });

  it(`keeps the last ${KEPT_REPORTS} reports for reopening, the oldest dropped first`, () => {
    const kept = new KeptTexts();
    for (let i = 1; i <= KEPT_REPORTS + 1; i++) kept.set(`/report ${i}.md`, `text ${i}`);
    assert.equal(kept.size, KEPT_REPORTS);
    assert.equal(kept.get('/report 1.md'), undefined, 'the 21st report pushed out the first');
    assert.equal(kept.get('/report 2.md'), 'text 2');
    assert.equal(kept.get(`/report ${KEPT_REPORTS + 1}.md`), `text ${KEPT_REPORTS + 1}`);
  });

  it('has one sentence for a selection with no DICOM file', () => {
    assert.equal(
      notDicomMessage(['/repo/LICENSE']),
      'LICENSE is not a DICOM file (no DICM preamble, PS3.10 §7.1); nothing was sent.',
    );
    assert.equal(
      notDicomMessage(['/r/LICENSE', '/r/Makefile']),
      '2 files (LICENSE, Makefile) are not DICOM files (no DICM preamble, PS3.10 §7.1); nothing was sent.',
    );
    assert.match(
      notDicomMessage(['/a', '/b', '/c', '/d', '/e']),
      /^5 files \(a, b, c and 2 more\)/,
    );
  });
});

describe('a refused token', () => {
  const refused = new DicomWebHttpError(
    'GET',
    'http://127.0.0.1:9/v2/studies',
    401,
    'Unauthorized',
    'a bearer token is required (Authorization: Bearer <token>)',
  );
  refused.credentialSent = true;
  const withheld = new DicomWebHttpError(
    'GET',
    'http://127.0.0.1:9/v2/studies',
    401,
    'Unauthorized',
    'a bearer token is required (Authorization: Bearer <token>)',
  );
  withheld.credentialSent = false;

  it('reads as refused, with a way to enter it again, when the request carried one', () => {
    assert.equal(
      describeError(refused, { name: 'My PACS', auth: 'bearer' }),
      'Not authorized (401): "My PACS" refused the bearer token; click to enter it again',
    );
    assert.equal(
      describeError(refused, { name: 'Lab', auth: 'basic' }),
      'Not authorized (401): "Lab" refused the password; click to enter it again',
    );
    // No credential configured, or none sent (a workspace connection not approved): the server's
    // own words stay.
    assert.equal(
      describeError(refused, { name: 'Open', auth: 'none' }),
      'Not authorized (401): a bearer token is required (Authorization: Bearer <token>)',
    );
    assert.equal(
      describeError(withheld, { name: 'Planted', auth: 'bearer' }),
      'Not authorized (401): a bearer token is required (Authorization: Bearer <token>)',
    );
  });

  it("is logged under the connection's name, not an internal id", () => {
    const line = failureLogLine({ name: 'My PACS', auth: 'bearer' }, 'studies', refused);
    assert.match(
      line,
      /^\[My PACS\] could not list studies \(the server refused the bearer token\): GET http:\/\/127\.0\.0\.1:9\/v2\/studies failed with 401/,
    );
    assert.doesNotMatch(line, /server\//);
  });
});

describe('a matching value the server cannot take as typed', () => {
  it('widens to the nearest raw pattern: ? for an ASCII character, a cut and * at the first non-ASCII one', () => {
    assert.equal(widenForRawServer('*Mary Ann*'), '*Mary?Ann*');
    assert.equal(widenForRawServer("O'Brien^Mary Ann"), "O'Brien^Mary?Ann");
    assert.equal(widenForRawServer('Müller*'), 'M*');
    assert.equal(widenForRawServer('*Zoé'), '*Zo*');
    assert.equal(widenForRawServer('山田*'), '*');
    assert.equal(travelsRaw("O'Hara^K*"), true);
    assert.equal(travelsRaw('A B'), false);
    const plan = planQuery(
      {
        match: { PatientName: 'Müller*', StudyDate: '20240101-', ModalitiesInStudy: 'CT' },
        includeField: ['StudyDescription'],
      },
      false,
    );
    assert.deepEqual(plan.sent.match, {
      PatientName: 'M*',
      StudyDate: '20240101-',
      ModalitiesInStudy: 'CT',
    });
    assert.deepEqual(plan.sent.includeField, ['StudyDescription', '00100010']);
    assert.deepEqual(plan.filters, [{ tag: '00100010', vr: 'PN', typed: 'Müller*' }]);
    // A server that decodes percent-escapes gets the value as typed.
    assert.deepEqual(planQuery({ match: { PatientName: 'Müller*' } }, true).filters, []);
  });

  it('filters the answer as the local server matches: PN case-insensitive, on a component group, trailing ^ ignored', () => {
    const row = (name: string, charset?: string): DicomJsonDataset => ({
      '00100010': { vr: 'PN', Value: [{ Alphabetic: name }] },
      ...(charset ? { '00080005': { vr: 'CS', Value: [charset] } } : {}),
    });
    const rows = [
      row('Müller^Jürgen'),
      row('Mueller^Hans'),
      row('MÜLLER^ANNA^'),
      row("O'Brien^Mary Ann"),
    ];
    const names = (typed: string) =>
      applyClientFilters(rows, [{ tag: '00100010', vr: 'PN', typed }]).map(
        (r) => (r['00100010']!.Value![0] as { Alphabetic: string }).Alphabetic,
      );
    assert.deepEqual(names('müller*'), ['Müller^Jürgen', 'MÜLLER^ANNA^']);
    assert.deepEqual(names('Müller^Anna'), ['MÜLLER^ANNA^']);
    assert.deepEqual(names('*Mary Ann*'), ["O'Brien^Mary Ann"]);
    // Orthanc's Latin-1 index cannot hold 山田: such a row is checked on the instance's metadata.
    assert.equal(
      rowMayBeLossy(row('^', 'ISO_IR 100'), { tag: '00100010', vr: 'PN', typed: '山田*' }),
      true,
    );
    assert.equal(
      rowMayBeLossy(row('Müller^Jürgen', 'ISO_IR 100'), {
        tag: '00100010',
        vr: 'PN',
        typed: 'Müller*',
      }),
      false,
    );
    assert.equal(
      rowMayBeLossy(row('山田^太郎', 'ISO_IR 192'), { tag: '00100010', vr: 'PN', typed: '山田*' }),
      false,
    );
    assert.equal(
      rowMayBeLossy(row('山田^太郎'), { tag: '00100010', vr: 'PN', typed: '山田*' }),
      false,
      'no SpecificCharacterSet: DICOM JSON is Unicode',
    );
  });
});
