/**
 * Requests printed as the seed tutorial's cURL commands ("DICOMweb standard APIs with
 * cURL"), with credentials as placeholders and shell-safe quoting. That the printed
 * commands really work is proven against Orthanc in test/client/query.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import {
  BASIC_PLACEHOLDER,
  DicomWebClient,
  TOKEN_PLACEHOLDER,
  basicAuth,
  bearerAuth,
  framesRequest,
  retrieveRequest,
  searchRequest,
  storeRequest,
  storeSinglePartRequest,
  toCurl,
} from '../../src/dicomweb';

const BASE = 'https://contoso-dicom.dicom.azurehealthcareapis.com/v2';
const STUDY = '1.2.826.0.1.3680043.8.498.13230779778012324449356534479549187420';
const SERIES = '1.2.826.0.1.3680043.8.498.45787841905473114233124723359129632652';
const INSTANCE = '1.2.826.0.1.3680043.8.498.47359123102728459884412887463296905395';

/**
 * Runs a printed command line through `sh` with `curl` replaced by printf, to see the words the
 * shell passes.
 */
function shellWords(command: string): string[] {
  const result = spawnSync(
    'sh',
    ['-c', `curl() { for a in "$@"; do printf '%s\\0' "$a"; done; }\n${command}`],
    { encoding: 'utf8' },
  );
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.split('\0').slice(0, -1);
}

