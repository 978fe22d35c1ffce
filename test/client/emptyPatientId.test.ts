/**
 * An instance whose PatientID (0010,0020) is present but empty (2 of pydicom's samples, and
 * common in anonymised data), stored through the client on every target: each stores it, as
 * DIFFERENCES in test/support/targets.ts says (the local server, as Azure v2, with a warning).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DicomWebClient } from '../../src/dicomweb';
import { makeImageInstance } from '../support/dicomWriter';
import { tempDir } from '../support/env';
import { TARGETS, type RunningTarget } from '../support/targets';
import { uidFromString } from '../support/bulkData';

for (const target of TARGETS)
  describe(`an empty PatientID at STOW on ${target.name}`, () => {
    let running: RunningTarget;
    let client: DicomWebClient;
    before(async () => {
      running = await target.start();
      client = running.client;
    });
    after(() => running.close());

    it(`is ${target.behaviour.emptyPatientIdStow}, and searchable by its study`, async () => {
      const studyUid = uidFromString('empty-pid/study');
      const sopInstanceUid = uidFromString('empty-pid/instance');
      const file = join(tempDir('empty-pid'), 'empty-pid.dcm');
      await writeFile(
        file,
        makeImageInstance({
          studyUid,
          seriesUid: uidFromString('empty-pid/series'),
          sopInstanceUid,
          patientName: 'Anonymous',
          patientId: '',
          studyDate: '20240101',
          modality: 'OT',
          rows: 4,
          columns: 4,
          samplesPerPixel: 1,
          photometric: 'MONOCHROME2',
          bitsAllocated: 8,
          pixelData: new Uint8Array(16),
          instanceNumber: 1,
          seriesNumber: 1,
          studyDescription: 'Empty PatientID',
          seriesDescription: 'Empty PatientID',
          accessionNumber: 'ACC-EMPTY-PID',
        }),
      );
      const summary = await client.storeInstances([file]);
      const [outcome] = summary.outcomes;
      if (target.behaviour.emptyPatientIdStow === 'stored-with-warning') {
        assert.equal(outcome.status, 'warning', JSON.stringify(outcome));
        assert.equal(outcome.httpStatus, 202);
      } else {
        assert.equal(outcome.status, 'stored', JSON.stringify(outcome));
        assert.equal(outcome.httpStatus, 200);
      }
      const found = await client.searchForInstances({ match: { StudyInstanceUID: studyUid } });
      assert.deepEqual(
        found.items.map((item) => item['00080018']?.Value?.[0]),
        [sopInstanceUid],
      );
      await running.reset();
    });
  });
