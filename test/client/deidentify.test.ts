/**
 * A de-identified batch (PS3.15 Annex E, src/dicom/deidentify/) uploaded to a real Orthanc
 * keeps its study/series structure: one study of two series of three instances before is one
 * study of two series of three instances after, under new UIDs, with no trace of the old
 * ones or of the patient's name on the server.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { DeidentifyBatch } from '../../src/dicom/deidentify/batch';
import { deidentifyFiles } from '../../src/dicom/deidentify/files';
import { readDataSet } from '../../src/dicom/part10';
import type { DicomJsonDataset, DicomWebClient } from '../../src/dicomweb';
import { uidFromString } from '../support/bulkData';
import { imageInstanceElements, writePart10 } from '../support/dicomWriter';
import { orthancClient, resetOrthanc, tempDir } from '../support/env';

const SERIES = 2;
const PER_SERIES = 3;
const STUDY = uidFromString('deid/study');

function value(dataset: DicomJsonDataset, tag: string): unknown {
  return dataset[tag]?.Value?.[0];
}

async function writeStudy(dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (let s = 1; s <= SERIES; s++) {
    for (let i = 1; i <= PER_SERIES; i++) {
      const path = join(dir, `s${s}-i${i}.dcm`);
      const elements = imageInstanceElements({
        studyUid: STUDY,
        seriesUid: uidFromString(`deid/series/${s}`),
        sopInstanceUid: uidFromString(`deid/instance/${s}/${i}`),
        patientName: 'Identifiable^Patient',
        patientId: 'DEID-PATIENT-1',
        studyDate: '20230615',
        modality: 'OT',
        rows: 2,
        columns: 2,
        samplesPerPixel: 1,
        photometric: 'MONOCHROME2',
        bitsAllocated: 8,
        pixelData: new Uint8Array([s, i, 0, 255]),
        instanceNumber: i,
        seriesNumber: s,
        studyDescription: 'Identifiable study',
        seriesDescription: `Series ${s}`,
        accessionNumber: 'DEIDACC1',
      });
      await writeFile(path, writePart10(elements));
      paths.push(path);
    }
  }
  return paths;
}

describe('a de-identified batch uploaded to Orthanc', () => {
  let client: DicomWebClient;
  let newStudy: string;

  before(async () => {
    await resetOrthanc();
    client = orthancClient();
    const dir = tempDir('deid');
    const sources = await writeStudy(join(dir));
    const batch = new DeidentifyBatch(['retainLongitudinalModifiedDates']);
    const results = await deidentifyFiles(sources, batch, (source) => `${source}.deid`);
    assert.deepEqual(
      results.filter((r) => r.error),
      [],
    );
    const summary = await client.storeInstances(results.map((r) => r.output!));
    assert.equal(summary.stored, SERIES * PER_SERIES);
    newStudy = readDataSet(await readFile(results[0]!.output!)).string('x0020000d')!;
  });

  it('is one study of the same series and instance counts, under a new Study Instance UID', async () => {
    assert.notEqual(newStudy, STUDY);
    const studies = await client.searchForStudies({});
    assert.deepEqual(
      studies.items.map((s) => value(s, '0020000D')),
      [newStudy],
    );
    const series = await client.searchForSeries({}, { studyInstanceUid: newStudy });
    assert.equal(series.items.length, SERIES);
    for (const one of series.items) {
      const seriesInstanceUid = value(one, '0020000E') as string;
      const oldSeries = [1, 2].map((s) => uidFromString(`deid/series/${s}`));
      assert.ok(!oldSeries.includes(seriesInstanceUid), 'a new Series Instance UID');
      const instances = await client.searchForInstances(
        {},
        { studyInstanceUid: newStudy, seriesInstanceUid },
      );
      assert.equal(instances.items.length, PER_SERIES, `instances of series ${seriesInstanceUid}`);
    }
  });

  it('holds no old UID and no patient name, and the study date moved', async () => {
    const old = await client.searchForStudies({ match: { StudyInstanceUID: STUDY } });
    assert.equal(old.items.length, 0);
    const [study] = (await client.searchForStudies({ match: { StudyInstanceUID: newStudy } }))
      .items;
    assert.ok(study);
    assert.equal(value(study, '00100010'), undefined, "Patient's Name is empty");
    const date = value(study, '00080020') as string;
    assert.match(date, /^\d{8}$/);
    assert.ok(date < '20230615', `${date} is shifted back`);
  });
});
