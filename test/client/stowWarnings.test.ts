/**
 * Instances the Azure service stores with a warning, stored through the client on every target:
 * an empty PatientID (0010,0020) (pydicom's deflated samples; common in anonymised data) and an
 * Implicit VR Little Endian file. Each target stores them, as DIFFERENCES in
 * test/support/targets.ts says (the local server, as Azure v2, with a warning and 202).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DicomWebClient } from '../../src/dicomweb';
import { IMPLICIT_VR_LITTLE_ENDIAN, type ImageInstanceParams } from '../support/dicomWriter';
import { smallImageParams, writeInstanceFile } from '../support/smallInstance';
import { TARGETS, type RunningTarget } from '../support/targets';

/** An instance as anonymised data often is: no real name. */
function instance(name: string, overrides: Partial<ImageInstanceParams>): ImageInstanceParams {
  return smallImageParams(name, { patientName: 'Anonymous', ...overrides });
}

for (const target of TARGETS)
  describe(`STOW warnings on ${target.name}`, () => {
    let running: RunningTarget;
    let client: DicomWebClient;
    before(async () => {
      running = await target.start();
      client = running.client;
    });
    after(() => running.close());

    async function storeAndFind(
      params: ImageInstanceParams,
      expected: 'stored' | { warning: number },
    ): Promise<void> {
      const file = await writeInstanceFile(params);
      const [outcome] = (await client.storeInstances([file])).outcomes;
      if (expected === 'stored') {
        assert.equal(outcome.status, 'stored', JSON.stringify(outcome));
        assert.equal(outcome.httpStatus, 200);
      } else {
        assert.equal(outcome.status, 'warning', JSON.stringify(outcome));
        assert.equal(outcome.httpStatus, 202);
        assert.equal(outcome.reasonCode, expected.warning);
      }
      const found = await client.searchForInstances({
        match: { StudyInstanceUID: params.studyUid },
      });
      assert.deepEqual(
        found.items.map((item) => item['00080018']?.Value?.[0]),
        [params.sopInstanceUid],
      );
    }

    it(`an empty PatientID is ${target.behaviour.emptyPatientIdStow}, and searchable`, async () => {
      await storeAndFind(
        instance('empty-pid', { patientId: '' }),
        target.behaviour.emptyPatientIdStow === 'stored' ? 'stored' : { warning: 1 },
      );
    });

    it(`an Implicit VR file is ${target.behaviour.implicitVrStow}, and searchable`, async () => {
      await storeAndFind(
        instance('implicit-vr', { transferSyntaxUid: IMPLICIT_VR_LITTLE_ENDIAN }),
        target.behaviour.implicitVrStow === 'stored' ? 'stored' : { warning: 45063 },
      );
    });
  });
