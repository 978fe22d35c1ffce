/**
 * The local server under bad and unusual input: the Azure DICOM service's STOW-RS status
 * codes and FailureReasons (duplicates, study mismatch, non-DICOM parts, invalid UIDs),
 * malformed multipart, path traversal attempts, oversized headers, unknown paths, refused
 * media types and tokens. After each, the server must still answer a normal request.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { LocalServer } from '../../src/server';
import {
  multipart,
  rawRequest,
  rawSocket,
  smallInstance,
  startTestServer,
  stowOutcome,
} from './helpers';

const JSON_ACCEPT = { accept: 'application/dicom+json' };
const MULTIPART = (boundary = 'b0undary') => ({
  ...JSON_ACCEPT,
  'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
});

describe('bad input to the local server', () => {
  let server: LocalServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());
  afterEach(async () => {
    // The server keeps serving after every bad request.
    const response = await rawRequest(server, 'GET', '/v2/studies', JSON_ACCEPT);
    assert.ok(
      response.status === 200 || response.status === 204,
      `still serving (${response.status})`,
    );
  });

  describe('STOW-RS status codes (Azure DICOM service conformance statement)', () => {
    const first = smallInstance('stow-first');
    const second = smallInstance('stow-second');

    it('stores a new instance: 200 with ReferencedSOPSequence and RetrieveURL', async () => {
      const response = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        MULTIPART(),
        multipart('b0undary', [{ body: first.bytes }]),
      );
      assert.equal(response.status, 200, response.text);
      assert.match(String(response.headers['content-type']), /^application\/dicom\+json/);
      const outcome = stowOutcome(response.json());
      assert.deepEqual(outcome.stored, [first.params.sopInstanceUid]);
      assert.equal(
        outcome.retrieveUrl,
        `http://127.0.0.1:${server.port}/v2/studies/${first.params.studyUid}`,
      );
    });

    it('a duplicate is 409 with FailureReason 45070 (0xB00E), and the stored copy is untouched', async () => {
      const response = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        MULTIPART(),
        multipart('b0undary', [{ body: first.bytes }]),
      );
      assert.equal(response.status, 409, response.text);
      assert.deepEqual(stowOutcome(response.json()).failed, [
        { uid: first.params.sopInstanceUid, reason: 45070 },
      ]);
    });

    it('one new and one duplicate: 202, one stored and one failed', async () => {
      const response = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        MULTIPART(),
        multipart('b0undary', [{ body: first.bytes }, { body: second.bytes }]),
      );
      assert.equal(response.status, 202, response.text);
      const outcome = stowOutcome(response.json());
      assert.deepEqual(outcome.stored, [second.params.sopInstanceUid]);
      assert.deepEqual(outcome.failed, [{ uid: first.params.sopInstanceUid, reason: 45070 }]);
    });

    it('POST /studies/{study} with an instance of another study: 409, FailureReason 43265 (0xA901)', async () => {
      const other = smallInstance('stow-other-study');
      const response = await rawRequest(
        server,
        'POST',
        `/v2/studies/${first.params.studyUid}`,
        MULTIPART(),
        multipart('b0undary', [{ body: other.bytes }]),
      );
      assert.equal(response.status, 409, response.text);
      assert.deepEqual(stowOutcome(response.json()).failed, [
        { uid: other.params.sopInstanceUid, reason: 43265 },
      ]);
      const search = await rawRequest(
        server,
        'GET',
        `/v2/instances?SOPInstanceUID=${other.params.sopInstanceUid}`,
        JSON_ACCEPT,
      );
      assert.equal(search.status, 204, 'nothing was stored');
    });

    it('a non-DICOM part: 409 with FailureReason 272; with a good part beside it: 202 and the good one stored', async () => {
      const notDicom = Buffer.from('this is not a DICOM file at all, just text\n'.repeat(10));
      const alone = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        MULTIPART(),
        multipart('b0undary', [{ body: notDicom }]),
      );
      assert.equal(alone.status, 409, alone.text);
      assert.deepEqual(stowOutcome(alone.json()).failed, [{ uid: undefined, reason: 272 }]);
      const good = smallInstance('stow-good-beside-bad');
      const mixed = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        MULTIPART(),
        multipart('b0undary', [{ body: notDicom }, { body: good.bytes }]),
      );
      assert.equal(mixed.status, 202, mixed.text);
      assert.deepEqual(stowOutcome(mixed.json()).stored, [good.params.sopInstanceUid]);
    });

    it('a truncated instance: 409 with 272, and no half file is served', async () => {
      const cut = smallInstance('stow-truncated');
      const response = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        MULTIPART(),
        multipart('b0undary', [{ body: cut.bytes.subarray(0, cut.bytes.length - 20) }]),
      );
      assert.equal(response.status, 409, response.text);
      assert.equal(stowOutcome(response.json()).failed[0]?.reason, 272);
    });

    // Azure v1 needs a PatientID value; v2 accepts an empty one (azureConformance.test.ts).
    it('an instance with an empty PatientID at v1: 409 with 43264 (validation)', async () => {
      const noPatient = smallInstance('stow-no-patient', { patientId: '' });
      const response = await rawRequest(
        server,
        'POST',
        '/v1/studies',
        MULTIPART(),
        multipart('b0undary', [{ body: noPatient.bytes }]),
      );
      assert.equal(response.status, 409, response.text);
      assert.equal(stowOutcome(response.json()).failed[0]?.reason, 43264);
    });

    it('an instance whose UIDs try to climb out of the folder (../) is refused with 43264 and writes nothing outside', async () => {
      const evil = smallInstance('stow-evil', {
        studyUid: '../../../../tmp/evil',
        seriesUid: '../x',
        sopInstanceUid: '..',
      });
      const before = await readdir(dirname(server.dir));
      const response = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        MULTIPART(),
        multipart('b0undary', [{ body: evil.bytes }]),
      );
      assert.equal(response.status, 409, response.text);
      assert.equal(stowOutcome(response.json()).failed[0]?.reason, 43264);
      assert.deepEqual(
        await readdir(dirname(server.dir)),
        before,
        'nothing appeared beside the served folder',
      );
    });

    it('single-part application/dicom with a non-DICOM body: 409 with 272', async () => {
      const response = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        { ...JSON_ACCEPT, 'content-type': 'application/dicom' },
        'hello',
      );
      assert.equal(response.status, 409, response.text);
    });

    it('415 for a Content-Type that is not DICOM, or multipart of another type', async () => {
      const text = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        { 'content-type': 'text/plain' },
        'hello',
      );
      assert.equal(text.status, 415);
      const json = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        { 'content-type': 'multipart/related; type="application/dicom+json"; boundary=x' },
        '--x--',
      );
      assert.equal(json.status, 415);
      assert.match(
        String(json.headers['content-type']),
        /^application\/json/,
        'the error has a JSON body',
      );
    });

    it('406 when the Accept of a STOW cannot be JSON', async () => {
      const response = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        { ...MULTIPART(), accept: 'application/dicom+xml' },
        multipart('b0undary', [{ body: first.bytes }]),
      );
      assert.equal(response.status, 406);
    });
  });

  describe('malformed multipart', () => {
    it('no boundary parameter: 400', async () => {
      const response = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        { 'content-type': 'multipart/related; type="application/dicom"' },
        'whatever',
      );
      assert.equal(response.status, 400);
    });

    it('a body without the close delimiter: 400, and its complete parts are NOT stored', async () => {
      const part = smallInstance('multipart-unclosed');
      const whole = multipart('b0undary', [{ body: part.bytes }, { body: part.bytes }]);
      const cut = whole.subarray(0, whole.length - 40);
      const response = await rawRequest(server, 'POST', '/v2/studies', MULTIPART(), cut);
      assert.equal(response.status, 400, response.text);
      assert.match((response.json() as { message: string }).message, /multipart/);
      const search = await rawRequest(
        server,
        'GET',
        `/v2/instances?SOPInstanceUID=${part.params.sopInstanceUid}`,
        JSON_ACCEPT,
      );
      assert.equal(search.status, 204, 'a rejected request stores nothing');
    });

    it('a body with no delimiter at all: 400', async () => {
      const response = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        MULTIPART(),
        'garbage with no delimiter',
      );
      assert.equal(response.status, 400);
    });

    it('a part header line without a colon, or a huge part header block: 400', async () => {
      const broken = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        MULTIPART(),
        '--b0undary\r\nnot a header\r\n\r\nxx\r\n--b0undary--\r\n',
      );
      assert.equal(broken.status, 400);
      const huge = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        MULTIPART(),
        `--b0undary\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\nxx\r\n--b0undary--\r\n`,
      );
      assert.equal(huge.status, 400);
    });

    it('a multipart body with no part: 400', async () => {
      const response = await rawRequest(
        server,
        'POST',
        '/v2/studies',
        MULTIPART(),
        '--b0undary--\r\n',
      );
      assert.equal(response.status, 400);
    });
  });

  describe('paths, headers and methods', () => {
    it('UIDs with ../ in the path are 400, never a file lookup', async () => {
      for (const path of [
        '/v2/studies/..',
        '/v2/studies/../../etc/passwd',
        '/v2/studies/..%2F..%2Fetc',
        '/v2/studies/1.2.3/series/..%2f..',
        '/v2/studies/%2e%2e/metadata',
      ]) {
        const response = await rawRequest(server, 'GET', path, JSON_ACCEPT);
        assert.ok(
          response.status === 400 || response.status === 404,
          `${path}: ${response.status}`,
        );
        if (response.status === 400) assert.match(response.text, /not a valid UID/);
      }
      const del = await rawRequest(server, 'DELETE', '/v2/studies/..%2F..%2F..');
      assert.equal(del.status, 400);
    });

    it('a malformed percent-escape is 400', async () => {
      assert.equal((await rawRequest(server, 'GET', '/v2/studies/%zz', JSON_ACCEPT)).status, 400);
      assert.equal(
        (await rawRequest(server, 'GET', '/v2/studies?PatientName=%E0%A4%A', JSON_ACCEPT)).status,
        400,
      );
    });

    it('oversized request headers are refused with 431', async () => {
      const response = await rawSocket(
        server,
        `GET /v2/studies HTTP/1.1\r\nHost: x\r\nX-Huge: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
      );
      assert.match(response, /^HTTP\/1\.1 431 /);
    });

    it('bytes that are not HTTP are refused with 400', async () => {
      const response = await rawSocket(server, 'this is not http\r\n\r\n');
      assert.match(response, /^HTTP\/1\.1 400 /);
    });

    it('unknown paths are 404 with a JSON body', async () => {
      for (const path of [
        '/',
        '/v2',
        '/v2/nothing',
        '/v2/studies/1.2.3/unknown',
        '/v2/changefeed/nothing',
        '/favicon.ico',
      ]) {
        const response = await rawRequest(server, 'GET', path, JSON_ACCEPT);
        assert.equal(response.status, 404, path);
        assert.equal((response.json() as { status: number }).status, 404);
      }
    });

    it('a wrong method is 405 with Allow', async () => {
      const response = await rawRequest(server, 'PATCH', '/v2/studies/1.2.3');
      assert.equal(response.status, 405);
      assert.match(String(response.headers.allow), /GET/);
    });

    it('QIDO refuses bad limits, unknown attributes and unknown includefields with 400', async () => {
      for (const query of [
        'limit=0',
        'limit=201',
        'limit=abc',
        'offset=-1',
        'NoSuchAttribute=1',
        'includefield=NoSuchKeyword',
        'SOPInstanceUID=1.2',
        'fuzzymatching=maybe',
      ]) {
        const response = await rawRequest(server, 'GET', `/v2/studies?${query}`, JSON_ACCEPT);
        assert.equal(response.status, 400, `${query}: ${response.text}`);
      }
    });

    it('QIDO refuses a non-JSON Accept with 406', async () => {
      const response = await rawRequest(server, 'GET', '/v2/studies', {
        accept: 'application/dicom+xml',
      });
      assert.equal(response.status, 406);
    });
  });
});

describe('the optional bearer token', () => {
  let server: LocalServer;
  before(async () => {
    server = await startTestServer({ token: 's3cret-token' });
  });
  after(() => server.close());

  it('401 with WWW-Authenticate without a token or with a wrong one; 200/204 with the right one', async () => {
    const none = await rawRequest(server, 'GET', '/v2/studies', JSON_ACCEPT);
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^Bearer/);
    const wrong = await rawRequest(server, 'GET', '/v2/studies', {
      ...JSON_ACCEPT,
      authorization: 'Bearer nope',
    });
    assert.equal(wrong.status, 401);
    const right = await rawRequest(server, 'GET', '/v2/studies', {
      ...JSON_ACCEPT,
      authorization: 'Bearer s3cret-token',
    });
    assert.equal(right.status, 204);
  });
});
