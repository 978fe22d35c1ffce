/**
 * Upload and Replace (`storeInstances` with `replace: true`, `PUT /studies`) through the
 * client on every target, as DIFFERENCES in test/support/targets.ts says: the local server
 * replaces the stored instance (Azure v2's upsert) and the client reports it replaced, a new
 * file new; Orthanc refuses PUT (405) and every file is reported failed, nothing replaced.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DicomWebClient } from '../../src/dicomweb';
import { Tag } from '../../src/dicom/tags';
import { uidFromString } from '../support/bulkData';
import type { ImageInstanceParams } from '../support/dicomWriter';
import { smallImageParams, writeInstanceFile } from '../support/smallInstance';
import { TARGETS, type RunningTarget } from '../support/targets';

function instance(name: string, seriesDescription: string): ImageInstanceParams {
  return smallImageParams(name, { patientName: 'Upsert^Test', seriesDescription });
}

for (const target of TARGETS)
  describe(`Upload and Replace on ${target.name}`, () => {
    let running: RunningTarget;
    let client: DicomWebClient;
    before(async () => {
      running = await target.start();
      client = running.client;
    });
    after(() => running.close());

    it(`a changed instance is ${target.behaviour.upsert}, a new one ${target.behaviour.upsert === 'replaced' ? 'new' : 'refused too'}`, async () => {
      const original = instance('client-upsert', 'first');
      const fresh = instance('client-upsert-fresh', 'fresh');
      assert.equal((await client.storeInstances([await writeInstanceFile(original)])).stored, 1);
      const changed = await writeInstanceFile({ ...original, seriesDescription: 'second' });
      const summary = await client.storeInstances([changed, await writeInstanceFile(fresh)], {
        replace: true,
      });
      const [metadata] = await client.retrieveInstanceMetadata(
        original.studyUid,
        original.seriesUid,
        original.sopInstanceUid,
      );
      const description = metadata?.[Tag.SeriesDescription]?.Value?.[0];
      if (target.behaviour.upsert === 'replaced') {
        assert.deepEqual(
          summary.outcomes.map((o) => [o.status, o.replaced]),
          [
            ['stored', true],
            ['stored', false],
          ],
        );
        assert.equal(description, 'second');
      } else {
        assert.deepEqual(
          summary.outcomes.map((o) => [o.status, o.httpStatus, o.replaced]),
          [
            ['failed', 405, undefined],
            ['failed', 405, undefined],
          ],
        );
        assert.equal(description, 'first', 'the stored instance is untouched');
        assert.ok(
          summary.outcomes.every((o) => o.verified === undefined),
          'a 405 is a clear answer: nothing is looked up, nothing called unknown',
        );
      }
    });

    // PUT /studies/{study} with the client's own study check off, so the server's answer is
    // what the report shows: the file of another study is refused with 0xA901 (43265), as the
    // Azure DICOM service answers a study-targeted store (PS3.18 §10.5.1), the others stored.
    it(`into one study, a file of another study is ${target.behaviour.upsert === 'replaced' ? 'refused by the server with 43265' : 'refused with the rest (405)'}`, async () => {
      const original = instance('client-upsert-study', 'first');
      const sibling = {
        ...instance('client-upsert-study', 'sibling'),
        sopInstanceUid: uidFromString('client-upsert-study/sibling'),
      };
      const other = instance('client-upsert-study-other', 'other');
      assert.equal(
        (
          await client.storeInstances([
            await writeInstanceFile(original),
            await writeInstanceFile(sibling),
          ])
        ).stored,
        2,
      );
      const summary = await client.storeInstances(
        [
          await writeInstanceFile({ ...original, seriesDescription: 'second' }),
          await writeInstanceFile(other),
        ],
        { replace: true, studyInstanceUid: original.studyUid, checkStudyLocally: false },
      );
      const description = async (params: ImageInstanceParams) => {
        const [metadata] = await client.retrieveInstanceMetadata(
          params.studyUid,
          params.seriesUid,
          params.sopInstanceUid,
        );
        return metadata?.[Tag.SeriesDescription]?.Value?.[0];
      };
      const others = await client.searchForStudies({
        match: { StudyInstanceUID: other.studyUid },
      });
      assert.equal(others.items.length, 0, 'nothing of the other study was stored');
      assert.equal(
        await description(sibling),
        'sibling',
        "the study's other instance is untouched",
      );
      if (target.behaviour.upsert === 'replaced') {
        assert.deepEqual(
          summary.outcomes.map((o) => [o.status, o.replaced, o.reasonCode]),
          [
            ['stored', true, undefined],
            ['failed', undefined, 43265],
          ],
        );
        assert.equal(await description(original), 'second');
      } else {
        assert.deepEqual(
          summary.outcomes.map((o) => [o.status, o.httpStatus]),
          [
            ['failed', 405],
            ['failed', 405],
          ],
        );
        assert.equal(await description(original), 'first');
      }
    });
  });
