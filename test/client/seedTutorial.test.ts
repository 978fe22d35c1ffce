/**
 * Every request of the seed tutorial ("DICOMweb standard APIs with cURL"), in its order,
 * sent by the client to a real Orthanc and to the extension's local server, with
 * assertions on what the server then holds. Where the two answer differently the suite
 * reads `target.behaviour`; test/support/targets.ts lists each difference with its reason.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DicomWebHttpError,
  readPartBody,
  searchRequest,
  storeRequest,
  type DicomJsonDataset,
  type DicomWebClient,
} from '../../src/dicomweb';
import { tempDir } from '../support/env';
import { TARGETS, type RunningTarget } from '../support/targets';
import { drawShape, SEED, writeSeedFiles } from '../support/seedData';

const STUDY = SEED.studyInstanceUid;

/** First value of a string attribute of a DICOM JSON dataset. */
function getString(dataset: DicomJsonDataset, tag: string): string | undefined {
  const value = dataset[tag]?.Value?.[0];
  return typeof value === 'string' ? value : undefined;
}
const SHAPES_SERIES = SEED.redTriangle.seriesInstanceUid;
const CIRCLE_SERIES = SEED.blueCircle.seriesInstanceUid;
const TRIANGLE = SEED.redTriangle.sopInstanceUid;