describe("toCurl in the tutorial's form", () => {
  it('STOW multipart: one --form "fileN=@…;type=application/dicom" per file and the seed\'s Content-Type', () => {
    const curl = toCurl(
      storeRequest(['./blue-circle.dcm', './green-square.dcm', './red-triangle.dcm']),
      { baseUrl: BASE, authKind: 'bearer' },
    );
    assert.equal(
      curl,
      [
        `curl --request POST "${BASE}/studies"`,
        '--header "Accept: application/dicom+json"',
        '--header "Content-Type: multipart/related; type=\\"application/dicom\\""',
        `--header "Authorization: Bearer ${TOKEN_PLACEHOLDER}"`,
        '--form "file1=@./blue-circle.dcm;type=application/dicom"',
        '--form "file2=@./green-square.dcm;type=application/dicom"',
        '--form "file3=@./red-triangle.dcm;type=application/dicom"',
      ].join(' \\\n  '),
    );
  });

  it('STOW to a study: POST /studies/{study}', () => {
    const curl = toCurl(storeRequest(['./blue-circle.dcm'], STUDY), { baseUrl: BASE });
    assert.match(
      curl,
      new RegExp(
        `^curl --request POST "${BASE.replace(/[./]/g, '\\$&')}/studies/${STUDY.replace(/\./g, '\\.')}"`,
      ),
    );
    assert.doesNotMatch(curl, /Authorization/, 'no auth, no header');
  });

  it('single-part STOW: Content-Type application/dicom and --data-binary "@file"', () => {
    const curl = toCurl(storeSinglePartRequest('./green-square.dcm'), {
      baseUrl: BASE,
      authKind: 'bearer',
    });
    assert.equal(
      curl,
      [
        `curl --request POST "${BASE}/studies"`,
        '--header "Accept: application/dicom+json"',
        '--header "Content-Type: application/dicom"',
        `--header "Authorization: Bearer ${TOKEN_PLACEHOLDER}"`,
        '--data-binary "@./green-square.dcm"',
      ].join(' \\\n  '),
    );
  });

  it('WADO retrieve: the Accept with transfer-syntax=* and --output', () => {
    const curl = toCurl(retrieveRequest({ studyInstanceUid: STUDY }), {
      baseUrl: BASE,
      authKind: 'bearer',
      outputFile: 'suppressWarnings.txt',
    });
    assert.equal(
      curl,
      [
        `curl --request GET "${BASE}/studies/${STUDY}"`,
        '--header "Accept: multipart/related; type=\\"application/dicom\\"; transfer-syntax=*"',
        `--header "Authorization: Bearer ${TOKEN_PLACEHOLDER}"`,
        '--output "suppressWarnings.txt"',
      ].join(' \\\n  '),
    );
  });

  it('frames: a default --output name when none is given', () => {
    const curl = toCurl(
      framesRequest(
        { studyInstanceUid: STUDY, seriesInstanceUid: SERIES, sopInstanceUid: INSTANCE },
        [1],
        { transferSyntax: '1.2.840.10008.1.2.1' },
      ),
      { baseUrl: BASE },
    );
    assert.match(curl, /\/frames\/1"/);
    assert.match(curl, /--output "response\.bin"$/);
  });

  it('QIDO: no --output, the query raw as the tutorial writes it', () => {
    const curl = toCurl(searchRequest('studies', {}, { match: { PatientName: 'Test^Sha*' } }), {
      baseUrl: BASE,
    });
    assert.equal(
      curl,
      `curl --request GET "${BASE}/studies?PatientName=Test^Sha*" \\\n  --header "Accept: application/dicom+json"`,
    );
  });

  it("the other shells' line continuations", () => {
    const spec = searchRequest('studies');
    assert.match(toCurl(spec, { baseUrl: BASE, continuation: '^' }), / \^\n {2}--header/);
    assert.match(toCurl(spec, { baseUrl: BASE, continuation: '`' }), / `\n {2}--header/);
  });
});

describe('credentials in printed commands', () => {
  it('bearer and basic become placeholders; the real value only when passed on purpose', () => {
    const spec = searchRequest('studies');
    assert.match(
      toCurl(spec, { baseUrl: BASE, authKind: 'bearer' }),
      new RegExp(`"Authorization: Bearer \\{token value\\}"`),
    );
    assert.match(
      toCurl(spec, { baseUrl: BASE, authKind: 'basic' }),
      new RegExp(`"Authorization: Basic \\{base64 user:password\\}"`),
    );
    assert.equal(BASIC_PLACEHOLDER, '{base64 user:password}');
    assert.match(
      toCurl(spec, { baseUrl: BASE, authKind: 'bearer', authorization: 'Bearer abc' }),
      /"Authorization: Bearer abc"/,
    );
  });

  it('curlOf on a client never prints the token or the password', async () => {
    const token = 'eyJ0eXAiOiJKV1QiLCJhbGciOi.secret-token';
    const bearer = new DicomWebClient({ baseUrl: BASE, auth: bearerAuth(async () => token) });
    const basic = new DicomWebClient({
      baseUrl: 'http://127.0.0.1:1/dicom-web',
      auth: basicAuth('dicomweb', 'hunter2-pw'),
    });
    try {
      const printedBearer = bearer.curlOf(searchRequest('studies'));
      assert.ok(printedBearer.includes(TOKEN_PLACEHOLDER));
      assert.ok(!printedBearer.includes(token));
      const printedBasic = basic.curlOf(storeRequest(['a.dcm']));
      assert.ok(printedBasic.includes(BASIC_PLACEHOLDER));
      assert.ok(!printedBasic.includes('hunter2-pw'));
      assert.ok(!printedBasic.includes(Buffer.from('dicomweb:hunter2-pw').toString('base64')));
    } finally {
      await bearer.close();
      await basic.close();
    }
  });

  it('user-info in the base URL is not printed', () => {
    const curl = toCurl(searchRequest('studies'), {
      baseUrl: 'https://alice:s3cret@dicom.example.org/dicom-web',
    });
    assert.doesNotMatch(curl, /alice|s3cret/);
  });
});

describe('shell quoting', () => {
  it('escapes " $ ` and \\ so the shell passes every value unchanged', () => {
    const hostile = 'a"b$HOME`id`c\\d';
    const curl = toCurl(
      {
        method: 'POST',
        path: '/studies',
        headers: { 'x-note': hostile },
        body: { kind: 'dicom-files', files: [`./we"ird $(touch x) \`name\`.dcm`] },
      },
      { baseUrl: BASE },
    );
    const words = shellWords(curl);
    assert.ok(words.includes(`X-Note: ${hostile}`), JSON.stringify(words));
    assert.ok(
      words.includes(`file1=@./we"ird $(touch x) \`name\`.dcm;type=application/dicom`),
      JSON.stringify(words),
    );
  });

  it("'!' survives interactive bash, where history expansion is on inside double quotes", () => {
    const value = 'Hello!World !1 !! a!';
    const curl = toCurl(
      { method: 'GET', path: '/studies', headers: { 'x-note': value } },
      { baseUrl: BASE },
    );
    // An interactive shell reading the line from stdin, as when a user pastes it.
    const result = spawnSync('bash', ['--norc', '--noprofile', '-i'], {
      input: `set -o histexpand\ncurl() { for a in "$@"; do printf '%s\\0' "$a"; done; }\n${curl}\nexit\n`,
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /event not found/);
    const words = result.stdout.split('\0');
    assert.ok(
      words.some((word) => word.endsWith(`X-Note: ${value}`)),
      JSON.stringify(words),
    );
    // And the plain sh the other tests use agrees.
    assert.ok(shellWords(curl).includes(`X-Note: ${value}`));
  });

  it('the whole STOW command reaches curl as the intended words', () => {
    const words = shellWords(
      toCurl(storeRequest(['./blue circle.dcm']), { baseUrl: BASE, authKind: 'bearer' }),
    );
    assert.deepEqual(words, [
      '--request',
      'POST',
      `${BASE}/studies`,
      '--header',
      'Accept: application/dicom+json',
      '--header',
      'Content-Type: multipart/related; type="application/dicom"',
      '--header',
      `Authorization: Bearer ${TOKEN_PLACEHOLDER}`,
      '--form',
      'file1=@./blue circle.dcm;type=application/dicom',
    ]);
  });
});
