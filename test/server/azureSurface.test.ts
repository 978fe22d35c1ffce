/**
 * What the local server adds to the shared seed suite (test/client/seedTutorial.test.ts,
 * which runs the tutorial against Orthanc and this server; test/support/targets.ts lists
 * their differences): the Azure DICOM service's surface in detail.
 *
 * Where the local server answers differently from Orthanc it answers as Azure does:
 *   - single-part `Content-Type: application/dicom` STOW is stored (Orthanc: 415);
 *   - single-part `Accept: application/dicom` retrieve is served (Orthanc: 400);
 *   - DELETE is the DICOMweb path answering 204/404 (Orthanc: 405, REST API instead);
 *   - a search without match is 204 No Content (Orthanc: 200 `[]`); the client reads both as empty;
 *   - `/rendered` is not offered (404): the local server does not render images.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DicomWebHttpError, readPartBody, type DicomWebClient } from '../../src/dicomweb';
import type { LocalServer } from '../../src/server';
import { drawShape, SEED, writeSeedFiles } from '../support/seedData';
import { localClient, rawRequest, startTestServer, stringOf, tempDir } from './helpers';

const STUDY = SEED.studyInstanceUid;
const SHAPES_SERIES = SEED.redTriangle.seriesInstanceUid;
const TRIANGLE = SEED.redTriangle.sopInstanceUid;

describe("the local server's Azure surface", () => {
  let server: LocalServer;
  let client: DicomWebClient;
  let files: { green: string; red: string; blue: string };

  before(async () => {
    server = await startTestServer();
    client = localClient(server);
    const dir = tempDir('seed-files');
    await writeSeedFiles(dir);
    files = {
      green: join(dir, SEED.greenSquare.fileName),
      red: join(dir, SEED.redTriangle.fileName),
      blue: join(dir, SEED.blueCircle.fileName),
    };
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  describe('STOW-RS', () => {
    // The shared seed suite (test/client/seedTutorial.test.ts) stores these the tutorial's
    // three ways against this server too; here: the exact RetrieveURL Azure answers.
    it("answers each stored instance's RetrieveURL under the /v2 prefix the request used", async () => {
      const summary = await client.storeInstances([files.red, files.blue, files.green]);
      assert.equal(summary.stored, 3, JSON.stringify(summary.outcomes));
      const expected = [SEED.redTriangle, SEED.blueCircle, SEED.greenSquare].map(
        (instance) =>
          `${server.url}/v2/studies/${STUDY}/series/${instance.seriesInstanceUid}/instances/${instance.sopInstanceUid}`,
      );
      assert.deepEqual(
        summary.outcomes.map((outcome) => outcome.retrieveUrl),
        expected,
      );
    });

    it('accepts the multipart Content-Type forms the tutorial lists: quoted, unquoted and without type', async () => {
      const bytes = await readFile(files.green);
      for (const type of [
        'multipart/related; type="application/dicom"; boundary=ABCD1234',
        'multipart/related; type=application/dicom; boundary=ABCD1234',
        'multipart/related; boundary=ABCD1234',
      ]) {
        // cURL's --form parts carry Content-Disposition besides the type: tolerated.
        const body = Buffer.concat([
          Buffer.from(
            '--ABCD1234\r\nContent-Disposition: form-data; name="file1"; filename="green-square.dcm"\r\nContent-Type: application/dicom\r\n\r\n',
          ),
          bytes,
          Buffer.from('\r\n--ABCD1234--\r\n'),
        ]);
        const response = await rawRequest(
          server,
          'POST',
          '/v2/studies',
          { 'content-type': type, accept: 'application/dicom+json' },
          body,
        );
        // Already stored: Azure's duplicate answer (409, FailureReason 45070), proof the part was
        // read.
        assert.equal(response.status, 409, `${type}: ${response.text}`);
        const failed = (
          response.json() as Record<string, { Value: Array<Record<string, { Value: unknown[] }>> }>
        )['00081198']!.Value[0]!;
        assert.deepEqual(failed['00081197']!.Value, [45070]);
      }
    });
  });

  describe('WADO-RS', () => {
    it('retrieves the study in Explicit VR Little Endian (the default) since it is stored so', async () => {
      let count = 0;
      for await (const part of client.retrieveStudy(STUDY, {
        transferSyntax: '1.2.840.10008.1.2.1',
      })) {
        await readPartBody(part);
        count++;
      }
      assert.equal(count, 3);
    });

    it('retrieves the metadata of every instance in the study, bulk data by URI and PN as objects', async () => {
      const metadata = await client.retrieveStudyMetadata(STUDY);
      assert.equal(metadata.length, 3);
      const uids = metadata.map((item) => stringOf(item, '00080018')).sort();
      assert.deepEqual(
        uids,
        [
          SEED.greenSquare.sopInstanceUid,
          SEED.redTriangle.sopInstanceUid,
          SEED.blueCircle.sopInstanceUid,
        ].sort(),
      );
      for (const item of metadata) {
        assert.equal(stringOf(item, '0020000D'), STUDY);
        assert.ok(
          item['7FE00010']?.BulkDataURI,
          'pixel data is referenced by a BulkDataURI, not inlined',
        );
        assert.deepEqual(item['00100010']?.Value, [{ Alphabetic: 'Test^Shapes' }]);
        assert.equal(
          item['00020010'],
          undefined,
          'File Meta Information is not part of the metadata',
        );
        assert.deepEqual(
          Object.keys(item),
          Object.keys(item).sort(),
          'keys ascend (PS3.18 §F.2.1.1)',
        );
      }
    });

    it("retrieves a single instance as bare application/dicom (the seed's Accept: application/dicom; transfer-syntax=*)", async () => {
      const part = await client.retrieveInstanceFile({
        studyInstanceUid: STUDY,
        seriesInstanceUid: SHAPES_SERIES,
        sopInstanceUid: TRIANGLE,
      });
      assert.equal(part.mediaType, 'application/dicom');
      const bytes = await readPartBody(part);
      assert.equal(Buffer.compare(Buffer.from(bytes), await readFile(files.red)), 0);
    });

    it('retrieves the metadata of a single instance', async () => {
      const [metadata] = await client.retrieveInstanceMetadata(STUDY, SHAPES_SERIES, TRIANGLE);
      assert.equal(stringOf(metadata, '00080018'), TRIANGLE);
      assert.equal(stringOf(metadata, '00080016'), SEED.redTriangle.sopClassUid);
      assert.deepEqual(metadata['00280010']?.Value, [64], 'US values are numbers');
    });

    it('retrieves frame 1 as stored (transfer-syntax=*) and with no syntax (the default)', async () => {
      const target = {
        studyInstanceUid: STUDY,
        seriesInstanceUid: SHAPES_SERIES,
        sopInstanceUid: TRIANGLE,
      };
      const [stored] = await client.retrieveInstanceFrames(target, [1], { transferSyntax: '*' });
      assert.equal(stored.mediaType, 'application/octet-stream');
      assert.equal(stored.data.length, 64 * 64 * 3);
      const [plain] = await client.retrieveInstanceFrames(target, [1]);
      assert.deepEqual(Buffer.from(plain.data), Buffer.from(drawShape('redTriangle')));
    });
  });

  describe('QIDO-RS: the six forms of the seed', () => {
    it('answers on /v1 and without a version prefix too', async () => {
      for (const version of ['v1', '']) {
        const other = localClient(server, version);
        const result = await other.searchForStudies({ match: { StudyInstanceUID: STUDY } });
        assert.equal(result.items.length, 1, `prefix "${version}"`);
        await other.close();
      }
    });
  });

  describe('DELETE (Azure: the DICOMweb path, 204 or 404)', () => {
    it('deletes the study; its metadata is then 404 and its files are gone', async () => {
      await client.deleteStudy(STUDY);
      const studies = await client.searchForStudies({ match: { StudyInstanceUID: STUDY } });
      assert.equal(studies.items.length, 0);
      await assert.rejects(
        client.retrieveStudyMetadata(STUDY),
        (error: unknown) => error instanceof DicomWebHttpError && error.status === 404,
      );
      const { readdir } = await import('node:fs/promises');
      assert.deepEqual(
        (await readdir(server.dir)).filter((name) => !name.startsWith('.')),
        [],
        'no file or empty folder is left',
      );
    });
  });
});
