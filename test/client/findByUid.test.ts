/**
 * Locating a UID on a real server (src/dicomweb/locate.ts), on Orthanc and on the local
 * server with the tutorial's three instances: a bare UID at each level found by QIDO with
 * its parents' rows, URLs whose parents agree or not, a UID that exists nowhere, and a
 * server that ignores the UID matching key (the real server asked without the key, which
 * is exactly what such a server answers).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  LOCATE_ROW_LIMIT,
  locateUid,
  parseUidInput,
  type DicomJsonDataset,
  type DicomWebClient,
  type LocateOutcome,
  type Located,
  type UidSearcher,
} from '../../src/dicomweb';
import { Tag } from '../../src/dicom/tags';
import { STUDY_FIELDS } from '../../src/tree/models/study';
import { SERIES_FIELDS } from '../../src/tree/models/series';
import { INSTANCE_FIELDS } from '../../src/tree/models/instance';
import { tempDir } from '../support/env';
import { TARGETS, type RunningTarget } from '../support/targets';
import { SEED, writeSeedFiles } from '../support/seedData';
import { uidFromString, writeSmallInstances } from '../support/bulkData';

const FIELDS = { study: STUDY_FIELDS, series: SERIES_FIELDS, instance: INSTANCE_FIELDS };
const S = SEED.studyInstanceUid;
const TRIANGLE = SEED.redTriangle;
const CIRCLE = SEED.blueCircle;

const uidOf = (row: DicomJsonDataset | undefined, tag: string): unknown => row?.[tag]?.Value?.[0];

function found(outcome: LocateOutcome): Located {
  assert.ok(
    'found' in outcome,
    `expected a find, got: ${'notFound' in outcome ? outcome.notFound : ''}`,
  );
  return outcome.found;
}

function notFound(outcome: LocateOutcome): string {
  assert.ok('notFound' in outcome, `expected nothing found, got level ${JSON.stringify(outcome)}`);
  return outcome.notFound;
}

for (const target of TARGETS)
  describe(`Find by UID against ${target.name}`, () => {
    let running: RunningTarget;
    let client: DicomWebClient;
    const where = `${target.name} (test)`;
    const locate = (text: string, searcher: UidSearcher = client) =>
      locateUid(searcher, parseUidInput(text), where, FIELDS);

    before(async () => {
      running = await target.start();
      client = running.client;
      const files = await writeSeedFiles(tempDir('find'));
      assert.equal((await client.storeInstances(files)).stored, 3);
    });
    after(() => running.close());

    it('finds a bare Study Instance UID at the study level, with the row the tree shows', async () => {
      const at = found(await locate(S));
      assert.equal(at.level, 'study');
      assert.equal(uidOf(at.study, Tag.StudyInstanceUID), S);
      assert.equal(uidOf(at.study, Tag.StudyDescription), 'DICOMweb tutorial shapes');
      assert.equal(at.series, undefined);
    });

    it('finds a bare Series Instance UID and its study', async () => {
      const at = found(await locate(CIRCLE.seriesInstanceUid));
      assert.equal(at.level, 'series');
      assert.equal(uidOf(at.study, Tag.StudyInstanceUID), S);
      assert.equal(uidOf(at.series, Tag.SeriesInstanceUID), CIRCLE.seriesInstanceUid);
      assert.equal(uidOf(at.series, Tag.Modality), 'OT');
      assert.equal(at.warning, undefined);
    });

    it('finds a bare SOP Instance UID, its series and its study', async () => {
      const at = found(await locate(TRIANGLE.sopInstanceUid));
      assert.equal(at.level, 'instance');
      assert.equal(uidOf(at.study, Tag.StudyInstanceUID), S);
      assert.equal(uidOf(at.series, Tag.SeriesInstanceUID), TRIANGLE.seriesInstanceUid);
      assert.equal(uidOf(at.instance, Tag.SOPInstanceUID), TRIANGLE.sopInstanceUid);
    });

    it('finds what a WADO-RS URL and a WADO-URI URL name, parents agreeing', async () => {
      const rs = found(
        await locate(
          `http://elsewhere/dicom-web/studies/${S}/series/${TRIANGLE.seriesInstanceUid}/instances/${TRIANGLE.sopInstanceUid}/frames/1`,
        ),
      );
      assert.equal(rs.level, 'instance');
      assert.equal(rs.warning, undefined);
      const uri = found(
        await locate(
          `http://elsewhere/wado?requestType=WADO&studyUID=${S}&seriesUID=${CIRCLE.seriesInstanceUid}`,
        ),
      );
      assert.equal(uri.level, 'series');
      assert.equal(uidOf(uri.series, Tag.SeriesInstanceUID), CIRCLE.seriesInstanceUid);
    });

    it('says where a URL is wrong about the parents, and shows the real place', async () => {
      const wrongStudy = uidFromString('find/not-this-study');
      const at = found(
        await locate(
          `http://h/studies/${wrongStudy}/series/${CIRCLE.seriesInstanceUid}/instances/${TRIANGLE.sopInstanceUid}`,
        ),
      );
      assert.equal(uidOf(at.series, Tag.SeriesInstanceUID), TRIANGLE.seriesInstanceUid);
      assert.equal(
        at.warning,
        `The DICOMweb URL puts instance ${TRIANGLE.sopInstanceUid} in series ${CIRCLE.seriesInstanceUid} of study ${wrongStudy}, but on ${where} it is in series ${TRIANGLE.seriesInstanceUid} of study ${S}; showing it there.`,
      );
    });

    it('says exactly what was not found where: a bare UID, and a URL at a known level', async () => {
      const nowhere = uidFromString('find/nowhere');
      assert.equal(
        notFound(await locate(nowhere)),
        `UID ${nowhere} was not found on ${where}: no study, series or instance has it.`,
      );
      assert.equal(
        notFound(await locate(`http://h/studies/${S}/series/${nowhere}`)),
        `Series Instance UID ${nowhere} was not found on ${where}: no series has it (the DICOMweb URL puts it in study ${S}).`,
      );
    });

    it('does not trust a server that ignores the UID key: rows of other UIDs are no find', async () => {
      const ignoring: UidSearcher = {
        search: (level, scope, query, options) =>
          client.search(level, scope, { ...query, match: {} }, options),
      };
      const nowhere = uidFromString('find/ignored');
      const sentence = notFound(await locate(nowhere, ignoring));
      assert.match(sentence, new RegExp(`^UID ${nowhere.replace(/\./g, '\\.')} was not found`));
      assert.match(
        sentence,
        /the study search answered 1 study with another UID: the server seems to ignore StudyInstanceUID/,
      );
      assert.match(sentence, /the instance search answered 3 instances with other UIDs/);
      // And a real UID is still found through such a server: the matching row is picked out.
      assert.equal(found(await locate(CIRCLE.sopInstanceUid, ignoring)).level, 'instance');
    });

    it('names a level the server refuses and still searches the others', async () => {
      // A server without the all-studies series search (`GET /series`, PS3.18 §10.6.1.2), made
      // of a real one: `limit=abc` is a real 400 from Orthanc ("Bad file format") and the
      // local server alike. The study-scoped series search still works.
      const refusingSeries: UidSearcher = {
        search: (level, scope, query, options) =>
          client.search(
            level,
            scope,
            level === 'series' && !scope.studyInstanceUid
              ? { ...query, limit: undefined, params: { limit: 'abc' } }
              : query,
            options,
          ),
      };
      assert.equal(found(await locate(TRIANGLE.sopInstanceUid, refusingSeries)).level, 'instance');
      const nowhere = uidFromString('find/refused');
      assert.match(
        notFound(await locate(nowhere, refusingSeries)),
        /: no study, series or instance has it\. Note: the server refused the series search \(400\b/,
      );
      assert.match(
        notFound(await locate(`http://h/studies/${S}/series/${nowhere}`, refusingSeries)),
        /^Series Instance UID \S+ could not be looked for on .*: the server refused the series search \(400\b/,
      );
    });

    it(`asks a server that ignores the key for ${LOCATE_ROW_LIMIT} rows a level, no more`, async () => {
      const extra = await writeSmallInstances(tempDir('find-many'), LOCATE_ROW_LIMIT + 2, {
        seed: `find-many-${target.kind}`,
      });
      assert.equal((await client.storeInstances(extra.map((entry) => entry.path))).stored, 12);
      const answered: Array<{ limit?: number; rows: number }> = [];
      const ignoring: UidSearcher = {
        search: async (level, scope, query, options) => {
          const result = await client.search(level, scope, { ...query, match: {} }, options);
          answered.push({ limit: query.limit, rows: result.items.length });
          return result;
        },
      };
      const sentence = notFound(await locate(uidFromString('find/many'), ignoring));
      assert.match(sentence, /the instance search answered 10 or more instances with other UIDs/);
      assert.deepEqual(
        answered.map((answer) => answer.limit),
        [LOCATE_ROW_LIMIT, LOCATE_ROW_LIMIT, LOCATE_ROW_LIMIT],
      );
      assert.equal(answered[2]!.rows, LOCATE_ROW_LIMIT, 'the server had more and sent the limit');
    });
  });
