/**
 * Request descriptions: query value encoding (raw where Orthanc needs it, PS3.18 §8.3.4),
 * UID validation before anything becomes a path, and the six QIDO resource forms
 * (PS3.18 §10.6.1.2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertUid,
  DicomWebError,
  encodeQueryValue,
  normalizeBaseUrl,
  qidoPath,
  qidoQueryParams,
  queryString,
  resourcePath,
  searchRequest,
  urlFor,
} from '../../src/dicomweb';

function isInvalidRequest(error: unknown): boolean {
  return error instanceof DicomWebError && error.code === 'INVALID_REQUEST';
}

describe('encodeQueryValue', () => {
  it('keeps the DICOM matching characters ^ * ? , raw', () => {
    assert.equal(encodeQueryValue('Test^Sha*'), 'Test^Sha*');
    assert.equal(encodeQueryValue('Doe^J?hn'), 'Doe^J?hn');
    assert.equal(encodeQueryValue('1.2.3,1.2.4'), '1.2.3,1.2.4');
    assert.equal(encodeQueryValue('20240101-20241231'), '20240101-20241231');
  });

  it('percent-encodes what the URL syntax reserves: & # % + = and space', () => {
    assert.equal(encodeQueryValue('a&b'), 'a%26b');
    assert.equal(encodeQueryValue('a#b'), 'a%23b');
    assert.equal(encodeQueryValue('100%'), '100%25');
    assert.equal(encodeQueryValue('a+b'), 'a%2Bb');
    assert.equal(encodeQueryValue('a=b'), 'a%3Db');
    assert.equal(encodeQueryValue('Doe John'), 'Doe%20John');
  });

  it('percent-encodes non-ASCII as UTF-8', () => {
    assert.equal(encodeQueryValue('Müller'), 'M%C3%BCller');
    assert.equal(encodeQueryValue('山田^太郎'), '%E5%B1%B1%E7%94%B0^%E5%A4%AA%E9%83%8E');
  });

  it('never lets a value break out of its parameter', () => {
    const query = queryString([['PatientName', 'x&limit=1#frag']]);
    assert.equal(query, '?PatientName=x%26limit%3D1%23frag');
    assert.deepEqual([...new URL(`http://h/s${query}`).searchParams.keys()], ['PatientName']);
  });
});

describe('assertUid', () => {
  it('accepts UIDs of 1 to 64 characters', () => {
    assert.equal(assertUid('1.2.840.10008.1.2.1', 'uid'), '1.2.840.10008.1.2.1');
    assert.equal(assertUid('1'.repeat(64), 'uid'), '1'.repeat(64));
  });

  it('refuses path tricks and over-long values', () => {
    for (const bad of [
      '../etc',
      '1.2/3',
      '/1.2.3',
      '1.2..3',
      '..',
      '1'.repeat(65),
      '',
      '1.2.3?x=1',
      '1.2.3#',
      '1.2 3',
      '1.2%2F3',
    ]) {
      assert.throws(() => assertUid(bad, 'StudyInstanceUID'), isInvalidRequest, bad);
    }
  });

  it('is applied to every UID of a resource path', () => {
    assert.throws(
      () => resourcePath({ studyInstanceUid: '1.2.3', seriesInstanceUid: '../4' }),
      isInvalidRequest,
    );
    assert.throws(
      () =>
        resourcePath({
          studyInstanceUid: '1.2.3',
          seriesInstanceUid: '1.2.4',
          sopInstanceUid: 'a/b',
        }),
      isInvalidRequest,
    );
    assert.throws(
      () => resourcePath({ studyInstanceUid: '1.2.3', sopInstanceUid: '1.2.5' }),
      isInvalidRequest,
      'an instance needs its series',
    );
    assert.equal(
      resourcePath({
        studyInstanceUid: '1.2.3',
        seriesInstanceUid: '1.2.4',
        sopInstanceUid: '1.2.5',
      }),
      '/studies/1.2.3/series/1.2.4/instances/1.2.5',
    );
  });
});

describe('qidoPath: the six forms of PS3.18 §10.6.1.2', () => {
  it('builds each form', () => {
    assert.equal(qidoPath('studies'), '/studies');
    assert.equal(qidoPath('series'), '/series');
    assert.equal(qidoPath('series', { studyInstanceUid: '1.2.3' }), '/studies/1.2.3/series');
    assert.equal(qidoPath('instances'), '/instances');
    assert.equal(qidoPath('instances', { studyInstanceUid: '1.2.3' }), '/studies/1.2.3/instances');
    assert.equal(
      qidoPath('instances', { studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.4' }),
      '/studies/1.2.3/series/1.2.4/instances',
    );
  });

  it('refuses the combinations the standard does not define', () => {
    assert.throws(() => qidoPath('studies', { studyInstanceUid: '1.2.3' }), isInvalidRequest);
    assert.throws(
      () => qidoPath('series', { studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.4' }),
      isInvalidRequest,
    );
    assert.throws(() => qidoPath('instances', { seriesInstanceUid: '1.2.4' }), isInvalidRequest);
    assert.throws(() => qidoPath('series', { seriesInstanceUid: '1.2.4' }), isInvalidRequest);
    assert.throws(() => qidoPath('instances', { studyInstanceUid: '../x' }), isInvalidRequest);
  });
});

describe('QIDO query parameters', () => {
  it('orders filters, includefield, fuzzymatching, limit, offset and vendor parameters', () => {
    const params = qidoQueryParams({
      match: {
        PatientName: 'Test^*',
        '00080020': '20210101-',
        SOPInstanceUID: ['1.2.3', '1.2.4'],
        Modality: undefined,
        AccessionNumber: '',
      },
      includeField: ['00081030', 'StudyDescription'],
      fuzzyMatching: true,
      limit: 40,
      offset: 80,
      params: { vendor: 'x' },
    });
    assert.deepEqual(params, [
      ['PatientName', 'Test^*'],
      ['00080020', '20210101-'],
      ['SOPInstanceUID', '1.2.3,1.2.4'],
      ['includefield', '00081030,StudyDescription'],
      ['fuzzymatching', 'true'],
      ['limit', '40'],
      ['offset', '80'],
      ['vendor', 'x'],
    ]);
  });

  it('sends includefield=all alone and leaves offset 0 out', () => {
    assert.deepEqual(qidoQueryParams({ includeField: 'all', offset: 0 }), [
      ['includefield', 'all'],
    ]);
  });

  it('puts it together into the URL with the raw characters intact', () => {
    const spec = searchRequest(
      'instances',
      { studyInstanceUid: '1.2.3' },
      { match: { PatientName: 'O^J* Doe' }, limit: 5 },
    );
    assert.equal(spec.headers.accept, 'application/dicom+json');
    assert.equal(
      urlFor('https://dicom.example.org/v2/', spec),
      'https://dicom.example.org/v2/studies/1.2.3/instances?PatientName=O^J*%20Doe&limit=5',
    );
  });
});

describe('normalizeBaseUrl', () => {
  it('keeps /v{version} and /partitions/{name}, drops the trailing slash, query and fragment', () => {
    assert.equal(
      normalizeBaseUrl(' https://x.dicom.azurehealthcareapis.com/v2/partitions/p1/ '),
      'https://x.dicom.azurehealthcareapis.com/v2/partitions/p1',
    );
    assert.equal(
      normalizeBaseUrl('http://127.0.0.1:8042/dicom-web/?a=1#f'),
      'http://127.0.0.1:8042/dicom-web',
    );
  });
  it('refuses what is not an http(s) URL', () => {
    assert.throws(() => normalizeBaseUrl('ftp://host/x'), isInvalidRequest);
    assert.throws(() => normalizeBaseUrl('not a url'), isInvalidRequest);
  });
});