for (const target of TARGETS)
  describe(`the seed tutorial against ${target.name}`, () => {
    const behaviour = target.behaviour;
    let running: RunningTarget;
    let client: DicomWebClient;
    let dir: string;
    let files: { green: string; red: string; blue: string };

    before(async () => {
      running = await target.start();
      client = running.client;
      dir = tempDir('seed');
      await writeSeedFiles(dir);
      files = {
        green: join(dir, SEED.greenSquare.fileName),
        red: join(dir, SEED.redTriangle.fileName),
        blue: join(dir, SEED.blueCircle.fileName),
      };
    });
    after(() => running.close());

    describe('STOW-RS', () => {
      it('stores red-triangle with POST /studies (multipart/related)', async () => {
        const summary = await client.storeInstances([files.red]);
        assert.equal(summary.stored, 1, JSON.stringify(summary.outcomes));
        const [outcome] = summary.outcomes;
        assert.equal(outcome.sopInstanceUid, TRIANGLE);
        assert.equal(outcome.httpStatus, 200);
        assert.match(
          outcome.retrieveUrl ?? '',
          new RegExp(`/studies/${STUDY}/series/${SHAPES_SERIES}/instances/${TRIANGLE}$`),
        );
        const found = await client.searchForInstances({ match: { SOPInstanceUID: TRIANGLE } });
        assert.equal(found.items.length, 1);
      });

      it('stores blue-circle with POST /studies/{study}', async () => {
        const summary = await client.storeInstances([files.blue], { studyInstanceUid: STUDY });
        assert.equal(summary.stored, 1, JSON.stringify(summary.outcomes));
        const series = await client.searchForSeries({}, { studyInstanceUid: STUDY });
        assert.deepEqual(
          series.items.map((item) => getString(item, '0020000E')).sort(),
          [SHAPES_SERIES, CIRCLE_SERIES].sort(),
        );
      });

      it(`sends green-square as single-part application/dicom: ${behaviour.singlePartStow}`, async () => {
        const summary = await client.storeInstances([files.green], { mode: 'single' });
        const [outcome] = summary.outcomes;
        const found = await client.searchForInstances({
          match: { SOPInstanceUID: SEED.greenSquare.sopInstanceUid },
        });
        if (behaviour.singlePartStow === 'stored') {
          assert.equal(outcome.status, 'stored', JSON.stringify(outcome));
          assert.equal(outcome.httpStatus, 200);
          assert.equal(found.items.length, 1);
        } else {
          assert.equal(outcome.status, 'failed');
          assert.equal(outcome.httpStatus, 415);
          assert.equal(found.items.length, 0, 'a refused request stores nothing');
        }
      });

      it(`stores green-square the standard way (a duplicate where it is already stored: ${behaviour.duplicateStow})`, async () => {
        const summary = await client.storeInstances([files.green]);
        const [outcome] = summary.outcomes;
        if (behaviour.singlePartStow === 'stored' && behaviour.duplicateStow === 'failed-45070') {
          assert.equal(outcome.status, 'failed');
          assert.equal(outcome.reasonCode, 45070);
          assert.equal(outcome.httpStatus, 409);
        } else {
          assert.equal(outcome.status, 'stored', JSON.stringify(outcome));
        }
        const found = await client.searchForInstances({
          match: { SOPInstanceUID: SEED.greenSquare.sopInstanceUid },
        });
        assert.equal(found.items.length, 1, 'exactly one copy on the server');
      });
    });

    describe('WADO-RS', () => {
      it('retrieves all instances of the study as multipart (transfer-syntax=*), byte-equal to the uploaded files', async () => {
        const uploaded = await Promise.all(
          [files.green, files.red, files.blue].map((file) => readFile(file)),
        );
        const parts: Uint8Array[] = [];
        for await (const part of client.retrieveStudy(STUDY)) {
          assert.equal(part.mediaType, 'application/dicom');
          parts.push(await readPartBody(part));
        }
        assert.equal(parts.length, 3);
        for (const original of uploaded) {
          assert.ok(
            parts.some((part) => Buffer.compare(Buffer.from(part), original) === 0),
            'each uploaded file comes back byte for byte',
          );
        }
      });

      it('retrieves the metadata of every instance in the study', async () => {
        const metadata = await client.retrieveStudyMetadata(STUDY);
        assert.equal(metadata.length, 3);
        const uids = metadata.map((item) => getString(item, '00080018')).sort();
        assert.deepEqual(
          uids,
          [
            SEED.greenSquare.sopInstanceUid,
            SEED.redTriangle.sopInstanceUid,
            SEED.blueCircle.sopInstanceUid,
          ].sort(),
        );
        for (const item of metadata) {
          assert.equal(getString(item, '0020000D'), STUDY);
          assert.ok(
            item['7FE00010']?.BulkDataURI,
            'pixel data is referenced by a BulkDataURI, not inlined',
          );
        }
      });

      it('retrieves all instances of a series', async () => {
        const parts: Uint8Array[] = [];
        for await (const part of client.retrieveSeries(STUDY, SHAPES_SERIES))
          parts.push(await readPartBody(part));
        assert.equal(parts.length, 2);
      });

      it('retrieves the metadata of a series', async () => {
        const metadata = await client.retrieveSeriesMetadata(STUDY, SHAPES_SERIES);
        assert.equal(metadata.length, 2);
        assert.ok(metadata.every((item) => getString(item, '0020000E') === SHAPES_SERIES));
      });

      it('retrieves a single instance (the seed asks application/dicom; the client falls back to multipart on Orthanc)', async () => {
        const part = await client.retrieveInstanceFile({
          studyInstanceUid: STUDY,
          seriesInstanceUid: SHAPES_SERIES,
          sopInstanceUid: TRIANGLE,
        });
        const bytes = await readPartBody(part);
        assert.equal(Buffer.compare(Buffer.from(bytes), await readFile(files.red)), 0);
      });

      it('retrieves the metadata of a single instance', async () => {
        const [metadata] = await client.retrieveInstanceMetadata(STUDY, SHAPES_SERIES, TRIANGLE);
        assert.equal(getString(metadata, '00080018'), TRIANGLE);
        assert.equal(getString(metadata, '00080016'), SEED.redTriangle.sopClassUid);
      });

      it('retrieves frame 1 in Explicit VR Little Endian: the triangle pixels exactly', async () => {
        const target = {
          studyInstanceUid: STUDY,
          seriesInstanceUid: SHAPES_SERIES,
          sopInstanceUid: TRIANGLE,
        };
        const [frame] = await client.retrieveInstanceFrames(target, [1], {
          transferSyntax: '1.2.840.10008.1.2.1',
        });
        assert.equal(frame.frameNumber, 1);
        assert.equal(frame.mediaType, 'application/octet-stream');
        assert.deepEqual(Buffer.from(frame.data), Buffer.from(drawShape('redTriangle')));
      });

      it('retrieves frame 1 as stored (transfer-syntax=*) with its media type', async () => {
        const target = {
          studyInstanceUid: STUDY,
          seriesInstanceUid: SHAPES_SERIES,
          sopInstanceUid: TRIANGLE,
        };
        const [frame] = await client.retrieveInstanceFrames(target, [1], { transferSyntax: '*' });
        assert.equal(frame.mediaType, 'application/octet-stream');
        assert.equal(frame.data.length, 64 * 64 * 3);
      });

      it('gets a typed 400 for a frame that does not exist', async () => {
        const target = {
          studyInstanceUid: STUDY,
          seriesInstanceUid: SHAPES_SERIES,
          sopInstanceUid: TRIANGLE,
        };
        await assert.rejects(client.retrieveInstanceFrames(target, [1, 2]), (error: unknown) => {
          assert.ok(error instanceof DicomWebHttpError);
          assert.equal(error.status, 400);
          assert.match(error.url ?? '', /\/frames\/1,2$/);
          return true;
        });
      });

      it(`retrieves a rendered PNG and JPEG with a viewport${behaviour.rendered ? '' : ' (not offered: a typed 404)'}`, async () => {
        const target = {
          studyInstanceUid: STUDY,
          seriesInstanceUid: SHAPES_SERIES,
          sopInstanceUid: TRIANGLE,
        };
        if (!behaviour.rendered) {
          await assert.rejects(
            client.retrieveRendered(target, undefined, { mediaType: 'image/png' }),
            (error: unknown) => error instanceof DicomWebHttpError && error.status === 404,
          );
          return;
        }
        const png = await client.retrieveRendered(target, undefined, { mediaType: 'image/png' });
        assert.equal(png.mediaType, 'image/png');
        assert.deepEqual([...png.data.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
        const jpeg = await client.retrieveRendered(target, 1, {
          mediaType: 'image/jpeg',
          viewport: { width: 32, height: 32 },
          quality: 80,
        });
        assert.equal(jpeg.mediaType, 'image/jpeg');
        assert.deepEqual([...jpeg.data.subarray(0, 2)], [0xff, 0xd8]);
      });

      it('follows the BulkDataURI of the pixel data', async () => {
        const [metadata] = await client.retrieveInstanceMetadata(STUDY, SHAPES_SERIES, TRIANGLE);
        const uri = metadata['7FE00010']?.BulkDataURI;
        assert.ok(uri);
        const parts = await client.retrieveBulkData(uri);
        assert.equal(parts.length, 1);
        assert.deepEqual(Buffer.from(parts[0].data), Buffer.from(drawShape('redTriangle')));
      });
    });

    describe('QIDO-RS: the six forms of the seed', () => {
      it('searches for studies', async () => {
        const result = await client.searchForStudies({ match: { StudyInstanceUID: STUDY } });
        assert.equal(result.items.length, 1);
        assert.equal(getString(result.items[0], '0020000D'), STUDY);
      });
      it('searches for series', async () => {
        const result = await client.searchForSeries({
          match: { SeriesInstanceUID: SHAPES_SERIES },
        });
        assert.deepEqual(
          result.items.map((item) => getString(item, '0020000E')),
          [SHAPES_SERIES],
        );
      });
      it('searches for series within a study', async () => {
        const result = await client.searchForSeries(
          { match: { SeriesInstanceUID: SHAPES_SERIES } },
          { studyInstanceUid: STUDY },
        );
        assert.deepEqual(
          result.items.map((item) => getString(item, '0020000E')),
          [SHAPES_SERIES],
        );
      });
      it('searches for instances', async () => {
        const result = await client.searchForInstances({ match: { SOPInstanceUID: TRIANGLE } });
        assert.deepEqual(
          result.items.map((item) => getString(item, '00080018')),
          [TRIANGLE],
        );
      });
      it('searches for instances within a study', async () => {
        const result = await client.searchForInstances(
          { match: { SOPInstanceUID: TRIANGLE } },
          { studyInstanceUid: STUDY },
        );
        assert.deepEqual(
          result.items.map((item) => getString(item, '00080018')),
          [TRIANGLE],
        );
      });
      it('searches for instances within a study and series', async () => {
        const result = await client.searchForInstances(
          { match: { SOPInstanceUID: TRIANGLE } },
          { studyInstanceUid: STUDY, seriesInstanceUid: SHAPES_SERIES },
        );
        assert.deepEqual(
          result.items.map((item) => getString(item, '00080018')),
          [TRIANGLE],
        );
      });
      it(`an unknown study gives an empty result (${behaviour.noMatchStatus}), not an error`, async () => {
        const result = await client.searchForSeries({}, { studyInstanceUid: '1.2.3.4.5.6.7.8.9' });
        assert.deepEqual(result.items, []);
        assert.equal(result.status, behaviour.noMatchStatus);
      });
    });

    describe("the same requests as the tutorial's cURL commands", () => {
      it('prints the study search the way the tutorial writes it', () => {
        const curl = client.curlOf(
          searchRequest('studies', {}, { match: { StudyInstanceUID: STUDY } }),
        );
        assert.match(
          curl,
          new RegExp(
            `^curl --request GET ".*/studies\\?StudyInstanceUID=${STUDY.replace(/\./g, '\\.')}"`,
          ),
        );
        assert.match(curl, /--header "Accept: application\/dicom\+json"/);
        const store = client.curlOf(storeRequest([files.red]));
        assert.match(
          store,
          /--header "Content-Type: multipart\/related; type=\\"application\/dicom\\""/,
        );
        assert.match(store, /--form "file1=@.*red-triangle\.dcm;type=application\/dicom"/);
      });
    });

    describe(`DELETE (${behaviour.deleteMethod})`, () => {
      it('deletes one instance and nothing else', async () => {
        await client.deleteInstance(STUDY, SHAPES_SERIES, TRIANGLE);
        const gone = await client.searchForInstances({ match: { SOPInstanceUID: TRIANGLE } });
        assert.equal(gone.items.length, 0);
        const left = await client.searchForInstances({}, { studyInstanceUid: STUDY });
        assert.equal(left.items.length, 2);
      });
      it('refuses to delete an instance named under the wrong series, with a 404', async () => {
        await assert.rejects(
          client.deleteInstance(STUDY, CIRCLE_SERIES, SEED.greenSquare.sopInstanceUid),
          (error: unknown) => {
            assert.ok(error instanceof DicomWebHttpError);
            assert.equal(error.status, 404);
            return true;
          },
        );
        const still = await client.searchForInstances({
          match: { SOPInstanceUID: SEED.greenSquare.sopInstanceUid },
        });
        assert.equal(
          still.items.length,
          1,
          'the instance named with the wrong parent was not touched',
        );
      });
      it('deletes a series', async () => {
        await client.deleteSeries(STUDY, SHAPES_SERIES);
        const series = await client.searchForSeries({}, { studyInstanceUid: STUDY });
        assert.deepEqual(
          series.items.map((item) => getString(item, '0020000E')),
          [CIRCLE_SERIES],
        );
      });
      it('deletes the study; its metadata is then 404', async () => {
        await client.deleteStudy(STUDY);
        const studies = await client.searchForStudies({ match: { StudyInstanceUID: STUDY } });
        assert.equal(studies.items.length, 0);
        await assert.rejects(
          client.retrieveStudyMetadata(STUDY),
          (error: unknown) => error instanceof DicomWebHttpError && error.status === 404,
        );
      });
      it('a second delete of the same study is a 404, never a silent success', async () => {
        await assert.rejects(
          client.deleteStudy(STUDY),
          (error: unknown) => error instanceof DicomWebHttpError && error.status === 404,
        );
      });
    });
  });
